"""The optimisation chapter: drop-in fast twins of the reference layers of ``minseq.nn``.

Each twin subclasses its reference layer (same constructor, parameters, state dict, outputs
and gradients, tested equal in ``tests/fast/test_fast.py``) and carries the measured speed tricks
the reference leaves out so that it can be read beside its formulas: fused gate products,
in-place work, reused buffers (``buffers``). Twins are arithmetic only; running a layer on
several threads is ``minseq.parallel``'s. ``accelerate(model)`` swaps every layer that has a
twin, and puts the attention and Transformer layers on batch shards (``minseq.parallel``).
Lessons teach ``minseq.nn``; ``minseq train`` accelerates by default (``--reference`` not).
"""

from .accelerate import TWINS, accelerate, tier, twin, twin_of
from .attention import ScaledDotProductAttention
from .gru import GRU, GRUCell
from .layernorm import LayerNorm
from .lstm import LSTM, LSTMCell
from .rnn import RNN, RNNCell

__all__ = ["TWINS", "accelerate", "tier", "twin", "twin_of",
           "RNNCell", "RNN", "LSTMCell", "LSTM", "GRUCell", "GRU",
           "ScaledDotProductAttention", "LayerNorm"]
