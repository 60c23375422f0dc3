"""The table of public entry points the bad-input suite (test_bad_input.py) runs every case on.

One ``Entry`` per layer, loss or model: how to build it and a valid input for a batch of B
examples of T steps, and which axes of each input are the batch and the time axis. The suite
derives every bad input (wrong rank, feature size, dtype, ...) and every reference (the
contiguous copy, the batch run row by row, the causal prefix) from this description, so adding
a model is one ``Entry`` in ``ENTRIES``.

Everything is float64 and small: the references are compared to 1e-10.
"""

from dataclasses import dataclass, field, replace
from typing import Callable, Optional

from minseq import backend, nn
from minseq.backend import xp
from minseq.fast import accelerate
from minseq.models.gru4rec import GRU4Rec
from minseq.models.lstm_attention import LSTMAttentionClassifier
from minseq.models.lstm_classifier import LSTMClassifier
from minseq.models.mlp_counts import MLPCounts
from minseq.models.sasrec import SASRec
from minseq.models.transformer_classifier import TransformerClassifier


def randn(*shape, seed=0):
    return backend.asarray(backend.host_rng(seed).standard_normal(shape), dtype=xp.float64)


def randint(high, *shape, seed=0):
    return backend.asarray(backend.host_rng(seed).integers(0, high, size=shape))


def uniform(*shape, seed=0):
    return backend.asarray(backend.host_rng(seed).random(shape), dtype=xp.float64)


@dataclass
class Entry:
    """A public entry point and a valid input for it.

    build() -> the module (float64); inputs(B, T) -> (args, kwargs) on the active backend.
    batch / time: for each positional input, its batch / time axis (None: it has none);
    out_batch / out_time: the same for every output (None for a loss's 0-d value).
    causal(T) -> kwargs under which output step t depends on input steps <= t only (None: the
    layer has no time axis, or no causal form). main: the input the rank, feature, dtype,
    non-finite and other-backend cases change. rank_free: the main input may have any number of
    leading axes (else a different rank is an error). features: its last axis has a fixed size.
    param_dtype: the layer has parameters, so an input of another float dtype is an error.
    mask(args) -> the shape of a valid boolean mask passed as ``mask_name`` (or, with
    ``mask_arg``, as that positional input: a model's required mask). limits: elementwise,
    so +-inf input gives the function's limit (else non-finite input propagates).
    loss: forward returns the mean over examples, backward takes no upstream gradient.
    integer_main: the main input holds ids, valid in [0, n_ids) (None: the module's
    ``num_embeddings``).
    na: {case: reason} for cases that do not apply.
    """

    label: str
    build: Callable
    inputs: Callable
    batch: tuple = (0,)
    time: tuple = (None,)
    out_batch: tuple = (0,)
    out_time: tuple = (None,)
    causal: Optional[Callable] = None
    main: int = 0
    rank_free: bool = False
    features: bool = True
    param_dtype: bool = True
    mask_name: str = "mask"
    mask: Optional[Callable] = None
    mask_arg: Optional[int] = None
    limits: bool = False
    loss: bool = False
    integer_main: bool = False
    n_ids: Optional[int] = None
    na: dict = field(default_factory=dict)

    def __str__(self):
        return self.label


D, H = 4, 3


def _x(B, T, d=D, seed=0):
    return randn(B, T, d, seed=seed)


def _elementwise(label, make):
    return Entry(label, make, lambda B, T: ((_x(B, T),), {}), time=(1,), out_time=(1,),
                 causal=lambda T: {}, rank_free=True, features=False, param_dtype=False,
                 limits=True)


_RANDOM_MASK = "the dropout mask is drawn for the whole batch: a row alone draws another"
_NO_DROPOUT = dict(dropout=0.0)


def _recurrent(label, make, cell=False, n_states=1):
    if cell:
        return Entry(label, make,
                     lambda B, T: ((randn(B, D),) + tuple(randn(B, H, seed=1 + k)
                                                          for k in range(n_states)), {}),
                     batch=(0,) * (1 + n_states), time=(None,) * (1 + n_states),
                     out_batch=(0,) * n_states, out_time=(None,) * n_states)
    # outputs: hs (B, T, H) and the final state(s) (B, H): (hs, h_n) or (hs, (h_n, c_n))
    return Entry(label, make, lambda B, T: ((_x(B, T),), {}), time=(1,),
                 out_batch=(0,) * (1 + n_states), out_time=(1,) + (None,) * n_states,
                 causal=lambda T: {}, mask=lambda args: args[0].shape[:2])


def _attention_inputs(B, T):
    return (randn(B, T, D), randn(B, T, D, seed=1), randn(B, T, 2, seed=2)), {}


def _decoder_inputs(B, T):
    return (randn(B, T, 6), randn(B, 5, 6, seed=1)), {}


def _graph_inputs(B, T):
    A = (uniform(B, 5, 5, seed=1) > 0.5).astype(xp.float64)
    return (randn(B, 5, 3), A), {}


def _ce_inputs(B, T):
    return (randn(B, T, 5), randint(5, B, T, seed=1)), {}


# -- models: integer ids, and the classifiers' required mask ----------------------------------
K, N_CAT, N_ITEMS = 3, 2, 6


def _left_padded(B, T, high, seed=0, width=None):
    """ids (B, T [, width]) in 1..high-1 and mask (B, T): odd rows start with one padding
    step (id 0, mask False), so every row keeps a real event (T >= 2)."""
    shape = (B, T) if width is None else (B, T, width)
    ids = backend.to_numpy(randint(high - 1, *shape, seed=seed)) + 1
    mask = backend.to_numpy(xp.ones((B, T), dtype=bool)).copy()
    if T > 1:
        mask[1::2, 0] = False
        ids[1::2, 0] = 0
    return backend.asarray(ids), backend.asarray(mask)


def _classifier(label, make, n_categories=0):
    """A next-behaviour classifier: forward(inputs (B, T) or (B, T, 2), mask (B, T)) ->
    logits (B, C). Categories: the main input is (B, T, 2) [behaviour, category] (both id
    ranges must hold: the valid ids are those of the smaller table)."""
    def inputs(B, T):
        ids, mask = _left_padded(B, T, 1 + min(K, n_categories or K),
                                 width=2 if n_categories else None)
        return (ids, mask), {}
    return Entry(label, lambda: make().astype(xp.float64), inputs, batch=(0, 0),
                 time=(1, 1), features=False, mask=lambda args: args[0].shape[:2], mask_arg=1,
                 integer_main=True, n_ids=1 + min(K, n_categories or K))


def _recommender(label, make):
    """A next-item recommender: forward(seq (B, T), candidates (B, T, C)) -> scores
    (B, T, C); causal (position t reads items <= t)."""
    def inputs(B, T):
        seq, _ = _left_padded(B, T, N_ITEMS + 1)
        return (seq, randint(N_ITEMS + 1, B, T, 2, seed=1)), {}
    return Entry(label, lambda: make().astype(xp.float64), inputs, batch=(0, 0), time=(1, 1),
                 out_time=(1,), causal=lambda T: {}, features=False, integer_main=True,
                 n_ids=N_ITEMS + 1)


ENTRIES = [
    Entry("Linear", lambda: nn.Linear(D, 3).astype(xp.float64),
          lambda B, T: ((_x(B, T),), {}), time=(1,), out_time=(1,), causal=lambda T: {},
          rank_free=True),
    _elementwise("ReLU", nn.ReLU),
    _elementwise("Sigmoid", nn.Sigmoid),
    _elementwise("Tanh", nn.Tanh),
    _elementwise("GELU", nn.GELU),
    Entry("GELU tanh", lambda: nn.GELU("tanh"), lambda B, T: ((_x(B, T),), {}), time=(1,),
          out_time=(1,), causal=lambda T: {}, rank_free=True, features=False,
          param_dtype=False, limits=True),
    Entry("Softmax", nn.Softmax, lambda B, T: ((_x(B, T),), {}), time=(1,), out_time=(1,),
          causal=lambda T: {}, rank_free=True, features=False, param_dtype=False),
    Entry("Dropout", lambda: nn.Dropout(0.4, seed=3), lambda B, T: ((_x(B, T),), {}),
          time=(1,), out_time=(1,), rank_free=True, features=False, param_dtype=False,
          na={"rows": _RANDOM_MASK, "prefix": _RANDOM_MASK,
              "float32": "a float32 mask is drawn from another stream of random numbers"}),
    Entry("Embedding", lambda: nn.Embedding(7, D, padding_idx=0).astype(xp.float64),
          lambda B, T: ((randint(7, B, T),), {}), time=(1,), out_time=(1,),
          causal=lambda T: {}, rank_free=True, features=False, integer_main=True),
    Entry("Sequential", lambda: nn.Sequential(nn.Linear(D, 5), nn.Tanh(),
                                              nn.Linear(5, 2)).astype(xp.float64),
          lambda B, T: ((_x(B, T),), {}), time=(1,), out_time=(1,), causal=lambda T: {},
          rank_free=True),
    Entry("MSELoss", nn.MSELoss, lambda B, T: ((_x(B, T), _x(B, T, seed=1)), {}),
          batch=(0, 0), time=(1, 1), out_batch=(None,), out_time=(None,), rank_free=False,
          param_dtype=False, loss=True),
    Entry("CrossEntropyLoss", lambda: nn.CrossEntropyLoss(ignore_index=-1), _ce_inputs,
          batch=(0, 0), time=(1, 1), out_batch=(None,), out_time=(None,), features=False,
          param_dtype=False, loss=True),
    Entry("BCEWithLogitsLoss", nn.BCEWithLogitsLoss,
          lambda B, T: ((_x(B, T), uniform(B, T, D, seed=1)), {}), batch=(0, 0), time=(1, 1),
          out_batch=(None,), out_time=(None,), param_dtype=False, loss=True),
    _recurrent("RNNCell", lambda: nn.RNNCell(D, H).astype(xp.float64), cell=True),
    _recurrent("LSTMCell", lambda: nn.LSTMCell(D, H).astype(xp.float64), cell=True,
               n_states=2),
    _recurrent("GRUCell", lambda: nn.GRUCell(D, H).astype(xp.float64), cell=True),
    _recurrent("RNN", lambda: nn.RNN(D, H).astype(xp.float64)),
    _recurrent("LSTM", lambda: nn.LSTM(D, H).astype(xp.float64), n_states=2),
    _recurrent("GRU", lambda: nn.GRU(D, H).astype(xp.float64)),
    Entry("ScaledDotProductAttention", nn.ScaledDotProductAttention, _attention_inputs,
          batch=(0, 0, 0), time=(1, 1, 1), out_time=(1,),
          causal=lambda T: {"mask": nn.causal_mask(T)}, param_dtype=False,
          mask=lambda args: args[0].shape[:2] + (args[1].shape[1],)),
    Entry("MultiHeadAttention", lambda: nn.MultiHeadAttention(D, 2).astype(xp.float64),
          lambda B, T: ((_x(B, T),), {}), time=(1,), out_time=(1,),
          causal=lambda T: {"mask": nn.causal_mask(T)},
          mask=lambda args: args[0].shape[:2] + (args[0].shape[1],)),
    Entry("MultiHeadAttention cross", lambda: nn.MultiHeadAttention(D, 2).astype(xp.float64),
          lambda B, T: ((_x(B, T), randn(B, 5, D, seed=1)), {}), batch=(0, 0),
          time=(1, None), out_time=(1,), causal=lambda T: {},
          mask=lambda args: args[0].shape[:2] + (args[1].shape[1],)),
    Entry("LayerNorm", lambda: nn.LayerNorm(D).astype(xp.float64),
          lambda B, T: ((_x(B, T),), {}), time=(1,), out_time=(1,), causal=lambda T: {},
          rank_free=True),
    Entry("SinusoidalPositionalEncoding", lambda: nn.SinusoidalPositionalEncoding(D, 16),
          lambda B, T: ((_x(B, T),), {}), time=(1,), out_time=(1,), causal=lambda T: {},
          param_dtype=False),
    Entry("LearnedPositionalEmbedding",
          lambda: nn.LearnedPositionalEmbedding(16, D).astype(xp.float64),
          lambda B, T: ((_x(B, T),), {}), time=(1,), out_time=(1,), causal=lambda T: {}),
    Entry("FeedForward", lambda: nn.FeedForward(D, 6, "gelu", 0.0).astype(xp.float64),
          lambda B, T: ((_x(B, T),), {}), time=(1,), out_time=(1,), causal=lambda T: {},
          rank_free=True),
    Entry("TransformerEncoderLayer",
          lambda: nn.TransformerEncoderLayer(D, 2, 6, **_NO_DROPOUT).astype(xp.float64),
          lambda B, T: ((_x(B, T),), {}), time=(1,), out_time=(1,),
          causal=lambda T: {"mask": nn.causal_mask(T)},
          mask=lambda args: args[0].shape[:2] + (args[0].shape[1],)),
    Entry("TransformerDecoderLayer",
          lambda: nn.TransformerDecoderLayer(6, 2, 8, norm_first=True,
                                             **_NO_DROPOUT).astype(xp.float64),
          _decoder_inputs, batch=(0, 0), time=(1, None), out_time=(1,), causal=lambda T: {},
          mask_name="memory_mask",
          mask=lambda args: args[0].shape[:2] + (args[1].shape[1],)),
    Entry("TransformerEncoder",
          lambda: nn.TransformerEncoder(
              lambda: nn.TransformerEncoderLayer(D, 2, 6, **_NO_DROPOUT), 2,
              norm=nn.LayerNorm(D)).astype(xp.float64),
          lambda B, T: ((_x(B, T),), {}), time=(1,), out_time=(1,),
          causal=lambda T: {"mask": nn.causal_mask(T)},
          mask=lambda args: args[0].shape[:2] + (args[0].shape[1],)),
    Entry("GraphConv", lambda: nn.GraphConv(3, 2, "tanh", "sym").astype(xp.float64),
          _graph_inputs, batch=(0, 0)),
    # models (minseq.models): one Entry each, below this line
    _classifier("MLPCounts", lambda: MLPCounts(K, 3, hidden=5, dropout=0.0)),
    _classifier("LSTMClassifier", lambda: LSTMClassifier(K, 3, hidden=H, embed_dim=D, layers=2,
                                                         dropout=0.0)),
    _classifier("LSTMAttentionClassifier",
                lambda: LSTMAttentionClassifier(K, 1, hidden=H, embed_dim=D, dropout=0.0)),
    _classifier("TransformerClassifier",
                lambda: TransformerClassifier(K, 3, hidden=D, heads=2, layers=1, maxlen=8,
                                              dropout=0.0)),
    _classifier("TransformerClassifier categories",
                lambda: TransformerClassifier(K, 3, hidden=D, heads=2, layers=1, maxlen=8,
                                              dropout=0.0, n_categories=N_CAT), N_CAT),
    _recommender("GRU4Rec", lambda: GRU4Rec(N_ITEMS, d=D, dropout=0.0)),
    _recommender("SASRec", lambda: SASRec(N_ITEMS, maxlen=8, d=D, num_blocks=1, num_heads=2,
                                          dropout=0.0)),
]


def _fast(entry):
    """The same entry through the fast twins (``minseq.fast.accelerate``): the same checks and
    messages, the same results."""
    return replace(entry, label="fast " + entry.label, build=lambda: accelerate(entry.build()))


ENTRIES += [_fast(e) for e in ENTRIES if e.label in (
    "ScaledDotProductAttention", "MultiHeadAttention", "MultiHeadAttention cross", "LayerNorm",
    "TransformerEncoderLayer", "TransformerDecoderLayer")]

ENTRIES_BY_LABEL = {e.label: e for e in ENTRIES}
