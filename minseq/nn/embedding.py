"""Embedding lookup table."""

from ..backend import xp
from . import init
from .checks import check_array, check_range, check_same_shape
from .module import Module


class Embedding(Module):
    """y[..., :] = W[idx[...], :]: row ``idx`` of the table W (num_embeddings, dim).

    idx: integer array of any shape; y: idx.shape + (dim,). Initialised N(0, 1) as PyTorch,
    with the ``padding_idx`` row set to zero and never updated (its gradient stays zero).

    Backward: dW[k] = sum of dy over every position where idx == k. Repeated indices must add
    up, so the scatter uses ``xp.add.at`` (fancy-index ``+=`` keeps only one of the repeats).
    The indices have no gradient; backward returns None.
    """

    def __init__(self, num_embeddings, dim, padding_idx=None):
        super().__init__()
        if padding_idx is not None and not 0 <= padding_idx < num_embeddings:
            raise ValueError(f"Embedding: padding_idx must lie in [0, {num_embeddings}), "
                             f"got {padding_idx}")
        self.num_embeddings, self.dim, self.padding_idx = num_embeddings, dim, padding_idx
        W = init.normal((num_embeddings, dim))
        if padding_idx is not None:
            W[padding_idx] = 0
        self.add_param("W", W)

    def forward(self, idx):
        check_array(self, "idx", idx, floating=False)
        if idx.dtype.kind not in "iu":
            raise TypeError(f"Embedding: idx must be an integer array, got {idx.dtype.name}")
        check_range(self, "indices", idx, self.num_embeddings)
        self.save_for_backward(idx)
        return self.params["W"][idx]

    def backward(self, dy):
        (idx,) = self.saved()
        check_same_shape(self, "dy", dy, idx.shape + (self.dim,))
        dW = self.grads["W"]
        dW[...] = 0
        xp.add.at(dW, idx.reshape(-1), dy.reshape(-1, self.dim))
        if self.padding_idx is not None:
            dW[self.padding_idx] = 0
        return None

    def extra_repr(self):
        return f"{self.num_embeddings}, {self.dim}, padding_idx={self.padding_idx}"
