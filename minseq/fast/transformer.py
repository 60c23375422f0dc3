"""Fast twins of the Transformer layers: each runs on batch shards (``minseq.fast.shards``).

Every row of a batch is its own sequence here, so with ``threads`` n > 1 a whole layer runs as
n blocks of rows at once, when it computes at least ``shards.MIN_SCORES`` attention scores.
Inside, the sub-layers are the fast twins ``accelerate`` put there (attention, LayerNorm,
Dropout). Measured, forward+backward, float32, 2 threads each, interleaved:
TransformerEncoderLayer (64, 200, 128, 4) 219 -> 141 ms (PyTorch 133 ms), MultiHeadAttention
121 -> 75 ms (PyTorch 78 ms), at (16, 512, 256, 8) 461 -> 319 and 268 -> 184 ms.
"""

from .. import nn
from ..nn.checks import check_array
from .accelerate import twin
from .shards import BatchSharded


@twin(nn.MultiHeadAttention)
class MultiHeadAttention(BatchSharded, nn.MultiHeadAttention):
    """``nn.MultiHeadAttention`` on batch shards (x, context and a (B, T, S) mask split by
    rows)."""

    def shard_scores(self, x, context=None, mask=None):
        B, T, _ = x.shape
        return B * self.num_heads * T * (T if context is None else context.shape[1])

    def check_shard_inputs(self, x, context=None, mask=None):
        self.check_inputs(x, context, mask)


@twin(nn.TransformerEncoderLayer)
class TransformerEncoderLayer(BatchSharded, nn.TransformerEncoderLayer):
    """``nn.TransformerEncoderLayer`` on batch shards (x and a (B, T, T) mask split by rows)."""

    def shard_scores(self, x, mask=None):
        B, T, _ = x.shape
        return B * self.self_attn.num_heads * T * T

    def check_shard_inputs(self, x, mask=None):
        check_array(self, "x", x, ndim=3, last_dim=self.d_model)
        self.self_attn.check_inputs(x, None, mask)


@twin(nn.TransformerDecoderLayer)
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
