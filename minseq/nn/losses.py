"""Losses: ``forward(pred, target)`` returns a 0-d array; ``backward()`` returns dL/dpred.

Every loss is the *mean* over the positions it counts, as PyTorch's default
``reduction="mean"``; over no positions at all (an empty batch) the mean is taken as 0, with a
zero gradient (PyTorch returns NaN). ``backward(grad_out=1.0)`` scales by an upstream gradient
when the loss is part of a larger objective. Targets get no gradient.
"""

from .. import backend
from ..backend import xp
from . import functional as F
from .checks import check_array, check_same_shape
from .module import Module


def _mean(a):
    """mean(a), and 0 for an empty a (no NaN and no warning)."""
    return a.mean() if a.size else xp.zeros((), dtype=a.dtype)


class _Loss(Module):
    def __call__(self, pred, target):
        return self.forward(pred, target)

    def backward(self, grad_out=1.0):
        dpred = self._gradient(*self.saved())
        if isinstance(grad_out, xp.ndarray):             # a 0-d upstream gradient stays on device
            return dpred * grad_out.astype(dpred.dtype)
        return dpred * dpred.dtype.type(grad_out)


class MSELoss(_Loss):
    """L = mean((pred - target)^2) over all elements (catalogue B1); dL/dpred = 2 (pred - t) / N."""

    def forward(self, pred, target):
        check_array(self, "pred", pred)
        check_array(self, "target", target, dtype=pred.dtype)
        check_same_shape(self, "target", target, pred.shape)
        diff = pred - target
        self.save_for_backward(diff)
        return _mean(diff * diff)

    def _gradient(self, diff):
        return diff * diff.dtype.type(2.0 / max(diff.size, 1))


class CrossEntropyLoss(_Loss):
    """Softmax cross-entropy from logits with integer class targets (catalogue B2).

    pred (N, C) or (B, T, C) logits, target (N,) or (B, T) class ids. Per position,
    l = logsumexp(z) - z_target = -log softmax(z)_target, finite for logits up to +-1e4.
    L = mean of l over the positions whose target is not ``ignore_index`` (padding).
    If every position is ignored, L = 0 and the gradient is zero (PyTorch returns NaN).

    dL/dz = (softmax(z) - onehot(target)) / n_counted, and 0 at ignored positions.
    """

    def __init__(self, ignore_index=None):
        super().__init__()
        self.ignore_index = ignore_index

    def forward(self, pred, target):
        check_array(self, "pred", pred, min_ndim=2)
        check_array(self, "target", target, floating=False)
        if target.dtype.kind not in "iu":
            raise TypeError(f"{self.name()}: target must hold integer class ids, "
                            f"got {target.dtype.name}")
        check_same_shape(self, "target", target, pred.shape[:-1])
        C = pred.shape[-1]
        z = pred.reshape(-1, C)                  # (N, C)
        t = target.reshape(-1)                   # (N,)
        keep = t != self.ignore_index if self.ignore_index is not None else xp.ones(t.shape, bool)
        t_safe = xp.where(keep, t, 0)
        if t.size and backend.checks_read_data():   # one deliberate host read, both bounds
            low, top = backend.read_for_check(xp.stack([t_safe.min(), t_safe.max()])).tolist()
            if low < 0 or top >= C:
                raise IndexError(f"{self.name()}: targets must lie in [0, {C}) "
                                 f"(or equal ignore_index={self.ignore_index})")
        logp = F.log_softmax(z)                  # (N, C)
        rows = xp.arange(t.size)
        # n stays on the device; max(n, 1) makes the mean over no positions 0 / 1 = 0
        n = xp.maximum(keep.sum(), 1).astype(pred.dtype)
        self.save_for_backward(logp, rows, t_safe, keep, n, pred.shape)
        return -(logp[rows, t_safe] * keep).sum() / n

    def _gradient(self, logp, rows, t_safe, keep, n, shape):
        dz = xp.exp(logp)                        # softmax(z)
        dz[rows, t_safe] -= 1.0
        dz *= (keep.astype(dz.dtype) / n.astype(dz.dtype))[:, None]
        return dz.reshape(shape)


class BCEWithLogitsLoss(_Loss):
    """Binary cross-entropy on logits z with targets t in [0, 1] (the standard form of B3):

    l = -[t log sigma(z) + (1 - t) log(1 - sigma(z))] = max(z, 0) - z t + log(1 + e^-|z|),
    finite for any z. L = mean(l). dL/dz = (sigma(z) - t) / N.
    """

    def forward(self, pred, target):
        check_array(self, "pred", pred)
        check_array(self, "target", target, dtype=pred.dtype)
        check_same_shape(self, "target", target, pred.shape)
        self.save_for_backward(pred, target)
        return _mean(F.softplus(pred) - pred * target)

    def _gradient(self, pred, target):
        return (F.sigmoid(pred) - target) * pred.dtype.type(1.0 / max(pred.size, 1))
