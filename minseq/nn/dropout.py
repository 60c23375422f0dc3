"""Inverted dropout."""

from .. import backend
from .checks import check_array, check_same_shape
from .module import Module
from .random import RandomStream


class Dropout(Module):
    """Inverted dropout: in training, y = x (.) m / (1 - p) with m_i ~ Bernoulli(1 - p); in eval
    mode, y = x. Scaling at training time keeps E[y] = x, so evaluation needs no rescaling.

    ``seed`` fixes the stream of masks; without one, a seed is drawn from minseq's generator
    (``minseq.manual_seed``), so runs are reproducible either way. Backward: dx = dy (.) m / (1-p).
    """

    def __init__(self, p=0.5, seed=None):
        super().__init__()
        if not 0.0 <= p < 1.0:
            raise ValueError(f"Dropout: p must lie in [0, 1), got {p}")
        self.p = p
        self.seed = int(backend.host_rng().integers(2**31)) if seed is None else seed
        self._rng = RandomStream(self.seed)

    def forward(self, x):
        check_array(self, "x", x)
        if not self.training or self.p == 0.0:
            self.save_for_backward(None)
            return x
        keep = self.draw_keep(x.shape, x.dtype)
        scaled_mask = keep.astype(x.dtype) / x.dtype.type(1.0 - self.p)
        self.save_for_backward(scaled_mask)
        return x * scaled_mask

    def draw_keep(self, shape, dtype):
        """m ~ Bernoulli(1 - p), True = kept: one uniform draw per entry from this stream."""
        return self._rng.generator.random(shape, dtype=dtype) >= self.p

    def backward(self, dy):
        (scaled_mask,) = self.saved()
        if scaled_mask is None:
            return dy
        check_same_shape(self, "dy", dy, scaled_mask.shape)
        return dy * scaled_mask

    def extra_repr(self):
        return f"p={self.p}"
