"""Multi-head attention (catalogue E6): h scaled dot-product attentions side by side."""

import math

from ..backend import xp
from . import init
from .attention import ScaledDotProductAttention, check_mask
from .checks import check_array, check_same_shape
from .module import Module


class MultiHeadAttention(Module):
    """MultiHead(x, c) = Concat(head_1, ..., head_h) W_O + b_O,
    head_i = Attention(x W_Q^i + b_Q^i, c W_K^i + b_K^i, c W_V^i + b_V^i)   (catalogue E6, E1)

    where W_Q^i is columns i*d_k .. (i+1)*d_k of W_Q (d_k = d_model / h), and c = x for
    self-attention. All heads are computed at once by one ``ScaledDotProductAttention``
    (``self.attention``) over a (B, h, T, d_k) layout, never by a loop over heads:

        q = split(x W_Q + b_Q)  (B, h, T, d_k);   k, v = split(c W_K + b_K), split(c W_V + b_V)
        heads = Attention(q, k, v, mask)  (B, h, T, d_k);   out = merge(heads) W_O + b_O

    Backward runs the same lines in reverse: dW_O = concat^T dout, dheads = split(dout W_O^T),
    (dq, dk, dv) = Attention.backward(dheads), dW_Q = x^T merge(dq), dx = merge(dq) W_Q^T (+ the
    key and value paths for self-attention).

    Shapes: x (B, T, d_model); context (B, S, d_model) or None (self-attention, S = T);
    mask boolean, broadcastable to (B, T, S), True = query t may attend to key s (PyTorch's
    boolean attn_mask means the opposite; a key-padding mask (B, S) is passed as
    ``mask[:, None, :]``). A query with every key masked gets a zero attention output (its
    output is then b_O). Output (B, T, d_model). ``weights`` keeps P (B, h, T, S) of the last
    forward, for plots.

    Parameters: Wq, Wk, Wv, Wo (d_model, d_model) and bq, bk, bv, bo (d_model,). The same
    function as ``torch.nn.MultiheadAttention(d_model, h, batch_first=True)`` with
    ``Wq, Wk, Wv = in_proj_weight.chunk(3)`` each transposed, ``bq, bk, bv = in_proj_bias.chunk(3)``,
    ``Wo = out_proj.weight.T``, ``bo = out_proj.bias``. Initialised as PyTorch: the stacked
    (3 d_model, d_model) in-projection is Xavier-uniform, U(+-sqrt(6 / (d_model + 3 d_model))),
    Wo is U(+-1/sqrt(d_model)) (Linear's default), every bias 0.

    ``backward(dout)`` returns dx for self-attention and (dx, dcontext) for cross-attention.
    The gradient of bk is exactly 0: a key bias shifts each query's scores by a constant, which
    the softmax ignores (it is kept for parity with PyTorch's parameters).
    """

    def __init__(self, d_model, num_heads, bias=True):
        super().__init__()
        if num_heads < 1 or d_model % num_heads:
            raise ValueError(f"MultiHeadAttention: d_model ({d_model}) must be divisible by "
                             f"num_heads ({num_heads})")
        self.d_model, self.num_heads, self.d_k = d_model, num_heads, d_model // num_heads
        in_proj = init.xavier_uniform((3 * d_model, d_model), d_model, 3 * d_model)
        for name, W in zip(("Wq", "Wk", "Wv"), (in_proj[:d_model], in_proj[d_model:2 * d_model],
                                                in_proj[2 * d_model:])):
            self.add_param(name, xp.ascontiguousarray(W.T))
        self.add_param("Wo", init.uniform((d_model, d_model), 1.0 / math.sqrt(d_model)))
        if bias:
            for name in ("bq", "bk", "bv", "bo"):
                self.add_param(name, init.zeros((d_model,)))
        self.attention = ScaledDotProductAttention()

    @property
    def weights(self):
        """P (B, h, T, S): the attention weights of the last forward, for plots."""
        return self.attention.weights

    # (B, T, d_model) <-> (B, h, T, d_k): a view, and its inverse (one copy)
    def split(self, a):
        B, T, _ = a.shape
        return a.reshape(B, T, self.num_heads, self.d_k).swapaxes(1, 2)  # (B, h, T, d_k)

    def merge(self, a):
        B, _, T, _ = a.shape
        return a.swapaxes(1, 2).reshape(B, T, self.d_model)              # (B, T, d_model)

    def check_inputs(self, x, context, mask):
        """Raise unless x, context and mask fit together (shapes in the class docstring);
        returns the mask with a heads axis, (B, 1, T, S), when it had a batch axis."""
        check_array(self, "x", x, ndim=3, last_dim=self.d_model, dtype=self.params["Wq"].dtype)
        c = x if context is None else context
        if context is not None:
            check_array(self, "context", context, ndim=3, last_dim=self.d_model, dtype=x.dtype)
            if context.shape[0] != x.shape[0]:
                raise ValueError(f"{self.name()}: context batch {context.shape[0]} differs from "
                                 f"x batch {x.shape[0]}")
        if mask is not None:
            check_mask(self, mask, (x.shape[0], x.shape[1], c.shape[1]))
            if mask.ndim == 3:
                mask = mask[:, None]                                      # (B, 1, T, S)
        return mask

    def linear(self, a, name):
        """a W_name + b_name (no bias when built with ``bias=False``)."""
        y = a @ self.params["W" + name]
        return y + self.params["b" + name] if "b" + name in self.params else y

    def forward(self, x, context=None, mask=None):
        mask = self.check_inputs(x, context, mask)
        c = x if context is None else context                             # self-attention: c = x
        q = self.split(self.linear(x, "q"))                               # (B, h, T, d_k)
        k = self.split(self.linear(c, "k"))                               # (B, h, S, d_k)
        v = self.split(self.linear(c, "v"))                               # (B, h, S, d_k)
        heads = self.attention(q, k, v, mask)                             # (B, h, T, d_k)
        concat = self.merge(heads)                                        # (B, T, d_model)
        out = self.linear(concat, "o")                                    # (B, T, d_model)
        self.save_for_backward(x, context, concat)
        return out

    def backward(self, dout):
        x, context, concat = self.saved()
        check_same_shape(self, "dout", dout, x.shape)
        c = x if context is None else context
        p, g, d = self.params, self.grads, self.d_model
        # weight gradients sum over every (b, t): products of the (B*T, d_model) 2-D views
        dout2 = dout.reshape(-1, d)                                       # (B*T, d_model)
        g["Wo"][...] = concat.reshape(-1, d).T @ dout2                    # (d_model, d_model)
        # on the 2-D view: NumPy's stacked (B, T, d) @ Wo^T leaves BLAS and runs ~5x slower
        dconcat = (dout2 @ p["Wo"].T).reshape(dout.shape)                 # (B, T, d_model)
        dheads = self.split(dconcat)                                      # (B, h, T, d_k)
        dq, dk, dv = self.attention.backward(dheads)                      # (B, h, T|S, d_k)
        dq = self.merge(dq).reshape(-1, d)                                # (B*T, d_model)
        dk = self.merge(dk).reshape(-1, d)                                # (B*S, d_model)
        dv = self.merge(dv).reshape(-1, d)                                # (B*S, d_model)
        x2, c2 = x.reshape(-1, d), c.reshape(-1, d)                       # (B*T|S, d_model)
        g["Wq"][...] = x2.T @ dq
        g["Wk"][...] = c2.T @ dk
        g["Wv"][...] = c2.T @ dv
        if "bo" in p:
            g["bo"][...] = dout2.sum(axis=0)
            g["bq"][...] = dq.sum(axis=0)
            g["bk"][...] = 0  # q_t . bk shifts a whole softmax row: no effect, no gradient
            g["bv"][...] = dv.sum(axis=0)
        dx = (dq @ p["Wq"].T).reshape(x.shape)                            # (B, T, d_model)
        dc = (dk @ p["Wk"].T + dv @ p["Wv"].T).reshape(c.shape)           # (B, S, d_model)
        if context is None:
            return dx + dc                                                # x served as c too
        return dx, dc

    def extra_repr(self):
        return f"{self.d_model}, num_heads={self.num_heads}, bias={'bo' in self.params}"
