"""The layers that run on batch shards (``minseq.parallel.shards``), and the Dropout inside them.

Every row of a batch is its own sequence here, so with ``threads`` n > 1 a whole layer runs as
n blocks of rows at once, when it computes at least ``shards.MIN_SCORES`` attention scores.
``minseq.fast.accelerate`` puts these layers in place of their references, with the fast twins
of their sub-layers (attention, LayerNorm) inside. Measured, forward+backward, float32,
2 threads each, interleaved: TransformerEncoderLayer (64, 200, 128, 4) 219 -> 141 ms (PyTorch
133 ms), MultiHeadAttention 121 -> 75 ms (PyTorch 78 ms), at (16, 512, 256, 8) 461 -> 319 and
268 -> 184 ms.
"""

from .. import nn
from ..nn.checks import check_array
from .shards import BatchSharded, counterparts, current_shard, join


class MultiHeadAttention(BatchSharded, nn.MultiHeadAttention):
    """``nn.MultiHeadAttention`` on batch shards (x, context and a (B, T, S) mask split by
    rows)."""

    @property
    def weights(self):
        """P (B, h, T, S) of the last forward, for plots: the shards' joined when that forward
        ran on batch shards, here or in a sharded layer that holds this one."""
        parts = counterparts(self)
        if parts is None:
            return super().weights
        return join([p.weights for p in parts])

    def shard_scores(self, x, context=None, mask=None):
        B, T, _ = x.shape
        return B * self.num_heads * T * (T if context is None else context.shape[1])

    def check_shard_inputs(self, x, context=None, mask=None):
        self.check_inputs(x, context, mask)


class TransformerEncoderLayer(BatchSharded, nn.TransformerEncoderLayer):
    """``nn.TransformerEncoderLayer`` on batch shards (x and a (B, T, T) mask split by rows)."""

    def shard_scores(self, x, mask=None):
        B, T, _ = x.shape
        return B * self.self_attn.num_heads * T * T

    def check_shard_inputs(self, x, mask=None):
        check_array(self, "x", x, ndim=3, last_dim=self.d_model)
        self.self_attn.check_inputs(x, None, mask)


class TransformerDecoderLayer(BatchSharded, nn.TransformerDecoderLayer):
    """``nn.TransformerDecoderLayer`` on batch shards (x, memory and (B, ., .) masks split by
    rows); backward returns (dx, dmemory)."""

    def shard_scores(self, x, memory, tgt_mask=None, memory_mask=None, causal=True):
        B, T, _ = x.shape
        return B * self.self_attn.num_heads * T * (T + memory.shape[1])

    def check_shard_inputs(self, x, memory, tgt_mask=None, memory_mask=None, causal=True):
        check_array(self, "x", x, ndim=3, last_dim=self.d_model)
        check_array(self, "memory", memory, ndim=3, last_dim=self.d_model, dtype=x.dtype)
        self.self_attn.check_inputs(x, None, tgt_mask)
        self.cross_attn.check_inputs(x, memory, memory_mask)


class Dropout(nn.Dropout):
    """``nn.Dropout`` that, inside a batch shard, keeps its rows of the mask that its layer's
    own Dropout draws for the whole batch: a sharded layer then drops exactly what the unsharded
    one drops. Outside a shard it is ``nn.Dropout``."""

    def name(self):
        return f"parallel.{type(self).__name__}"

    def draw_keep(self, shape, dtype):
        shard = current_shard()
        if shard is None:
            return super().draw_keep(shape, dtype)
        return shard.keep_rows(self, shape, dtype)


#: reference layer -> its version on batch shards (``minseq.fast.accelerate`` puts them in)
SHARDED = {nn.MultiHeadAttention: MultiHeadAttention,
           nn.TransformerEncoderLayer: TransformerEncoderLayer,
           nn.TransformerDecoderLayer: TransformerDecoderLayer,
           nn.Dropout: Dropout}
