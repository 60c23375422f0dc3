"""The table of public entry points the bad-input suite (test_bad_input.py) runs every case on.

One line per layer, loss or model, through the kind of entry point it is (``elementwise``,
``per_position``, ``attention``, ``loss``, ``cell``, ``recurrent``, ``classifier``,
``recommender``): how to build it, and where it differs from its kind. The kind fills in the
``Entry`` the suite reads: a valid input for a batch of B examples of T steps, which axes of
each input are the batch and the time axis, the mask. The suite derives every bad input (wrong
rank, feature size, dtype, ...) and every reference (the contiguous copy, the batch run row by
row, the causal prefix) from it, so adding a layer or a model is one short line.

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
    """A public entry point and a valid input for it (made by the kinds below, which fill in
    what each kind implies).

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
K, N_CAT, N_ITEMS = 3, 2, 6   # the models' behaviour ids, categories and items


def _x(B, T, d=D, seed=0):
    return randn(B, T, d, seed=seed)


def _one_x(B, T):
    return (_x(B, T),), {}


def entry_point(label, make, inputs, defaults, kw):
    """An Entry of ``make`` (built in float64) with the kind's ``defaults``, then ``kw``; an
    entry point of no kind below (GraphConv) states its axes itself."""
    return Entry(label, lambda: make().astype(xp.float64), inputs, **dict(defaults, **kw))


# -- the kinds of entry point: each sets every field it implies; an entry states the rest ------
def elementwise(label, make, **kw):
    """y = f(x) entry by entry, any shape: +-inf gives f's limit."""
    return entry_point(label, make, _one_x, dict(time=(1,), out_time=(1,), causal=lambda T: {},
                                                 rank_free=True, features=False, param_dtype=False,
                                                 limits=True), kw)


def per_position(label, make, inputs=_one_x, **kw):
    """x (..., T, D) -> y (..., T, D'), each position on its own (so causal), any leading
    axes unless ``rank_free=False``."""
    return entry_point(label, make, inputs, dict(time=(1,), out_time=(1,), causal=lambda T: {},
                                                 rank_free=True), kw)


def _mask_shape(args):
    """(B, T, S): queries args[0], keys the second input if there is one, else args[0]."""
    return args[0].shape[:2] + (args[min(1, len(args) - 1)].shape[1],)


def attention(label, make, inputs=_one_x, memory=False, **kw):
    """A layer attending over a sequence under a boolean mask (B, T, S), True = may attend:
    self-attention (causal under a causal mask), or, with ``memory``, queries x (B, T, d)
    attending to a second input of S steps (causal by itself)."""
    if memory:
        defaults = dict(batch=(0, 0), time=(1, None), causal=lambda T: {})
    else:
        defaults = dict(time=(1,), causal=lambda T: {"mask": nn.causal_mask(T)})
    return entry_point(label, make, inputs, dict(defaults, out_time=(1,), mask=_mask_shape), kw)


def loss(label, make, inputs, **kw):
    """loss(pred, target) -> the mean over examples; backward takes no upstream gradient."""
    return entry_point(label, make, lambda B, T: (inputs(B, T), {}),
                       dict(batch=(0, 0), time=(1, 1), out_batch=(None,), out_time=(None,),
                            param_dtype=False, loss=True), kw)


def cell(label, make, n_states=1):
    """One recurrent step: (x (B, D), state(s) (B, H)) -> new state(s)."""
    def inputs(B, T):
        return (randn(B, D),) + tuple(randn(B, H, seed=1 + k) for k in range(n_states)), {}
    return entry_point(label, make, inputs, dict(batch=(0,) * (1 + n_states),
                                                 time=(None,) * (1 + n_states),
                                                 out_batch=(0,) * n_states,
                                                 out_time=(None,) * n_states), {})


def recurrent(label, make, n_states=1):
    """x (B, T, D) [, mask (B, T)] -> (hs, h_n) or (hs, (h_n, c_n))."""
    return entry_point(label, make, _one_x, dict(time=(1,), out_batch=(0,) * (1 + n_states),
                                                 out_time=(1,) + (None,) * n_states,
                                                 causal=lambda T: {},
                                                 mask=lambda args: args[0].shape[:2]), {})


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


def classifier(label, make, n_categories=0):
    """A next-behaviour classifier: forward(inputs (B, T) or (B, T, 2), mask (B, T)) ->
    logits (B, C), its mask a required input. Categories: the main input is (B, T, 2)
    [behaviour, category] (both id ranges must hold: the valid ids are the smaller table's)."""
    n_ids = 1 + min(K, n_categories or K)

    def inputs(B, T):
        return _left_padded(B, T, n_ids, width=2 if n_categories else None), {}
    return entry_point(label, make, inputs, dict(batch=(0, 0), time=(1, 1), features=False,
                                                 mask=lambda args: args[0].shape[:2], mask_arg=1,
                                                 integer_main=True, n_ids=n_ids), {})


def recommender(label, make):
    """A next-item recommender: forward(seq (B, T), candidates (B, T, C)) -> scores
    (B, T, C); causal (position t reads items <= t)."""
    def inputs(B, T):
        seq, _ = _left_padded(B, T, N_ITEMS + 1)
        return (seq, randint(N_ITEMS + 1, B, T, 2, seed=1)), {}
    return entry_point(label, make, inputs, dict(batch=(0, 0), time=(1, 1), out_time=(1,),
                                                 causal=lambda T: {}, features=False,
                                                 integer_main=True, n_ids=N_ITEMS + 1), {})


def _qkv(B, T):
    return (randn(B, T, D), randn(B, T, D, seed=1), randn(B, T, 2, seed=2)), {}


def _with_memory(d, S=5):
    return lambda B, T: ((randn(B, T, d), randn(B, S, d, seed=1)), {})


def _ids(B, T):
    return (randint(7, B, T),), {}


def _graph_inputs(B, T):
    A = (uniform(B, 5, 5, seed=1) > 0.5).astype(xp.float64)
    return (randn(B, 5, 3), A), {}


_RANDOM_MASK = "the dropout mask is drawn for the whole batch: a row alone draws another"
_NO_DROPOUT = dict(dropout=0.0)

ENTRIES = [
    per_position("Linear", lambda: nn.Linear(D, 3)),
    elementwise("ReLU", nn.ReLU),
    elementwise("Sigmoid", nn.Sigmoid),
    elementwise("Tanh", nn.Tanh),
    elementwise("GELU", nn.GELU),
    elementwise("GELU tanh", lambda: nn.GELU("tanh")),
    elementwise("Softmax", nn.Softmax, limits=False),
    elementwise("Dropout", lambda: nn.Dropout(0.4, seed=3), limits=False, causal=None,
                na={"rows": _RANDOM_MASK, "prefix": _RANDOM_MASK,
                    "float32": "a float32 mask is drawn from another stream of random numbers"}),
    per_position("Embedding", lambda: nn.Embedding(7, D, padding_idx=0), inputs=_ids,
                 features=False, integer_main=True),
    per_position("Sequential", lambda: nn.Sequential(nn.Linear(D, 5), nn.Tanh(), nn.Linear(5, 2))),
    loss("MSELoss", nn.MSELoss, lambda B, T: (_x(B, T), _x(B, T, seed=1))),
    loss("CrossEntropyLoss", lambda: nn.CrossEntropyLoss(ignore_index=-1),
         lambda B, T: (randn(B, T, 5), randint(5, B, T, seed=1)), features=False),
    loss("BCEWithLogitsLoss", nn.BCEWithLogitsLoss,
         lambda B, T: (_x(B, T), uniform(B, T, D, seed=1))),
    cell("RNNCell", lambda: nn.RNNCell(D, H)),
    cell("LSTMCell", lambda: nn.LSTMCell(D, H), n_states=2),
    cell("GRUCell", lambda: nn.GRUCell(D, H)),
    recurrent("RNN", lambda: nn.RNN(D, H)),
    recurrent("LSTM", lambda: nn.LSTM(D, H), n_states=2),
    recurrent("GRU", lambda: nn.GRU(D, H)),
    attention("ScaledDotProductAttention", nn.ScaledDotProductAttention, _qkv,
              batch=(0, 0, 0), time=(1, 1, 1), param_dtype=False),
    attention("MultiHeadAttention", lambda: nn.MultiHeadAttention(D, 2)),
    attention("MultiHeadAttention cross", lambda: nn.MultiHeadAttention(D, 2), _with_memory(D),
              memory=True),
    per_position("LayerNorm", lambda: nn.LayerNorm(D)),
    per_position("SinusoidalPositionalEncoding", lambda: nn.SinusoidalPositionalEncoding(D, 16),
                 rank_free=False, param_dtype=False),
    per_position("LearnedPositionalEmbedding", lambda: nn.LearnedPositionalEmbedding(16, D),
                 rank_free=False),
    per_position("FeedForward", lambda: nn.FeedForward(D, 6, "gelu", 0.0)),
    attention("TransformerEncoderLayer",
              lambda: nn.TransformerEncoderLayer(D, 2, 6, **_NO_DROPOUT)),
    attention("TransformerDecoderLayer",
              lambda: nn.TransformerDecoderLayer(6, 2, 8, norm_first=True, **_NO_DROPOUT),
              _with_memory(6), memory=True, mask_name="memory_mask"),
    attention("TransformerEncoder", lambda: nn.TransformerEncoder(
        lambda: nn.TransformerEncoderLayer(D, 2, 6, **_NO_DROPOUT), 2, norm=nn.LayerNorm(D))),
    entry_point("GraphConv", lambda: nn.GraphConv(3, 2, "tanh", "sym"), _graph_inputs,
          dict(batch=(0, 0)), {}),
    # models (minseq.models): one entry each, below this line
    classifier("MLPCounts", lambda: MLPCounts(K, 3, d_model=5, dropout=0.0)),
    classifier("LSTMClassifier", lambda: LSTMClassifier(K, 3, d_model=H, embed_dim=D,
                                                        num_layers=2, dropout=0.0)),
    classifier("LSTMAttentionClassifier",
               lambda: LSTMAttentionClassifier(K, 1, d_model=H, embed_dim=D, dropout=0.0)),
    classifier("TransformerClassifier",
               lambda: TransformerClassifier(K, 3, d_model=D, num_heads=2, num_layers=1,
                                             maxlen=8, dropout=0.0)),
    classifier("TransformerClassifier categories",
               lambda: TransformerClassifier(K, 3, d_model=D, num_heads=2, num_layers=1,
                                             maxlen=8, dropout=0.0, n_categories=N_CAT), N_CAT),
    recommender("GRU4Rec", lambda: GRU4Rec(N_ITEMS, d_model=D, dropout=0.0)),
    recommender("SASRec", lambda: SASRec(N_ITEMS, maxlen=8, d_model=D, num_layers=1,
                                         num_heads=2, dropout=0.0)),
]


def _fast(entry):
    """The same entry through the fast twins (``minseq.fast.accelerate``): the same checks and
    messages, the same results."""
    return replace(entry, label="fast " + entry.label, build=lambda: accelerate(entry.build()))


ENTRIES += [_fast(e) for e in ENTRIES if e.label in (
    "ScaledDotProductAttention", "MultiHeadAttention", "MultiHeadAttention cross", "LayerNorm",
    "TransformerEncoderLayer", "TransformerDecoderLayer")]

ENTRIES_BY_LABEL = {e.label: e for e in ENTRIES}
