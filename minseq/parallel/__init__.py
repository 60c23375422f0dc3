"""Parallel execution, kept apart from the arithmetic.

``minseq.fast`` holds the arithmetic twins (fused products, in-place work, reused buffers), and
they know nothing of threads. This package runs layers on more than one worker:

- ``shards``: batch shards, a row-independent layer's batch cut into blocks of rows, one per
  thread of the ``threads`` setting (``minseq.threads``), each on a clone of the layer sharing
  its parameter arrays; gradients summed over the blocks;
- ``layers``: the layers that run that way (MultiHeadAttention, the Transformer encoder and
  decoder layers) and the Dropout that draws one mask for the whole batch inside them.

- ``comm``: communicators, how processes talk (one process, the default; MPI on mpi4py; NCCL
  on CuPy), and ``world()``, this process's;
- ``processes``: data parallel, one model per process (``mpiexec -n N``), each process its rows
  of every batch, one all-reduce of all gradients per step: the same split of the batch by
  rows as the threads', one level up. The Trainer calls it at one spot (its ``backprop``);
- ``interrupts``: Ctrl-C while processes share work, held to the next sum so all stop together.

``minseq.fast.accelerate`` puts the sharded layers in place of their references.
"""

from .layers import (SHARDED, Dropout, MultiHeadAttention, TransformerDecoderLayer,
                     TransformerEncoderLayer)
from .shards import BatchSharded, counterparts

__all__ = ["SHARDED", "BatchSharded", "counterparts", "Dropout",
           "MultiHeadAttention", "TransformerEncoderLayer", "TransformerDecoderLayer"]
