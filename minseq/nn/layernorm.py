"""Layer normalisation over the feature axis."""

from ..backend import xp
from . import init
from .checks import check_array, check_same_shape
from .module import Module


class LayerNorm(Module):
    """y = (x - mu) / sqrt(var + eps) * gamma + beta, mu and var over the last axis of each row.

    var is the biased variance, mean((x - mu)^2), as ``torch.nn.LayerNorm`` computes it.
    Shapes: x (..., d) -> y (..., d); gamma, beta (d,), initialised to 1 and 0 as PyTorch.

    Backward, with xhat = (x - mu) / sqrt(var + eps) and dxhat = dy (.) gamma:
        dx = (dxhat - mean(dxhat) - xhat (.) mean(dxhat (.) xhat)) / sqrt(var + eps)
        dgamma = sum over rows of dy (.) xhat,   dbeta = sum over rows of dy.

    Rounding: mean(x) is itself rounded, so a row of equal large values (6554.37 in float32)
    gives x - mu = 0.0005 instead of 0, and xhat = 0.15 instead of 0 (eps does not hide it).
    ``minseq.fast.LayerNorm`` subtracts the row's first entry before the mean, which makes such
    a row exactly 0 and keeps every digit under a large common offset.
    """

    def __init__(self, d, eps=1e-5):
        super().__init__()
        self.d, self.eps = d, eps
        self.add_param("gamma", init.ones((d,)))
        self.add_param("beta", init.zeros((d,)))

    def forward(self, x):
        check_array(self, "x", x, min_ndim=1, last_dim=self.d, dtype=self.params["gamma"].dtype)
        mean = x.mean(axis=-1, keepdims=True)                            # (..., 1)
        var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)             # (..., 1)
        std = xp.sqrt(var + x.dtype.type(self.eps))                      # (..., 1)
        xhat = (x - mean) / std                                          # (..., d)
        y = self.params["gamma"] * xhat + self.params["beta"]            # (..., d)
        self.save_for_backward(xhat, std)
        return y

    def backward(self, dy):
        xhat, std = self.saved()
        check_same_shape(self, "dy", dy, xhat.shape)
        self.grads["gamma"][...] = (dy * xhat).reshape(-1, self.d).sum(axis=0)  # (d,)
        self.grads["beta"][...] = dy.reshape(-1, self.d).sum(axis=0)            # (d,)
        dxhat = dy * self.params["gamma"]                                       # (..., d)
        dx = (dxhat - dxhat.mean(axis=-1, keepdims=True)
              - xhat * (dxhat * xhat).mean(axis=-1, keepdims=True)) / std
        return dx

    def extra_repr(self):
        return f"{self.d}, eps={self.eps}"
