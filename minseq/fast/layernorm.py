"""Fast twin of LayerNorm: the row's first entry subtracted first, and reused buffers."""

from .. import nn
from ..backend import xp
from ..nn.checks import check_array, check_same_shape
from .accelerate import twin
from .attention import reuse


@twin(nn.LayerNorm)
class LayerNorm(nn.LayerNorm):
    """``nn.LayerNorm`` with x - mu computed as s - mean(s), s = x - x_0 (the row's first
    entry): an all-equal row gives exactly 0 (mean(x) itself is rounded when |x| is large: 0.15
    instead of 0 for a float32 row of 6554.37), and a large common offset loses no digits.
    xhat is written into a buffer kept from the last call, y first serves as scratch for
    xhat^2, and the backward reuses one scratch array of x's size.

    Measured (forward+backward, float32, one thread, (B, T, d) = (64, 200, 128), 5 samples
    interleaved, median): 15.7 ms against the reference's 22.6 ms (1.45x)."""

    def forward(self, x):
        check_array(self, "x", x, min_ndim=1, last_dim=self.d, dtype=self.params["gamma"].dtype)
        # fresh large arrays cost more in page faults than the arithmetic on them
        xhat = self._xhat = reuse(getattr(self, "_xhat", None), x.shape, x.dtype)
        xp.subtract(x, x[..., :1], out=xhat)                             # s = x - x_0
        xhat -= xhat.mean(axis=-1, keepdims=True)                        # s - mean(s) = x - mu
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
        t = self._scratch = reuse(getattr(self, "_scratch", None), xhat.shape, xhat.dtype)
        xp.multiply(dy, xhat, out=t)
        self.grads["gamma"][...] = t.reshape(-1, self.d).sum(axis=0)    # (d,)
        self.grads["beta"][...] = dy.reshape(-1, self.d).sum(axis=0)    # (d,)
        dx = dy * self.params["gamma"]                                   # g, becomes dx
        mean_gx = xp.multiply(dx, xhat, out=t).mean(axis=-1, keepdims=True)
        dx -= dx.mean(axis=-1, keepdims=True)
        dx -= xp.multiply(xhat, mean_gx, out=t)
        dx *= rstd
        return dx
