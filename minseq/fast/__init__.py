"""The optimisation chapter: drop-in fast twins of the reference layers of ``minseq.nn``.

Each twin subclasses its reference layer (same constructor, parameters, state dict, outputs
and gradients, tested equal in ``tests/test_fast.py``) and carries the measured speed tricks
the reference leaves out so that it can be read beside its formulas: fused gate products,
in-place work, reused buffers, and, for the attention and Transformer layers, batch shards
on every thread of the ``threads`` setting (``minseq.fast.shards``). ``accelerate(model)``
swaps every layer that has a twin.
Lessons teach ``minseq.nn``; ``minseq train`` accelerates by default (``--reference`` not).
"""

from .accelerate import TWINS, accelerate, tier, twin, twin_of
from .attention import ScaledDotProductAttention
from .dropout import Dropout
from .gru import GRU, GRUCell
from .layernorm import LayerNorm
from .lstm import LSTM, LSTMCell
from .rnn import RNN, RNNCell
from .shards import BatchSharded
from .transformer import MultiHeadAttention, TransformerDecoderLayer, TransformerEncoderLayer

__all__ = ["TWINS", "accelerate", "tier", "twin", "twin_of",
           "RNNCell", "RNN", "LSTMCell", "LSTM", "GRUCell", "GRU",
           "ScaledDotProductAttention", "LayerNorm", "BatchSharded", "MultiHeadAttention",
           "TransformerEncoderLayer", "TransformerDecoderLayer", "Dropout"]
