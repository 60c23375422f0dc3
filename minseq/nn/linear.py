"""Linear (dense, fully connected) layer."""

import math

from . import init
from .checks import check_array, check_same_shape
from .module import Module


class Linear(Module):
    """y = x W + b, over any leading dimensions.

    Shapes: x (..., in_features) -> y (..., out_features); W (in_features, out_features),
    b (out_features). Index form (catalogue A2): y_j = sum_i x_i W_ij + b_j.

    PyTorch: ``torch.nn.Linear`` stores ``weight`` as (out, in); here ``W = weight.T``.
    Initialisation as PyTorch: W and b ~ U(-1/sqrt(in_features), 1/sqrt(in_features)).

    Backward: dW = x^T dy (summed over every leading position), db = sum dy, dx = dy W^T.
    """

    def __init__(self, in_features, out_features, bias=True):
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        bound = 1.0 / math.sqrt(in_features) if in_features > 0 else 0.0
        self.add_param("W", init.uniform((in_features, out_features), bound))
        if bias:
            self.add_param("b", init.uniform((out_features,), bound))

    def forward(self, x):
        W = self.params["W"]
        check_array(self, "x", x, min_ndim=1, last_dim=self.in_features, dtype=W.dtype)
        self.save_for_backward(x)
        y = x @ W
        if "b" in self.params:
            y += self.params["b"]
        return y

    def backward(self, dy):
        (x,) = self.saved()
        check_same_shape(self, "dy", dy, x.shape[:-1] + (self.out_features,))
        x2 = x.reshape(-1, self.in_features)     # (N, in), N = every leading position
        dy2 = dy.reshape(-1, self.out_features)  # (N, out)
        self.grads["W"][...] = x2.T @ dy2
        if "b" in self.params:
            self.grads["b"][...] = dy2.sum(axis=0)
        # on the 2-D view: NumPy's stacked (B, T, out) @ W^T leaves BLAS and runs ~5x slower
        return (dy2 @ self.params["W"].T).reshape(x.shape)

    def extra_repr(self):
        return f"{self.in_features}, {self.out_features}, bias={'b' in self.params}"
