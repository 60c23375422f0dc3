"""Fast twin of ScaledDotProductAttention: one pass fewer over the (..., Tq, Tk) scores, no
second array of that size, and the work done in cache-sized blocks.

The reference (``minseq.nn.attention``) computes P = masked_softmax(S) and then P V. The twin
runs ``attention`` and ``attention_backward``, which differ from it in these ways (gains
measured forward+backward, float32, one thread, interleaved):

- the softmax is left unnormalised, E = e^(S - rowmax S), and 1 / rowsum(E) scales the small
  (Tq, dv) product instead of the (Tq, Tk) array: out = (E V) (.) r, r = 1 / rowsum(E); the
  backward's rowsum(dP (.) P) is the equal rowsum(dO (.) O), a (Tq, dv) product;
- masked scores are replaced in place by the row minimum (so the row maximum is taken over the
  allowed keys) and E is multiplied by the mask, so no masked copy of S is made;
- E is written in place into a buffer kept from the last call: a fresh array of that size
  (134 MB at B=16, h=8, T=512) costs more in page faults than the arithmetic done on it (these
  three together: 2.9-4.3x over a softmax with fresh temporaries, on this project's machine;
  the twin against today's reference: 1.3x at (B, T, d_model, h) = (64, 200, 128, 4), 2.3x at
  (16, 512, 256, 8));
- on the CPU the work runs in blocks of about 1 MB of scores (``blocks``, sized per backend in
  ``minseq.fast.buffers``), from the product that makes them to the product that uses them, so
  every softmax pass reads cache, and the backward's dS is one block-sized scratch array:
  attention's forward+backward 95 -> 80 ms (1.19x) at (64, 200, 128, 4), 304 -> 212 ms (1.43x)
  at (16, 512, 256, 8). On a GPU it is one block: the same nine or so launches at any size.

MultiHeadAttention has no arithmetic twin: ``accelerate`` swaps its ``attention`` sub-module,
where the time goes. A twin that also fused its bias additions and input-gradient sums in place
measured the same within noise (180 against 191 ms at (64, 200, 128, 4), 389 against 367 ms at
(16, 512, 256, 8)), so it was removed.
"""

import math

from .. import nn
from ..backend import xp
from ..nn.checks import check_same_shape
from .accelerate import twin
from .buffers import block_bytes, reuse


def blocks(lead, slice_bytes, target):
    """Index tuples that cut the leading axes ``lead`` of a (..., Tq, Tk) array into blocks of
    about ``target`` bytes (``slice_bytes`` per (Tq, Tk) slice): runs of axis 0 while whole rows
    fit, else runs along axis 1 within each row (a block is never smaller than one slice).
    ``target`` None: the whole array, one block."""
    if not lead or target is None:
        yield ()
        return
    per = max(1, target // max(slice_bytes, 1))                  # slices per block
    inner = max(1, math.prod(lead[1:]))
    if per >= inner or len(lead) == 1:
        step = max(1, per // inner)
        for i in range(0, lead[0], step):
            yield (slice(i, i + step),)
        return
    step = max(1, per // max(1, math.prod(lead[2:])))
    for i in range(lead[0]):
        for j in range(0, lead[1], step):
            yield (i, slice(j, j + step))


def attention(q_scaled, k, v, mask=None, scores=None):
    """softmax(q_scaled k^T) v over the last two axes, batched over every leading axis.

    q_scaled (..., Tq, d) already multiplied by 1/sqrt(d) (scaling q costs Tq d multiplications,
    scaling the scores Tq Tk); k (..., Tk, d); v (..., Tk, dv); mask broadcastable to
    (..., Tq, Tk), True = may attend; ``scores``: a buffer for E, reused when its shape fits.

    The softmax is left unnormalised, P = E / rowsum(E) with E = e^(S - rowmax S), and the
    division is applied to the small product instead: out = (E V) (.) r, r = 1 / rowsum(E).
    The work runs block by block (``blocks``), so each block's scores stay in cache from the
    product that makes them to the product that uses them. rowsum(E) >= 1 wherever a key is
    allowed (the row maximum contributes e^0 = 1), and 0 only for a fully masked row: r =
    1 / max(rowsum, 1) keeps that row 0 without a 0/0 and without a look at the data.
    Returns (out (..., Tq, dv), E (..., Tq, Tk), written into ``scores`` if it fit, r (..., Tq, 1)).
    """
    shape = q_scaled.shape[:-1] + (k.shape[-2],)
    dtype = q_scaled.dtype
    E = reuse(scores, shape, dtype)
    out = xp.zeros(shape[:-1] + (v.shape[-1],), dtype=dtype)
    r = xp.ones(shape[:-1] + (1,), dtype=dtype)
    if k.shape[-2] == 0:          # no keys at all: like a fully masked row, output 0
        return out, E, r
    kT = k.swapaxes(-1, -2)
    if mask is not None:
        mask = xp.broadcast_to(mask, shape)
    for idx in blocks(shape[:-2], shape[-2] * shape[-1] * E.itemsize, block_bytes()):
        Eb, rb, ob = E[idx], r[idx], out[idx]
        xp.matmul(q_scaled[idx], kT[idx], out=Eb)       # scores S, then E in place
        if mask is not None:
            m = mask[idx]
            xp.copyto(Eb, Eb.min(axis=-1, keepdims=True), where=~m)  # masked: row min, not -inf
        Eb -= Eb.max(axis=-1, keepdims=True)            # max over allowed keys: e^ stays <= 1
        xp.exp(Eb, out=Eb)
        if mask is not None:
            Eb *= m                                     # masked weights exactly 0
        xp.sum(Eb, axis=-1, keepdims=True, out=rb)
        xp.maximum(rb, 1, out=rb)                       # a fully masked row: 0 stays 0
        xp.reciprocal(rb, out=rb)
        xp.matmul(Eb, v[idx], out=ob)
        ob *= rb                                        # P V = (E V) (.) r: Tq dv divisions
    return out, E, r


def attention_backward(dout, q_scaled, k, v, E, r, out):
    """Gradients of ``attention`` from its cached inputs and outputs: (dq_scaled, dk, dv).

    With S = q_scaled k^T, P = softmax(S) = E (.) r, O = P V:
        dV = P^T dO,   dP = dO V^T,   dS = P (.) (dP - rowsum(dP (.) P)),
        dq_scaled = dS K,   dK = dS^T q_scaled.
    rowsum(dP (.) P)_i = sum_j P_ij (dO_i . V_j) = dO_i . O_i, so the (Tq, dv) product
    rowsum(dO (.) O) replaces the (Tq, Tk) one. With G = r (.) dO (row i of dO times r_i):
    dV = E^T G and dS = E (.) (G V^T - rowsum(G (.) O)), so P itself is never formed. dS is
    made block by block in one block-sized scratch array, never at full size. Masked entries
    have E = 0, hence dS = 0.
    """
    G = dout * r                                      # (..., Tq, dv)
    rowdot = (G * out).sum(axis=-1, keepdims=True)    # rowsum(G (.) O), (..., Tq, 1)
    dq_scaled, dk, dv = (xp.empty(a.shape, dtype=E.dtype) for a in (q_scaled, k, v))
    vT = v.swapaxes(-1, -2)
    dS = None
    for idx in blocks(E.shape[:-2], E.shape[-2] * E.shape[-1] * E.itemsize, block_bytes()):
        Eb = E[idx]
        xp.matmul(Eb.swapaxes(-1, -2), G[idx], out=dv[idx])
        dS = reuse(dS, Eb.shape, Eb.dtype)
        xp.matmul(G[idx], vT[idx], out=dS)            # r (.) dP, then dS in place
        dS -= rowdot[idx]
        dS *= Eb
        xp.matmul(dS, k[idx], out=dq_scaled[idx])
        xp.matmul(dS.swapaxes(-1, -2), q_scaled[idx], out=dk[idx])
    return dq_scaled, dk, dv


@twin(nn.ScaledDotProductAttention)
class ScaledDotProductAttention(nn.ScaledDotProductAttention):
    """``nn.ScaledDotProductAttention`` through ``attention`` / ``attention_backward``: q is
    scaled before the product (Tq d multiplications instead of Tq Tk), and E is kept in a
    buffer reused from call to call."""

    @property
    def weights(self):
        """P = E (.) r of the last forward (a new array), for plots."""
        E = getattr(self, "_E", None)
        return None if E is None else E * self._r

    def forward(self, q, k, v, mask=None):
        self.check_inputs(q, k, v, mask)
        q_scaled = q * q.dtype.type(1.0 / math.sqrt(q.shape[-1]))
        out, self._E, self._r = attention(q_scaled, k, v, mask, scores=getattr(self, "_E", None))
        self.save_for_backward(q_scaled, k, v, self._E, self._r, out)
        return out

    def backward(self, dout):
        q_scaled, k, v, E, r, out = self.saved()
        check_same_shape(self, "dout", dout, out.shape)
        dq_scaled, dk, dv = attention_backward(dout, q_scaled, k, v, E, r, out)
        dq_scaled *= dq_scaled.dtype.type(1.0 / math.sqrt(q_scaled.shape[-1]))
        return dq_scaled, dk, dv
