"""Fast twins of ScaledDotProductAttention and MultiHeadAttention: one pass fewer over the
(..., Tq, Tk) scores, no second array of that size, and reused buffers for it.

The reference forms (``minseq.nn.attention``, ``minseq.nn.multihead``) compute
P = masked_softmax(S) and then P V. The twins share ``attention`` and ``attention_backward``,
which differ from the reference in three ways:

- the softmax is left unnormalised, E = e^(S - rowmax S), and 1 / rowsum(E) scales the small
  (Tq, dv) product instead of the (Tq, Tk) array: out = (E V) (.) r, r = 1 / rowsum(E);
- masked scores are replaced in place by the row minimum (so the row maximum is taken over the
  allowed keys) and E is multiplied by the mask, so no masked copy of S is made;
- every (..., Tq, Tk) array is written in place into a buffer kept from the last call: a fresh
  array of that size (134 MB at B=16, h=8, T=512) costs more in page faults than the
  arithmetic done on it.

Measured together (forward+backward, float32, one thread, ``minseq.bench.compare``, 5 samples
interleaved, median): MultiHeadAttention at (B, T, d_model, h) = (64, 200, 128, 4) takes
217 ms against the reference's 370 ms (1.7x); the tricks were not timed one by one.
"""

import math

from .. import nn
from ..backend import xp
from ..nn.checks import check_same_shape
from .accelerate import twin


def reuse(buffer, shape, dtype):
    """``buffer`` if it is an array of the active backend with this shape and dtype, else a new
    uninitialised one: the caller overwrites every entry."""
    if isinstance(buffer, xp.ndarray) and buffer.shape == tuple(shape) and buffer.dtype == dtype:
        return buffer
    return xp.empty(shape, dtype=dtype)


_backward_scores = None  # the dS buffer: needed only inside one backward, so all layers share it


def attention(q_scaled, k, v, mask=None, scores=None):
    """softmax(q_scaled k^T) v over the last two axes, batched over every leading axis.

    q_scaled (..., Tq, d) already multiplied by 1/sqrt(d) (scaling q costs Tq d multiplications,
    scaling the scores Tq Tk); k (..., Tk, d); v (..., Tk, dv); mask broadcastable to
    (..., Tq, Tk), True = may attend; ``scores``: a buffer for E, reused when its shape fits.

    The softmax is left unnormalised, P = E / rowsum(E) with E = e^(S - rowmax S), and the
    division is applied to the small product instead: out = (E V) (.) r, r = 1 / rowsum(E).
    That saves a pass over the (..., Tq, Tk) array; ``attention_backward`` works with E and r.
    Returns (out (..., Tq, dv), E (..., Tq, Tk), written into ``scores`` if it fit, r (..., Tq, 1)).
    """
    shape = q_scaled.shape[:-1] + (k.shape[-2],)
    E = reuse(scores, shape, q_scaled.dtype)
    if k.shape[-2] == 0:          # no keys at all: like a fully masked row, output 0
        out = xp.zeros(shape[:-1] + (v.shape[-1],), dtype=E.dtype)
        return out, E, xp.ones(shape[:-1] + (1,), dtype=E.dtype)
    # S = q_scaled k^T into the kept buffer, then E = e^(S - rowmax S) in place: no fresh array
    xp.matmul(q_scaled, k.swapaxes(-1, -2), out=E)    # scores S (..., Tq, Tk), then E in place
    if mask is not None:
        xp.copyto(E, E.min(axis=-1, keepdims=True), where=~mask)  # masked: row min, not -inf
    E -= E.max(axis=-1, keepdims=True)                # max over allowed keys: e^ stays <= 1
    xp.exp(E, out=E)
    if mask is not None:
        E *= mask                                     # masked weights exactly 0
    total = E.sum(axis=-1, keepdims=True)             # (..., Tq, 1); 0 only for a fully masked row
    if mask is not None:
        xp.maximum(total, 1, out=total)               # only a row with no key has total < 1:
                                                      # it stays 0, no 0/0 (and no mask read)
    r = xp.reciprocal(total, out=total)               # (..., Tq, 1)
    out = E @ v                                       # (..., Tq, dv)
    out *= r                                          # P V = (E V) (.) r: Tq dv divisions, not Tq Tk
    return out, E, r


def attention_backward(dout, q_scaled, k, v, E, r, out):
    """Gradients of ``attention`` from its cached inputs and outputs: (dq_scaled, dk, dv).

    With S = q_scaled k^T, P = softmax(S) = E (.) r, O = P V:
        dV = P^T dO,   dP = dO V^T,   dS = P (.) (dP - rowsum(dP (.) P)),
        dq_scaled = dS K,   dK = dS^T q_scaled.
    rowsum(dP (.) P)_i = sum_j P_ij (dO_i . V_j) = dO_i . O_i, so the (Tq, dv) product
    rowsum(dO (.) O) replaces the (Tq, Tk) one. With G = r (.) dO (row i of dO times r_i):
    dV = E^T G and dS = E (.) (G V^T - rowsum(G (.) O)), so P itself is never formed.
    Masked entries have E = 0, hence dS = 0.
    """
    global _backward_scores
    G = dout * r                                      # (..., Tq, dv)
    dv = E.swapaxes(-1, -2) @ G                       # (..., Tk, dv)
    dS = _backward_scores = reuse(_backward_scores, E.shape, E.dtype)
    xp.matmul(G, v.swapaxes(-1, -2), out=dS)          # r (.) dP (..., Tq, Tk), then dS in place
    dS -= (G * out).sum(axis=-1, keepdims=True)       # (..., Tq, 1)
    dS *= E
    dq_scaled = dS @ k                                # (..., Tq, d)
    dk = dS.swapaxes(-1, -2) @ q_scaled               # (..., Tk, d)
    return dq_scaled, dk, dv


class _KeepsScores:
    """``weights`` from the kept E and r (P = E (.) r, a new array), for plots."""

    @property
    def weights(self):
        E = getattr(self, "_E", None)
        return None if E is None else E * self._r


@twin(nn.ScaledDotProductAttention)
class ScaledDotProductAttention(_KeepsScores, nn.ScaledDotProductAttention):
    """``nn.ScaledDotProductAttention`` through ``attention`` / ``attention_backward``: q is
    scaled before the product (Tq d multiplications instead of Tq Tk), and E is kept in a
    buffer reused from call to call."""

    def forward(self, q, k, v, mask=None):
        self.check_inputs(q, k, v, mask)
        q_scaled = q * q.dtype.type(1.0 / math.sqrt(q.shape[-1]))
        out, self._E, self._r = attention(q_scaled, k, v, mask, scores=getattr(self, "_E", None))
        self._save(q_scaled, k, v, self._E, self._r, out)
        return out

    def backward(self, dout):
        q_scaled, k, v, E, r, out = self._take()
        check_same_shape(self, "dout", dout, out.shape)
        dq_scaled, dk, dv = attention_backward(dout, q_scaled, k, v, E, r, out)
        dq_scaled *= dq_scaled.dtype.type(1.0 / math.sqrt(q_scaled.shape[-1]))
        return dq_scaled, dk, dv


@twin(nn.MultiHeadAttention)
class MultiHeadAttention(_KeepsScores, nn.MultiHeadAttention):
    """``nn.MultiHeadAttention`` through ``attention`` / ``attention_backward`` on all heads at
    once: q scaled before the scores, the scores' buffer E reused from call to call (and the
    backward's dS buffer shared by every layer), biases added in place, and ``attention``'s
    own (..., Tq, Tk) arrays never copied."""

    def _project(self, a, name):
        y = a @ self.params["W" + name]                                   # (B, T, d_model)
        if "b" + name in self.params:
            y += self.params["b" + name]                                  # in place: no second (B, T, d) array
        return y

    def forward(self, x, context=None, mask=None):
        mask = self.check_inputs(x, context, mask)
        c = x if context is None else context
        scale = x.dtype.type(1.0 / math.sqrt(self.d_k))
        q = self.split(self._project(x, "q") * scale)                     # (B, h, T, d_k)
        k = self.split(self._project(c, "k"))                             # (B, h, S, d_k)
        v = self.split(self._project(c, "v"))                             # (B, h, S, d_k)
        heads, self._E, self._r = attention(q, k, v, mask, scores=getattr(self, "_E", None))
        concat = self.merge(heads)                                        # (B, T, d_model)
        self._save(x, context, q, k, v, self._E, self._r, heads, concat)
        return self._project(concat, "o")

    def backward(self, dout):
        x, context, q, k, v, E, r, heads, concat = self._take()
        check_same_shape(self, "dout", dout, x.shape)
        p, g = self.params, self.grads
        d = self.d_model
        dout2 = dout.reshape(-1, d)                                       # (B*T, d_model)
        g["Wo"][...] = concat.reshape(-1, d).T @ dout2                    # (d_model, d_model)
        dheads = self.split((dout2 @ p["Wo"].T).reshape(dout.shape))      # (B, h, T, d_k)
        dq, dk, dv = attention_backward(dheads, q, k, v, E, r, heads)
        dq *= dq.dtype.type(1.0 / math.sqrt(self.d_k))
        dq, dk, dv = (self.merge(a).reshape(-1, d) for a in (dq, dk, dv))  # (B*T|S, d_model)
        c = x if context is None else context
        x2, c2 = x.reshape(-1, d), c.reshape(-1, d)                       # (B*T|S, d_model)
        g["Wq"][...] = x2.T @ dq
        g["Wk"][...] = c2.T @ dk
        g["Wv"][...] = c2.T @ dv
        if "bo" in p:
            g["bo"][...] = dout2.sum(axis=0)
            g["bq"][...] = dq.sum(axis=0)
            g["bk"][...] = 0  # see frozen_entries
            g["bv"][...] = dv.sum(axis=0)
        dx = (dq @ p["Wq"].T).reshape(x.shape)                            # (B, T, d_model)
        dc = dk @ p["Wk"].T
        dc += dv @ p["Wv"].T                                              # in place: one (B*S, d) array
        dc = dc.reshape(c.shape)                                          # (B, S, d_model)
        if context is None:
            dx += dc
            return dx
        return dx, dc
