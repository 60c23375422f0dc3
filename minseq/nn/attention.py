"""Scaled dot-product attention (catalogue E1), its masks, and the two functions that compute it.

    Attention(Q, K, V) = softmax(Q K^T / sqrt(d_k)) V

Masks here are boolean with ``True`` = "this query may attend to this key", the same sense as
minseq's padding masks (True = real data). PyTorch's boolean ``attn_mask`` means the OPPOSITE
(True = NOT allowed): pass ``~mask`` to PyTorch, and ``~attn_mask`` to minseq.

A query row whose every key is masked (or that has no key at all, Tk = 0) gets zero weights and
a zero output (PyTorch gives NaN),
and its gradient is zero too. The masked softmax uses no -inf and no -1e6 fill: masked scores are
replaced by the row minimum (so the row maximum is taken over allowed keys only), and after the
exponential they are multiplied by the mask, which makes their weight exactly zero.

``attention`` and ``attention_backward`` serve both ``ScaledDotProductAttention`` and
``MultiHeadAttention`` (which calls them once on all heads, batched). They work in place on the
one large (..., Tq, Tk) array so that no second array of that size is ever made, and they write
it into reused buffers: a fresh array of that size (134 MB at B=16, h=8, T=512) costs more in
page faults than the arithmetic done on it.
"""

import math

from ..backend import xp
from .checks import check_array, check_same_shape
from .module import Module


def causal_mask(T):
    """(T, T) boolean mask, True where key j <= query i: position i sees itself and the past."""
    return xp.tril(xp.ones((T, T), dtype=bool))


def check_mask(layer, mask, shape):
    """Raise unless ``mask`` is a boolean array of the active backend that broadcasts to ``shape``
    (the scores' shape) without making it bigger."""
    who = layer if isinstance(layer, str) else layer.name()
    if not isinstance(mask, xp.ndarray) or mask.dtype != bool:
        kind = getattr(mask, "dtype", type(mask).__name__)
        raise TypeError(f"{who}: mask must be a boolean {xp.name} array (True = may attend), "
                        f"got {kind}")
    fits = mask.ndim <= len(shape) and all(
        m in (1, s) for m, s in zip(mask.shape[::-1], tuple(shape)[::-1]))
    if not fits:
        raise ValueError(f"{who}: mask of shape {mask.shape} does not broadcast to the "
                         f"attention scores' shape {tuple(shape)} (..., Tq, Tk)")
    return mask


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
    xp.matmul(q_scaled, k.swapaxes(-1, -2), out=E)    # scores S (..., Tq, Tk), then E in place
    if mask is not None:
        xp.copyto(E, E.min(axis=-1, keepdims=True), where=~mask)  # masked: row min, not -inf
    E -= E.max(axis=-1, keepdims=True)                # max over allowed keys: e^ stays <= 1
    xp.exp(E, out=E)
    if mask is not None:
        E *= mask                                     # masked weights exactly 0
    total = E.sum(axis=-1, keepdims=True)             # (..., Tq, 1); 0 only for a fully masked row
    if mask is not None:
        total[total == 0] = 1                         # that row stays 0: no 0/0
    r = xp.reciprocal(total, out=total)               # (..., Tq, 1)
    out = E @ v                                       # (..., Tq, dv)
    out *= r
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


class ScaledDotProductAttention(Module):
    """out = softmax(q k^T / sqrt(d)) v (catalogue E1), no parameters.

    Shapes: q (..., Tq, d), k (..., Tk, d), v (..., Tk, dv) -> out (..., Tq, dv); the leading
    axes of q, k and v must be equal. ``mask`` (optional, boolean, broadcastable to
    (..., Tq, Tk)): True = may attend (PyTorch's boolean attn_mask means the opposite). A query
    whose keys are all masked gets zero weights and a zero output.

    ``weights`` gives the attention weights P (..., Tq, Tk) of the last forward, for plots.
    ``backward(dout)`` returns (dq, dk, dv).
    """

    def __init__(self):
        super().__init__()
        self._E = self._r = None

    @property
    def weights(self):
        """P = softmax(q k^T / sqrt(d)) (..., Tq, Tk) of the last forward (a new array)."""
        return None if self._E is None else self._E * self._r

    def forward(self, q, k, v, mask=None):
        check_array(self, "q", q, min_ndim=2)
        check_array(self, "k", k, ndim=q.ndim, last_dim=q.shape[-1], dtype=q.dtype)
        check_array(self, "v", v, ndim=q.ndim, dtype=q.dtype)
        if k.shape[:-2] != q.shape[:-2] or v.shape[:-1] != k.shape[:-1]:
            raise ValueError(f"{self.name()}: expected q (..., Tq, d), k (..., Tk, d), "
                             f"v (..., Tk, dv) with equal leading axes; got q {q.shape}, "
                             f"k {k.shape}, v {v.shape}")
        if mask is not None:
            check_mask(self, mask, q.shape[:-1] + (k.shape[-2],))
        q_scaled = q * q.dtype.type(1.0 / math.sqrt(q.shape[-1]))
        out, self._E, self._r = attention(q_scaled, k, v, mask, scores=self._E)
        self._save(q_scaled, k, v, self._E, self._r, out)
        return out

    def backward(self, dout):
        q_scaled, k, v, E, r, out = self._take()
        check_same_shape(self, "dout", dout, out.shape)
        dq_scaled, dk, dv = attention_backward(dout, q_scaled, k, v, E, r, out)
        dq_scaled *= dq_scaled.dtype.type(1.0 / math.sqrt(q_scaled.shape[-1]))
        return dq_scaled, dk, dv
