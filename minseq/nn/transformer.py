"""Transformer encoder and decoder layers (catalogue E8), and a stack of encoder layers.

Each sub-layer (attention or feed-forward) sits inside a residual connection with a LayerNorm:

    post-LN (the original Transformer; PyTorch's default):  y = LayerNorm(x + Dropout(Sublayer(x)))
    pre-LN  (``norm_first=True``):                           y = x + Dropout(Sublayer(LayerNorm(x)))

Masks are boolean with True = may attend (PyTorch's boolean masks mean the opposite).
"""

from .attention import causal_mask
from .checks import check_array, check_same_shape
from .dropout import Dropout
from .feedforward import feedforward, feedforward_backward, feedforward_parts
from .layernorm import LayerNorm
from .module import Module
from .multihead import MultiHeadAttention


def residual(norm, dropout, x, sublayer, norm_first):
    """One residual sub-layer: post-LN norm(x + dropout(sublayer(x))), or pre-LN
    x + dropout(sublayer(norm(x)))."""
    if norm_first:
        return x + dropout(sublayer(norm(x)))
    return norm(x + dropout(sublayer(x)))


def residual_backward(norm, dropout, dy, sublayer_backward, norm_first):
    """The backward of ``residual``: the gradient reaches x through the skip path and through
    the sub-layer, and the two add up."""
    if norm_first:
        return dy + norm.backward(sublayer_backward(dropout.backward(dy)))
    dz = norm.backward(dy)
    return dz + sublayer_backward(dropout.backward(dz))


class _Block(Module):
    """What encoder and decoder layers share: the feed-forward parts, norms and dropouts.

    ``attentions`` maps each attention sub-layer's name to its number of heads; with n of them
    the block has n + 1 residual sub-layers, hence ``norm1 .. norm{n+1}`` and
    ``dropout1 .. dropout{n+1}`` (``dropout`` alone is the one inside the feed-forward network).
    """

    def __init__(self, attentions, d_model, d_ff, dropout, activation, norm_first,
                 layer_norm_eps):
        super().__init__()
        self.d_model, self.norm_first = d_model, norm_first
        for name in attentions:  # first, so parameters list in PyTorch's order
            setattr(self, name, MultiHeadAttention(d_model, attentions[name]))
        n_sub = len(attentions) + 1
        self.linear1, self.activation, self.dropout, self.linear2 = feedforward_parts(
            d_model, d_ff, activation, dropout)
        for i in range(1, n_sub + 1):
            setattr(self, f"norm{i}", LayerNorm(d_model, layer_norm_eps))
        for i in range(1, n_sub + 1):
            setattr(self, f"dropout{i}", Dropout(dropout))

    def _sub(self, i, x, sublayer):
        return residual(getattr(self, f"norm{i}"), getattr(self, f"dropout{i}"), x, sublayer,
                        self.norm_first)

    def _sub_backward(self, i, dy, sublayer_backward):
        return residual_backward(getattr(self, f"norm{i}"), getattr(self, f"dropout{i}"), dy,
                                 sublayer_backward, self.norm_first)

    def _ff(self, x):
        return feedforward(self, x)

    def _ff_backward(self, dy):
        return feedforward_backward(self, dy)

    def extra_repr(self):
        return f"{self.d_model}, norm_first={self.norm_first}"


class TransformerEncoderLayer(_Block):
    """Encoder layer (catalogue E8): self-attention, then a feed-forward network, each a
    residual sub-layer (post-LN by default, pre-LN with ``norm_first=True``):

        a = self_attn(x, mask);  h = norm1(x + dropout1(a))
        f = linear2(dropout(act(linear1(h))));  y = norm2(h + dropout2(f))      (post-LN)

    Shapes: x (B, T, d_model) -> y (B, T, d_model); mask boolean, broadcastable to (B, T, T),
    True = may attend. Sub-modules ``self_attn``, ``linear1``, ``dropout``, ``linear2``,
    ``norm1``, ``norm2``, ``dropout1``, ``dropout2``: the same function and names as
    ``torch.nn.TransformerEncoderLayer(batch_first=True)`` (weights transposed as in
    MultiHeadAttention and Linear). Backward returns dx.
    """

    def __init__(self, d_model, num_heads, d_ff=2048, dropout=0.1, activation="relu",
                 norm_first=False, layer_norm_eps=1e-5):
        super().__init__({"self_attn": num_heads}, d_model, d_ff, dropout, activation,
                         norm_first, layer_norm_eps)

    def forward(self, x, mask=None):
        check_array(self, "x", x, ndim=3, last_dim=self.d_model)
        self._save(x.shape)
        h = self._sub(1, x, lambda a: self.self_attn(a, mask=mask))
        return self._sub(2, h, self._ff)

    def backward(self, dy):
        (shape,) = self._take()
        check_same_shape(self, "dy", dy, shape)
        dh = self._sub_backward(2, dy, self._ff_backward)
        return self._sub_backward(1, dh, self.self_attn.backward)


class TransformerDecoderLayer(_Block):
    """Decoder layer (catalogue E8): masked self-attention, cross-attention over the encoder
    output ``memory``, then a feed-forward network, each a residual sub-layer:

        h1 = norm1(x + dropout1(self_attn(x, causal & tgt_mask)))
        h2 = norm2(h1 + dropout2(cross_attn(h1, memory, memory_mask)))
        y  = norm3(h2 + dropout3(linear2(dropout(act(linear1(h2))))))          (post-LN)

    Shapes: x (B, T, d_model), memory (B, S, d_model) -> y (B, T, d_model). ``causal=True``
    (default) lets position t attend to positions <= t only; ``tgt_mask`` (broadcastable to
    (B, T, T)) and ``memory_mask`` (to (B, T, S)) are boolean, True = may attend.
    Sub-modules as ``torch.nn.TransformerDecoderLayer(batch_first=True)``, except that its
    ``multihead_attn`` is called ``cross_attn`` here. Backward returns (dx, dmemory).
    """

    def __init__(self, d_model, num_heads, d_ff=2048, dropout=0.1, activation="relu",
                 norm_first=False, layer_norm_eps=1e-5):
        super().__init__({"self_attn": num_heads, "cross_attn": num_heads}, d_model, d_ff,
                         dropout, activation, norm_first, layer_norm_eps)

    def forward(self, x, memory, tgt_mask=None, memory_mask=None, causal=True):
        check_array(self, "x", x, ndim=3, last_dim=self.d_model)
        check_array(self, "memory", memory, ndim=3, last_dim=self.d_model, dtype=x.dtype)
        self_mask = causal_mask(x.shape[1]) if causal else None
        if tgt_mask is not None:
            self_mask = tgt_mask if self_mask is None else self_mask & tgt_mask
        self._save(x.shape)
        h1 = self._sub(1, x, lambda a: self.self_attn(a, mask=self_mask))
        h2 = self._sub(2, h1, lambda a: self.cross_attn(a, memory, mask=memory_mask))
        return self._sub(3, h2, self._ff)

    def backward(self, dy):
        (shape,) = self._take()
        check_same_shape(self, "dy", dy, shape)
        dmemory = []

        def cross_backward(d):
            dh, dm = self.cross_attn.backward(d)
            dmemory.append(dm)
            return dh

        dh2 = self._sub_backward(3, dy, self._ff_backward)
        dh1 = self._sub_backward(2, dh2, cross_backward)
        return self._sub_backward(1, dh1, self.self_attn.backward), dmemory[0]


class TransformerEncoder(Module):
    """``num_layers`` encoder layers in sequence, each made by ``layer_factory()``, and an
    optional final ``norm`` (as ``torch.nn.TransformerEncoder``; PyTorch deep-copies one layer,
    so its layers start equal, while each factory call here draws fresh weights).

    Shapes: x (B, T, d_model) -> (B, T, d_model); ``mask`` goes to every layer. Parameters are
    named ``layers.0.self_attn.Wq`` and so on. Backward returns dx.
    """

    def __init__(self, layer_factory, num_layers, norm=None):
        super().__init__()
        self.layers = [layer_factory() for _ in range(num_layers)]
        self.norm = norm

    def forward(self, x, mask=None):
        for layer in self.layers:
            x = layer(x, mask=mask)
        return x if self.norm is None else self.norm(x)

    def backward(self, dy):
        if self.norm is not None:
            dy = self.norm.backward(dy)
        for layer in reversed(self.layers):
            dy = layer.backward(dy)
        return dy

    def extra_repr(self):
        return f"num_layers={len(self.layers)}"
