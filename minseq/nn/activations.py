"""Elementwise activations and the softmax, each a Module with its own backward."""

from ..backend import xp
from . import functional as F
from .checks import check_array, check_same_shape
from .module import Module


class _Activation(Module):
    """y = f(x) elementwise; backward multiplies dy by f'(x), read from the cached tensor."""

    def forward(self, x):
        check_array(self, "x", x)
        y = self._f(x)
        self.save_for_backward(self._backward_input(x, y))
        return y

    def backward(self, dy):
        (saved,) = self.saved()
        check_same_shape(self, "dy", dy, saved.shape)
        return dy * self._df(saved)


class ReLU(_Activation):
    """ReLU(x) = max(x, 0); dReLU/dx = 1 where x > 0, else 0 (the value PyTorch uses at 0).
    ReLU(-inf) = 0 and ReLU(NaN) = NaN (a product x * [x > 0] would give NaN at -inf)."""

    def _f(self, x):
        return xp.maximum(x, 0)

    def _backward_input(self, x, y):
        return x

    def _df(self, x):
        return (x > 0).astype(x.dtype)


class Sigmoid(_Activation):
    """sigma(x) = 1 / (1 + e^-x), computed through tanh so it never overflows;
    dsigma/dx = y (1 - y)."""

    def _f(self, x):
        return F.sigmoid(x)

    def _backward_input(self, x, y):
        return y

    def _df(self, y):
        return y * (1.0 - y)


class Tanh(_Activation):
    """tanh(x); dtanh/dx = 1 - y^2."""

    def _f(self, x):
        return xp.tanh(x)

    def _backward_input(self, x, y):
        return y

    def _df(self, y):
        return 1.0 - y * y


class GELU(_Activation):
    """GELU(x) = x Phi(x), Phi the standard normal CDF (PyTorch's default, ``approximate="none"``);
    ``approximate="tanh"`` gives 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))).
    dGELU/dx = Phi(x) + x phi(x)."""

    def __init__(self, approximate="none"):
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU: approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def _f(self, x):
        return F.gelu(x, self.approximate)

    def _backward_input(self, x, y):
        return x

    def _df(self, x):
        return F.gelu_grad(x, self.approximate)


class Softmax(Module):
    """softmax(z)_i = e^(z_i - max z) / sum_j e^(z_j - max z) along the last axis.

    Backward (Jacobian-vector product): dz = y (.) (dy - sum_j dy_j y_j).
    """

    def forward(self, z):
        check_array(self, "z", z, min_ndim=1)
        y = F.softmax(z)
        self.save_for_backward(y)
        return y

    def backward(self, dy):
        (y,) = self.saved()
        check_same_shape(self, "dy", dy, y.shape)
        return F.softmax_backward(y, dy)
