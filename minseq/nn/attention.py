"""Scaled dot-product attention (catalogue E1) and its masks.

    Attention(Q, K, V) = softmax(Q K^T / sqrt(d_k)) V

Masks here are boolean with ``True`` = "this query may attend to this key", the same sense as
minseq's padding masks (True = real data). PyTorch's boolean ``attn_mask`` means the OPPOSITE
(True = NOT allowed): pass ``~mask`` to PyTorch, and ``~attn_mask`` to minseq.

A query row whose every key is masked (or that has no key at all, Tk = 0) gets zero weights and
a zero output (PyTorch gives NaN), and its gradient is zero too.

``minseq.fast.ScaledDotProductAttention`` computes the same with fewer passes over the
(..., Tq, Tk) array (an unnormalised softmax, in-place work, reused buffers).
"""

import math

from ..backend import xp
from .checks import check_array, check_same_shape
from .functional import softmax
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


def masked_softmax(scores, mask=None):
    """Softmax over the last axis, over the allowed keys only (mask True = may attend):

        m_i = max_{j allowed} S_ij,   E_ij = e^(S_ij - m_i) if j is allowed else 0,
        P_ij = E_ij / sum_j E_ij      (a row with no allowed key, or no key at all: P_i = 0)

    Subtracting the maximum over the allowed keys keeps every e^ <= 1 (no overflow) even when a
    masked score is far larger; masked weights are exactly 0, and no -inf or NaN appears.
    """
    if scores.shape[-1] == 0:                                         # no keys: nothing to weigh
        return xp.zeros_like(scores)
    if mask is None:
        return softmax(scores)
    # masked scores stand in as the row's lowest score, so the max is over the allowed keys
    row_max = xp.where(mask, scores, scores.min(axis=-1, keepdims=True)).max(axis=-1, keepdims=True)
    E = xp.exp(xp.where(mask, scores - row_max, 0)) * mask           # (..., Tq, Tk)
    total = E.sum(axis=-1, keepdims=True)                             # 0 only for a row with no allowed key
    return E / xp.where(total > 0, total, 1)                         # that row stays 0: no 0/0


class ScaledDotProductAttention(Module):
    """out = softmax(q k^T / sqrt(d)) v (catalogue E1), no parameters.

    Shapes: q (..., Tq, d), k (..., Tk, d), v (..., Tk, dv) -> out (..., Tq, dv); the leading
    axes of q, k and v must be equal. ``mask`` (optional, boolean, broadcastable to
    (..., Tq, Tk)): True = may attend (PyTorch's boolean attn_mask means the opposite). A query
    whose keys are all masked gets zero weights and a zero output.

    ``weights`` is the attention weights P (..., Tq, Tk) of the last forward, for plots.

    Backward, with S = q k^T / sqrt(d), P = softmax(S), out = P v:
        dv = P^T dout,   dP = dout v^T,   dS = P (.) (dP - rowsum(dP (.) P)),
        dq = dS k / sqrt(d),   dk = dS^T q / sqrt(d).
    ``backward(dout)`` returns (dq, dk, dv). Masked keys have P = 0, hence dS = 0 there.
    """

    weights = None  # P of the last forward (None before the first)

    def check_inputs(self, q, k, v, mask):
        """Raise unless q, k, v and mask fit together (shapes in the class docstring)."""
        check_array(self, "q", q, min_ndim=2)
        check_array(self, "k", k, ndim=q.ndim, last_dim=q.shape[-1], dtype=q.dtype)
        check_array(self, "v", v, ndim=q.ndim, dtype=q.dtype)
        if k.shape[:-2] != q.shape[:-2] or v.shape[:-1] != k.shape[:-1]:
            raise ValueError(f"{self.name()}: expected q (..., Tq, d), k (..., Tk, d), "
                             f"v (..., Tk, dv) with equal leading axes; got q {q.shape}, "
                             f"k {k.shape}, v {v.shape}")
        if mask is not None:
            check_mask(self, mask, q.shape[:-1] + (k.shape[-2],))

    def forward(self, q, k, v, mask=None):
        self.check_inputs(q, k, v, mask)
        scores = q @ k.swapaxes(-1, -2) / math.sqrt(q.shape[-1])    # (..., Tq, Tk)
        weights = masked_softmax(scores, mask)                        # (..., Tq, Tk)
        out = weights @ v                                             # (..., Tq, dv)
        self.save_for_backward(q, k, v, weights)
        self.weights = weights
        return out

    def backward(self, dout):
        q, k, v, weights = self.saved()
        check_same_shape(self, "dout", dout, q.shape[:-1] + v.shape[-1:])
        dv = weights.swapaxes(-1, -2) @ dout                          # (..., Tk, dv)
        dweights = dout @ v.swapaxes(-1, -2)                          # (..., Tq, Tk)
        dscores = weights * (dweights - (dweights * weights).sum(axis=-1, keepdims=True))
        dq = dscores @ k / math.sqrt(q.shape[-1])                     # (..., Tq, d)
        dk = dscores.swapaxes(-1, -2) @ q / math.sqrt(q.shape[-1])    # (..., Tk, d)
        return dq, dk, dv
