"""Position information added to a sequence of vectors: fixed sinusoids or a learned table."""

import math

from .. import backend
from ..backend import xp
from . import init
from .checks import check_array, check_same_shape
from .module import Module


def sinusoidal_table(max_len, d_model):
    """PE (max_len, d_model) of catalogue E7, on the active backend in float64:

        PE[pos, 2i]   = sin(pos / 10000^(2i / d_model))
        PE[pos, 2i+1] = cos(pos / 10000^(2i / d_model))

    Each pair of dimensions is one rotation frequency, from 1 (i = 0) down to about 1/10000.
    """
    pos = xp.arange(max_len, dtype=xp.float64)[:, None]                 # (max_len, 1)
    freq = xp.exp(xp.arange(0, d_model, 2, dtype=xp.float64)
                  * (-math.log(10000.0) / d_model))                     # (ceil(d/2),)
    angle = pos * freq                                                  # (max_len, ceil(d/2))
    pe = xp.zeros((max_len, d_model), dtype=xp.float64)
    pe[:, 0::2] = xp.sin(angle)
    pe[:, 1::2] = xp.cos(angle[:, :d_model // 2])
    return pe


def _check_length(layer, x, d_model, max_len, dtype=None):
    check_array(layer, "x", x, ndim=3, last_dim=d_model, dtype=dtype)
    if x.shape[1] > max_len:
        raise ValueError(f"{layer.name()}: sequence length {x.shape[1]} exceeds max_len "
                         f"{max_len}")


class SinusoidalPositionalEncoding(Module):
    """y = x + PE[:T] (catalogue E7): even dimensions sin, odd dimensions cos, no parameters.

    Shapes: x (B, T, d_model) with T <= max_len -> y (B, T, d_model). Backward: dx = dy.
    ``pe`` holds the (max_len, d_model) table (float64; cast to x's dtype and backend when added).
    """

    def __init__(self, d_model, max_len=5000):
        super().__init__()
        self.d_model, self.max_len = d_model, max_len
        self.pe = sinusoidal_table(max_len, d_model)

    def forward(self, x):
        _check_length(self, x, self.d_model, self.max_len)
        self.save_for_backward(x.shape)
        return x + backend.asarray(self.pe[:x.shape[1]], dtype=x.dtype)

    def backward(self, dy):
        (shape,) = self.saved()
        check_same_shape(self, "dy", dy, shape)
        return dy

    def extra_repr(self):
        return f"{self.d_model}, max_len={self.max_len}"


class LearnedPositionalEmbedding(Module):
    """y = x + W[:T]: one learned vector per position (as BERT's position embeddings).

    Shapes: x (B, T, d_model) with T <= max_len -> y (B, T, d_model); W (max_len, d_model),
    initialised N(0, 1) as ``torch.nn.Embedding``. Backward: dx = dy; dW[t] = sum over the batch
    of dy[:, t] for t < T, and 0 for positions the last input did not reach.
    """

    def __init__(self, max_len, d_model):
        super().__init__()
        self.max_len, self.d_model = max_len, d_model
        self.add_param("W", init.normal((max_len, d_model)))

    def forward(self, x):
        W = self.params["W"]
        _check_length(self, x, self.d_model, self.max_len, dtype=W.dtype)
        self.save_for_backward(x.shape)
        return x + W[:x.shape[1]]

    def backward(self, dy):
        (shape,) = self.saved()
        check_same_shape(self, "dy", dy, shape)
        dW = self.grads["W"]
        dW[...] = 0
        dW[:shape[1]] = dy.sum(axis=0)
        return dy

    def extra_repr(self):
        return f"{self.max_len}, {self.d_model}"
