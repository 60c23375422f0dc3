"""Parallel execution, kept apart from the arithmetic.

``minseq.fast`` holds the arithmetic twins (fused products, in-place work, reused buffers), and
they know nothing of threads. This package runs layers on more than one worker:

- ``shards``: batch shards, a row-independent layer's batch cut into blocks of rows, one per
  thread of the ``threads`` setting (``minseq.threads``), each on a clone of the layer sharing
  its parameter arrays; gradients summed over the blocks;
- ``layers``: the layers that run that way (MultiHeadAttention, the Transformer encoder and
  decoder layers) and the Dropout that draws one mask for the whole batch inside them.

Processes (data parallel: one model per process, gradients summed across them) belong here too,
beside the threads: the same split of the batch by rows, one level up.
``minseq.fast.accelerate`` puts the sharded layers in place of their references.
"""

from .layers import (SHARDED, Dropout, MultiHeadAttention, TransformerDecoderLayer,
                     TransformerEncoderLayer)
from .shards import BatchSharded, counterparts

__all__ = ["SHARDED", "BatchSharded", "counterparts", "Dropout",
           "MultiHeadAttention", "TransformerEncoderLayer", "TransformerDecoderLayer"]
