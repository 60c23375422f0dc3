"""Fast twin of LayerNorm: the row's first entry subtracted first, row sums as matrix-vector
products, the work done in row blocks that stay in cache, and reused buffers."""

from .. import nn
from ..backend import xp
from ..nn.checks import check_array, check_same_shape
from .accelerate import twin
from .buffers import block_bytes, reuse


def row_blocks(n_rows, row_bytes, target):
    """Slices cutting ``n_rows`` rows of ``row_bytes`` each into blocks of about ``target``
    bytes: every pass over a block then reads it from cache, not from memory. ``target`` None:
    all rows, one block."""
    if target is None:
        return [slice(0, n_rows)]
    step = max(1, target // max(row_bytes, 1))
    return [slice(i, i + step) for i in range(0, n_rows, step)]


def row_dot(a, b):
    """sum_j a_ij b_ij for each row i, as (N, 1): one pass, no (N, d) product array."""
    return xp.einsum("ij,ij->i", a, b)[:, None]


@twin(nn.LayerNorm)
class LayerNorm(nn.LayerNorm):
    """``nn.LayerNorm`` with four tricks (forward+backward, float32, one thread, (B, T, d) =
    (64, 200, 128), interleaved against the reference's 19.7 ms):

    - x - mu computed as s - mean(s), s = x - x_0 (the row's first entry): an all-equal row
      gives exactly 0 (mean(x) itself is rounded when |x| is large: 0.15 instead of 0 for a
      float32 row of 6554.37), and a large common offset loses no digits;
    - xhat and the backward's scratch in buffers kept from the last call (fresh large arrays
      cost page faults): with the first trick, 15.5 ms;
    - row sums as products with a vector of ones, mean(s) = s (1/d), and sums of products as
      one ``einsum`` pass, var = rowdot(s, s) / d: NumPy's reductions along a short last axis
      run at half the speed of a matrix-vector product, and the products need no array;
    - on the CPU the rows cut into blocks of about 1 MB (``row_blocks``, sized per backend in
      ``minseq.fast.buffers``; one block on a GPU), so the passes over a block read cache
      instead of memory: with the previous trick, 11.3 ms (1.36x the second trick; blocks
      alone gave 1.07x).
    """

    def forward(self, x):
        check_array(self, "x", x, min_ndim=1, last_dim=self.d, dtype=self.params["gamma"].dtype)
        gamma, beta = self.params["gamma"], self.params["beta"]
        d, eps = self.d, x.dtype.type(self.eps)
        mean_of = xp.full((d, 1), 1.0 / d, dtype=x.dtype)                 # s @ mean_of = mean(s)
        x2 = x.reshape(-1, d)                                             # (N, d) rows
        xhat = self._xhat = reuse(getattr(self, "_xhat", None), x2.shape, x.dtype)
        rstd = xp.empty((x2.shape[0], 1), dtype=x.dtype)
        y = xp.empty_like(xhat)
        for rows in row_blocks(x2.shape[0], d * x.itemsize, block_bytes()):
            s, yb = xhat[rows], y[rows]
            xp.subtract(x2[rows], x2[rows, :1], out=s)                    # s = x - x_0
            s -= s @ mean_of                                              # s - mean(s) = x - mu
            r = rstd[rows]
            r[...] = row_dot(s, s) / d                                    # var
            r += eps
            xp.sqrt(r, out=r)
            xp.reciprocal(r, out=r)                                       # 1 / sqrt(var + eps)
            s *= r                                                        # xhat
            xp.multiply(s, gamma, out=yb)
            yb += beta
        self.save_for_backward(xhat, rstd, x.shape)
        return y.reshape(x.shape)

    def backward(self, dy):
        xhat, rstd, shape = self.saved()
        check_same_shape(self, "dy", dy, shape)
        gamma, d = self.params["gamma"], self.d
        mean_of = xp.full((d, 1), 1.0 / d, dtype=xhat.dtype)
        dy2 = dy.reshape(-1, d)
        t = self._scratch = reuse(getattr(self, "_scratch", None), xhat.shape, xhat.dtype)
        dx = xp.empty_like(xhat)
        dgamma, dbeta = xp.zeros_like(gamma), xp.zeros_like(gamma)
        for rows in row_blocks(xhat.shape[0], d * xhat.itemsize, block_bytes()):
            g, xh, tb, dyb = dx[rows], xhat[rows], t[rows], dy2[rows]
            ones = xp.ones(dyb.shape[0], dtype=dyb.dtype)
            dgamma += ones @ xp.multiply(dyb, xh, out=tb)                 # sum dy (.) xhat
            dbeta += ones @ dyb                                           # sum dy
            xp.multiply(dyb, gamma, out=g)                                # g = dy (.) gamma
            mean_gx = row_dot(g, xh) / d
            g -= g @ mean_of
            g -= xp.multiply(xh, mean_gx, out=tb)
            g *= rstd[rows]                                               # dx
        self.grads["gamma"][...] = dgamma
        self.grads["beta"][...] = dbeta
        return dx.reshape(shape)
