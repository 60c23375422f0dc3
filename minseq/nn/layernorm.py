"""Layer normalisation over the feature axis."""

from ..backend import xp
from . import init
from .attention import reuse
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
        self._xhat = self._scratch = None   # buffers reused from call to call

    def forward(self, x):
        check_array(self, "x", x, min_ndim=1, last_dim=self.d, dtype=self.params["gamma"].dtype)
        # x - mu, computed as d - mean(d) with d = x - x_0 (the row's first entry): an all-equal
        # row gives exactly 0 (mean(x) itself is rounded when |x| is large: 0.15 instead of 0
        # for a float32 row of 6554.37), and a large common offset loses no digits. xhat goes
        # into a buffer kept from the last call, and y first serves as scratch for xhat^2:
        # fresh large arrays cost more in page faults than the arithmetic on them
        xhat = self._xhat = reuse(self._xhat, x.shape, x.dtype)
        xp.subtract(x, x[..., :1], out=xhat)
        xhat -= xhat.mean(axis=-1, keepdims=True)
        y = xp.multiply(xhat, xhat)
        var = y.mean(axis=-1, keepdims=True)                             # (..., 1)
        rstd = 1 / xp.sqrt(var + x.dtype.type(self.eps))                 # (..., 1)
        xhat *= rstd
        self._save(xhat, rstd)
        xp.multiply(xhat, self.params["gamma"], out=y)
        y += self.params["beta"]
        return y

    def backward(self, dy):
        xhat, rstd = self._take()
        check_same_shape(self, "dy", dy, xhat.shape)
        t = self._scratch = reuse(self._scratch, xhat.shape, xhat.dtype)  # x's size
        xp.multiply(dy, xhat, out=t)
        self.grads["gamma"][...] = t.reshape(-1, self.d).sum(axis=0)    # (d,)
        self.grads["beta"][...] = dy.reshape(-1, self.d).sum(axis=0)    # (d,)
        dx = dy * self.params["gamma"]                                   # g, becomes dx
        mean_gx = xp.multiply(dx, xhat, out=t).mean(axis=-1, keepdims=True)
        dx -= dx.mean(axis=-1, keepdims=True)
        dx -= xp.multiply(xhat, mean_gx, out=t)
        dx *= rstd
        return dx

    def extra_repr(self):
        return f"{self.d}, eps={self.eps}"
