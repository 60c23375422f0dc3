"""Layer normalisation over the feature axis."""

from ..backend import xp
from . import init
from .checks import check_array, check_same_shape
from .module import Module


class LayerNorm(Module):
    """y = (x - mu) / sqrt(var + eps) * gamma + beta, mu and var over the last axis of each row.

    var is the biased variance, mean((x - mu)^2), as ``torch.nn.LayerNorm`` computes it.
    Shapes: x (..., d) -> y (..., d); gamma, beta (d,), initialised to 1 and 0 as PyTorch.

    Backward, with xhat = (x - mu) / sqrt(var + eps) and g = dy (.) gamma:
        dx = (g - mean(g) - xhat (.) mean(g (.) xhat)) / sqrt(var + eps)   (means over the row)
        dgamma = sum over rows of dy (.) xhat,   dbeta = sum over rows of dy.
    """

    def __init__(self, d, eps=1e-5):
        super().__init__()
        self.d, self.eps = d, eps
        self.add_param("gamma", init.ones((d,)))
        self.add_param("beta", init.zeros((d,)))

    def forward(self, x):
        check_array(self, "x", x, min_ndim=1, last_dim=self.d, dtype=self.params["gamma"].dtype)
        # x - mu, computed as d - mean(d) with d = x - x_0 (the row's first entry): an all-equal
        # row gives exactly 0 (mean(x) itself is rounded when |x| is large: 0.15 instead of 0
        # for a float32 row of 6554.37), and a large common offset loses no digits
        xhat = x - x[..., :1]
        xhat -= xhat.mean(axis=-1, keepdims=True)
        var = (xhat * xhat).mean(axis=-1, keepdims=True)                # (..., 1)
        rstd = 1 / xp.sqrt(var + x.dtype.type(self.eps))                 # (..., 1)
        xhat *= rstd
        self._save(xhat, rstd)
        return xhat * self.params["gamma"] + self.params["beta"]

    def backward(self, dy):
        xhat, rstd = self._take()
        check_same_shape(self, "dy", dy, xhat.shape)
        self.grads["gamma"][...] = (dy * xhat).reshape(-1, self.d).sum(axis=0)  # (d,)
        self.grads["beta"][...] = dy.reshape(-1, self.d).sum(axis=0)            # (d,)
        g = dy * self.params["gamma"]
        dx = g - g.mean(axis=-1, keepdims=True)
        dx -= xhat * (g * xhat).mean(axis=-1, keepdims=True)
        dx *= rstd
        return dx

    def extra_repr(self):
        return f"{self.d}, eps={self.eps}"
