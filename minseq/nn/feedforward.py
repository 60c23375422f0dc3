"""The position-wise feed-forward sub-layer of a Transformer block."""

from .activations import GELU, ReLU
from .dropout import Dropout
from .linear import Linear
from .module import Module

ACTIVATIONS = {"relu": ReLU, "gelu": GELU}


def feedforward_parts(d_model, d_ff, activation="relu", dropout=0.1):
    """(linear1, activation, dropout, linear2) as PyTorch's Transformer layers build them."""
    if activation not in ACTIVATIONS:
        raise ValueError(f"FeedForward: activation must be one of {sorted(ACTIVATIONS)}, "
                         f"got {activation!r}")
    return Linear(d_model, d_ff), ACTIVATIONS[activation](), Dropout(dropout), Linear(d_ff, d_model)


def feedforward(owner, x):
    """linear2(dropout(activation(linear1(x)))) with ``owner``'s sub-modules of those names."""
    return owner.linear2(owner.dropout(owner.activation(owner.linear1(x))))


def feedforward_backward(owner, dy):
    """The backward of ``feedforward``: each sub-module in reverse order; returns dx."""
    for layer in (owner.linear2, owner.dropout, owner.activation, owner.linear1):
        dy = layer.backward(dy)
    return dy


class FeedForward(Module):
    """FFN(x) = linear2(dropout(act(linear1(x)))), act = ReLU or GELU, applied at each position.

    Shapes: x (..., d_model) -> (..., d_model); linear1.W (d_model, d_ff), linear2.W
    (d_ff, d_model), initialised as ``torch.nn.Linear``. Transformer layers hold the same four
    sub-modules under the same names (as PyTorch's ``TransformerEncoderLayer`` does) and share
    ``feedforward`` / ``feedforward_backward`` with this class.
    """

    def __init__(self, d_model, d_ff, activation="relu", dropout=0.1):
        super().__init__()
        self.linear1, self.activation, self.dropout, self.linear2 = feedforward_parts(
            d_model, d_ff, activation, dropout)

    def forward(self, x):
        return feedforward(self, x)

    def backward(self, dy):
        return feedforward_backward(self, dy)
