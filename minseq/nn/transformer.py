"""Transformer encoder and decoder layers (catalogue E8), and a stack of encoder layers.

Each sub-layer (attention or feed-forward) sits inside a residual connection with a LayerNorm:

    post-LN (the original Transformer; PyTorch's default):  y = LayerNorm(x + Dropout(Sublayer(x)))
    pre-LN  (``norm_first=True``):                           y = x + Dropout(Sublayer(LayerNorm(x)))

Backward of either form: the gradient reaches x through the skip path and through the
sub-layer, and the two add up:

    post-LN:  dz = LayerNorm.backward(dy);  dx = dz + Sublayer.backward(Dropout.backward(dz))
    pre-LN:   dx = dy + LayerNorm.backward(Sublayer.backward(Dropout.backward(dy)))

Masks are boolean with True = may attend (PyTorch's boolean masks mean the opposite).
"""

from .attention import causal_mask
from .checks import check_array, check_same_shape
from .dropout import Dropout
from .feedforward import feedforward, feedforward_backward, feedforward_parts
from .layernorm import LayerNorm
from .module import Module
from .multihead import MultiHeadAttention


class TransformerEncoderLayer(Module):
    """Encoder layer (catalogue E8): self-attention, then a feed-forward network, each a
    residual sub-layer (post-LN by default, pre-LN with ``norm_first=True``):

        post-LN:  h = norm1(x + dropout1(self_attn(x, mask)))
                  y = norm2(h + dropout2(ff(h)))
        pre-LN:   h = x + dropout1(self_attn(norm1(x), mask))
                  y = h + dropout2(ff(norm2(h)))
        with ff(h) = linear2(dropout(act(linear1(h))))

    Shapes: x (B, T, d_model) -> y (B, T, d_model); mask boolean, broadcastable to (B, T, T),
    True = may attend. Sub-modules ``self_attn``, ``linear1``, ``dropout``, ``linear2``,
    ``norm1``, ``norm2``, ``dropout1``, ``dropout2``: the same function and names as
    ``torch.nn.TransformerEncoderLayer(batch_first=True)`` (weights transposed as in
    MultiHeadAttention and Linear). Backward returns dx.
    """

    def __init__(self, d_model, num_heads, d_ff=2048, dropout=0.1, activation="relu",
                 norm_first=False, layer_norm_eps=1e-5):
        super().__init__()
        self.d_model, self.norm_first = d_model, norm_first
        self.self_attn = MultiHeadAttention(d_model, num_heads)
        self.linear1, self.activation, self.dropout, self.linear2 = feedforward_parts(
            d_model, d_ff, activation, dropout)
        self.norm1 = LayerNorm(d_model, layer_norm_eps)
        self.norm2 = LayerNorm(d_model, layer_norm_eps)
        self.dropout1 = Dropout(dropout)
        self.dropout2 = Dropout(dropout)

    def forward(self, x, mask=None):
        check_array(self, "x", x, ndim=3, last_dim=self.d_model)
        self.save_for_backward(x.shape)
        if self.norm_first:
            h = x + self.dropout1(self.self_attn(self.norm1(x), mask=mask))
            return h + self.dropout2(feedforward(self, self.norm2(h)))
        h = self.norm1(x + self.dropout1(self.self_attn(x, mask=mask)))
        return self.norm2(h + self.dropout2(feedforward(self, h)))

    def backward(self, dy):
        (shape,) = self.saved()
        check_same_shape(self, "dy", dy, shape)
        if self.norm_first:
            dh = dy + self.norm2.backward(feedforward_backward(self, self.dropout2.backward(dy)))
            return dh + self.norm1.backward(self.self_attn.backward(self.dropout1.backward(dh)))
        dz2 = self.norm2.backward(dy)                                  # z2 = h + dropout2(ff(h))
        dh = dz2 + feedforward_backward(self, self.dropout2.backward(dz2))
        dz1 = self.norm1.backward(dh)                                  # z1 = x + dropout1(attn(x))
        return dz1 + self.self_attn.backward(self.dropout1.backward(dz1))

    def extra_repr(self):
        return f"{self.d_model}, norm_first={self.norm_first}"


class TransformerDecoderLayer(Module):
    """Decoder layer (catalogue E8): masked self-attention, cross-attention over the encoder
    output ``memory``, then a feed-forward network, each a residual sub-layer:

        post-LN:  h1 = norm1(x + dropout1(self_attn(x, causal & tgt_mask)))
                  h2 = norm2(h1 + dropout2(cross_attn(h1, memory, memory_mask)))
                  y  = norm3(h2 + dropout3(ff(h2)))
        pre-LN:   h1 = x + dropout1(self_attn(norm1(x), causal & tgt_mask))
                  h2 = h1 + dropout2(cross_attn(norm2(h1), memory, memory_mask))
                  y  = h2 + dropout3(ff(norm3(h2)))
        with ff(h) = linear2(dropout(act(linear1(h))))

    Shapes: x (B, T, d_model), memory (B, S, d_model) -> y (B, T, d_model). ``causal=True``
    (default) lets position t attend to positions <= t only; ``tgt_mask`` (broadcastable to
    (B, T, T)) and ``memory_mask`` (to (B, T, S)) are boolean, True = may attend.
    Sub-modules as ``torch.nn.TransformerDecoderLayer(batch_first=True)``, except that its
    ``multihead_attn`` is called ``cross_attn`` here. Backward returns (dx, dmemory).
    """

    def __init__(self, d_model, num_heads, d_ff=2048, dropout=0.1, activation="relu",
                 norm_first=False, layer_norm_eps=1e-5):
        super().__init__()
        self.d_model, self.norm_first = d_model, norm_first
        self.self_attn = MultiHeadAttention(d_model, num_heads)
        self.cross_attn = MultiHeadAttention(d_model, num_heads)
        self.linear1, self.activation, self.dropout, self.linear2 = feedforward_parts(
            d_model, d_ff, activation, dropout)
        self.norm1 = LayerNorm(d_model, layer_norm_eps)
        self.norm2 = LayerNorm(d_model, layer_norm_eps)
        self.norm3 = LayerNorm(d_model, layer_norm_eps)
        self.dropout1 = Dropout(dropout)
        self.dropout2 = Dropout(dropout)
        self.dropout3 = Dropout(dropout)

    def forward(self, x, memory, tgt_mask=None, memory_mask=None, causal=True):
        check_array(self, "x", x, ndim=3, last_dim=self.d_model)
        check_array(self, "memory", memory, ndim=3, last_dim=self.d_model, dtype=x.dtype)
        self_mask = causal_mask(x.shape[1]) if causal else None
        if tgt_mask is not None:
            self_mask = tgt_mask if self_mask is None else self_mask & tgt_mask
        self.save_for_backward(x.shape)
        if self.norm_first:
            h1 = x + self.dropout1(self.self_attn(self.norm1(x), mask=self_mask))
            h2 = h1 + self.dropout2(self.cross_attn(self.norm2(h1), memory, mask=memory_mask))
            return h2 + self.dropout3(feedforward(self, self.norm3(h2)))
        h1 = self.norm1(x + self.dropout1(self.self_attn(x, mask=self_mask)))
        h2 = self.norm2(h1 + self.dropout2(self.cross_attn(h1, memory, mask=memory_mask)))
        return self.norm3(h2 + self.dropout3(feedforward(self, h2)))

    def backward(self, dy):
        (shape,) = self.saved()
        check_same_shape(self, "dy", dy, shape)
        if self.norm_first:
            dh2 = dy + self.norm3.backward(feedforward_backward(self, self.dropout3.backward(dy)))
            da2, dmemory = self.cross_attn.backward(self.dropout2.backward(dh2))
            dh1 = dh2 + self.norm2.backward(da2)
            dx = dh1 + self.norm1.backward(self.self_attn.backward(self.dropout1.backward(dh1)))
            return dx, dmemory
        dz3 = self.norm3.backward(dy)                                  # z3 = h2 + dropout3(ff(h2))
        dh2 = dz3 + feedforward_backward(self, self.dropout3.backward(dz3))
        dz2 = self.norm2.backward(dh2)                                 # z2 = h1 + dropout2(cross(h1))
        da2, dmemory = self.cross_attn.backward(self.dropout2.backward(dz2))
        dh1 = dz2 + da2
        dz1 = self.norm1.backward(dh1)                                 # z1 = x + dropout1(attn(x))
        dx = dz1 + self.self_attn.backward(self.dropout1.backward(dz1))
        return dx, dmemory

    def extra_repr(self):
        return f"{self.d_model}, norm_first={self.norm_first}"
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
