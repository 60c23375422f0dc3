"""Numerically stable elementwise and row-wise functions shared by layers and losses.

Each works on arrays of the active backend and keeps the input's dtype (Python-float constants
never promote a float32 array).
"""

import math

from .. import backend
from ..backend import xp


def sigmoid(x):
    """sigma(x) = 1 / (1 + e^-x), written as 0.5 * tanh(0.5 x) + 0.5: exact, never overflows."""
    return 0.5 * xp.tanh(0.5 * x) + 0.5


def softmax(z, axis=-1):
    """softmax(z)_i = e^(z_i - max z) / sum_j e^(z_j - max z); the shift keeps e^ finite."""
    e = xp.exp(z - z.max(axis=axis, keepdims=True))
    e /= e.sum(axis=axis, keepdims=True)
    return e


def log_softmax(z, axis=-1):
    """log softmax(z)_i = z_i - logsumexp(z), with logsumexp shifted by the max (finite at 1e4)."""
    shifted = z - z.max(axis=axis, keepdims=True)
    return shifted - xp.log(xp.exp(shifted).sum(axis=axis, keepdims=True))


def logsumexp(z, axis=-1):
    """log sum_i e^(z_i) = max z + log sum_i e^(z_i - max z), finite for logits up to +-1e4."""
    m = z.max(axis=axis, keepdims=True)
    return (m + xp.log(xp.exp(z - m).sum(axis=axis, keepdims=True))).squeeze(axis)


def softmax_backward(y, dy, axis=-1):
    """dL/dz for y = softmax(z): y * (dy - sum(dy * y)), the Jacobian-vector product."""
    return y * (dy - (dy * y).sum(axis=axis, keepdims=True))


def softplus(x):
    """log(1 + e^x) = max(x, 0) + log1p(e^-|x|), finite for any x."""
    return xp.maximum(x, 0) + xp.log1p(xp.exp(-xp.abs(x)))


_SQRT_HALF = 1.0 / math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
# Below -GELU_FLOOR, GELU and its derivative are exactly 0 in float32 and float64 (Phi(-60) is
# about 1e-785); clipping there keeps x = -inf from giving -inf * 0 = NaN. NaN stays NaN.
_GELU_FLOOR = 60.0


def gelu(x, approximate="none"):
    """GELU(x) = x * Phi(x); ``approximate="tanh"`` uses PyTorch's tanh form. GELU(-inf) = 0."""
    x = xp.maximum(x, -_GELU_FLOOR)
    if approximate == "tanh":
        return 0.5 * x * (1.0 + xp.tanh(_SQRT_2_OVER_PI * (x + 0.044715 * x ** 3)))
    return 0.5 * x * (1.0 + backend.erf(x * _SQRT_HALF))


def gelu_grad(x, approximate="none"):
    """d GELU / dx: Phi(x) + x * phi(x) (or the derivative of the tanh form); 0 at -inf and 1
    at +inf (x is clipped to +-60, beyond which both are exact)."""
    x = xp.clip(x, -_GELU_FLOOR, _GELU_FLOOR)
    if approximate == "tanh":
        u = _SQRT_2_OVER_PI * (x + 0.044715 * x ** 3)
        t = xp.tanh(u)
        du = _SQRT_2_OVER_PI * (1.0 + 3 * 0.044715 * x ** 2)
        return 0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * du
    cdf = 0.5 * (1.0 + backend.erf(x * _SQRT_HALF))
    pdf = _INV_SQRT_2PI * xp.exp(-0.5 * x * x)
    return cdf + x * pdf
