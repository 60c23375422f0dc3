"""The registered gradient-check cases: one small float64 setting per layer and loss.

``python -m minseq gradcheck`` runs every case and prints a table; the test suite runs them on
every available backend. A later layer adds itself with ``@case("Name")``: the function builds
the module and its inputs on the active backend and returns ``(module, inputs, kwargs)``.
"""

from functools import partial

from . import backend, fast, nn
from .backend import xp

CASES = {}
TOLERANCES = {}
DEFAULT_TOL = 1e-6


def case(name, tol=DEFAULT_TOL):
    """Register ``build`` under ``name``. A case whose loss passes through many normalisations
    (a whole Transformer block) may state a looser ``tol``: its difference quotients carry
    round-off near 1e-10, and structurally tiny gradients (keys of near-uniform attention)
    cannot be checked to 1e-6 entry by entry. A wrong backward still shows errors near 1."""
    def register(build):
        CASES[name] = build
        TOLERANCES[name] = tol
        return build
    return register


def randn(*shape, seed=0):
    return backend.asarray(backend.host_rng(seed).standard_normal(shape), dtype=xp.float64)


def randint(high, *shape, seed=0):
    return backend.asarray(backend.host_rng(seed).integers(0, high, size=shape))


@case("Linear")
def _linear():
    return nn.Linear(4, 3), (randn(2, 5, 4),), {}


@case("ReLU")
def _relu():
    x = randn(3, 4)
    return nn.ReLU(), (x + 0.1 * xp.sign(x),), {}  # keep entries away from the kink at 0


@case("Sigmoid")
def _sigmoid():
    return nn.Sigmoid(), (randn(3, 4),), {}


@case("Tanh")
def _tanh():
    return nn.Tanh(), (randn(3, 4),), {}


@case("GELU")
def _gelu():
    return nn.GELU(), (randn(3, 4),), {}


@case("Softmax")
def _softmax():
    return nn.Softmax(), (randn(2, 3, 5),), {}


@case("Dropout")
def _dropout():
    return nn.Dropout(0.3, seed=1), (randn(4, 5),), {}


@case("Embedding")
def _embedding():
    return nn.Embedding(6, 3, padding_idx=0), (randint(6, 2, 7),), {}


@case("Sequential MLP")
def _mlp():
    return nn.Sequential(nn.Linear(5, 8), nn.ReLU(), nn.Linear(8, 3)), (randn(4, 5),), {}


@case("MSELoss")
def _mse():
    return nn.MSELoss(), (randn(3, 4), randn(3, 4, seed=1)), {}


@case("CrossEntropyLoss")
def _cross_entropy():
    target = randint(5, 3, 4)
    target[0, 1] = -100
    return nn.CrossEntropyLoss(ignore_index=-100), (randn(3, 4, 5), target), {}


@case("BCEWithLogitsLoss")
def _bce():
    t = backend.asarray(backend.host_rng(1).random((3, 4)), dtype=xp.float64)
    return nn.BCEWithLogitsLoss(), (randn(3, 4), t), {}


# -- graph message passing (catalogue G1) ------------------------------------------------------
def _graph_edges():
    """Five nodes; the edge 0 -> 1 repeats, 4 -> 4 is a self-loop, node 3 receives nothing."""
    return backend.asarray([[0, 1], [0, 1], [1, 2], [2, 0], [4, 2], [3, 4], [4, 4], [2, 1]])


@case("GraphConv dense sym")
def _graphconv_dense():
    A = nn.adjacency_from_edges(_graph_edges(), 5, dtype=xp.float64)
    return nn.GraphConv(3, 4, "tanh", normalize="sym"), (randn(5, 3), A), {}


@case("GraphConv edges mean")
def _graphconv_edges():
    return nn.GraphConv(3, 4, "sigmoid", normalize="mean"), (randn(5, 3), _graph_edges()), {}


@case("GraphConv batched edges")
def _graphconv_batched():
    edges = backend.asarray([[0, 0, 1], [0, 0, 1], [0, 2, 1], [1, 1, 0], [1, 2, 2], [1, 0, 2]])
    weight = backend.asarray([0.5, 1.0, 2.0, 1.5, 0.3, 1.0], dtype=xp.float64)
    return (nn.GraphConv(2, 3, None, normalize="sym"), (randn(2, 3, 2), edges),
            {"edge_weight": weight})


# -- attention and the Transformer ------------------------------------------------------------
def _key_mask():
    """(2, 3, 5) mask, True = may attend: mixed rows and one fully masked query (row [1, 2])."""
    m = backend.asarray(backend.host_rng(3).random((2, 3, 5)) > 0.3)
    m[:, :, :2] = True
    m[1, 2] = False
    return m


@case("ScaledDotProductAttention")
def _sdpa():
    return nn.ScaledDotProductAttention(), (randn(2, 3, 4), randn(2, 5, 4, seed=1),
                                            randn(2, 5, 3, seed=2)), {}


@case("ScaledDotProductAttention mask")
def _sdpa_mask():
    return nn.ScaledDotProductAttention(), (randn(2, 3, 4), randn(2, 5, 4, seed=1),
                                            randn(2, 5, 3, seed=2)), {"mask": _key_mask()}


@case("MultiHeadAttention")
def _mha():
    return nn.MultiHeadAttention(6, 2), (randn(2, 4, 6),), {}


@case("MultiHeadAttention causal")
def _mha_causal():
    return nn.MultiHeadAttention(6, 3), (randn(2, 4, 6),), {"mask": nn.causal_mask(4)}


@case("MultiHeadAttention cross")
def _mha_cross():
    return nn.MultiHeadAttention(6, 2), (randn(2, 3, 6), randn(2, 5, 6, seed=1)), {
        "mask": _key_mask()}


@case("LayerNorm")
def _layernorm():
    norm = nn.LayerNorm(5)
    norm.params["gamma"][...] = randn(5, seed=1)
    norm.params["beta"][...] = randn(5, seed=2)
    return norm, (randn(2, 3, 5),), {}


@case("SinusoidalPositionalEncoding")
def _sinusoidal():
    return nn.SinusoidalPositionalEncoding(6, max_len=10), (randn(2, 4, 6),), {}


@case("LearnedPositionalEmbedding")
def _learned_positions():
    return nn.LearnedPositionalEmbedding(10, 6), (randn(2, 4, 6),), {}


@case("FeedForward gelu")
def _feedforward():
    return nn.FeedForward(6, 10, activation="gelu", dropout=0.2), (randn(2, 3, 6),), {}


@case("TransformerEncoderLayer", tol=1e-5)
def _encoder_layer():
    layer = nn.TransformerEncoderLayer(6, 2, d_ff=10, dropout=0.1, activation="gelu")
    return layer, (randn(2, 4, 6),), {}


@case("TransformerEncoderLayer pre-LN", tol=1e-5)
def _encoder_layer_pre():
    layer = nn.TransformerEncoderLayer(6, 3, d_ff=10, dropout=0.0, activation="gelu",
                                       norm_first=True)
    return layer, (randn(2, 4, 6),), {"mask": nn.causal_mask(4)}


@case("TransformerDecoderLayer", tol=1e-5)
def _decoder_layer():
    padding = xp.ones((2, 1, 5), dtype=bool)  # memory of the second sequence has 3 real steps
    padding[1, :, 3:] = False
    layer = nn.TransformerDecoderLayer(6, 2, d_ff=10, dropout=0.1, activation="gelu")
    return layer, (randn(2, 3, 6), randn(2, 5, 6, seed=1)), {"memory_mask": padding}


@case("TransformerDecoderLayer pre-LN", tol=1e-5)
def _decoder_layer_pre():
    layer = nn.TransformerDecoderLayer(6, 2, d_ff=10, dropout=0.0, norm_first=True,
                                       activation="gelu")
    return layer, (randn(2, 3, 6), randn(2, 5, 6, seed=1)), {}


@case("TransformerEncoder", tol=1e-5)
def _encoder():
    def layer():
        return nn.TransformerEncoderLayer(6, 2, d_ff=8, dropout=0.1, activation="gelu")
    return nn.TransformerEncoder(layer, 2, norm=nn.LayerNorm(6)), (randn(2, 3, 6),), {}


# the same settings through the fast twins (minseq.fast): the Transformer blocks with their
# MultiHeadAttention and LayerNorm sub-modules swapped
_FAST_ATTENTION = ["ScaledDotProductAttention", "ScaledDotProductAttention mask",
                   "MultiHeadAttention", "MultiHeadAttention causal", "MultiHeadAttention cross",
                   "LayerNorm", "TransformerEncoderLayer", "TransformerEncoderLayer pre-LN",
                   "TransformerDecoderLayer", "TransformerDecoderLayer pre-LN",
                   "TransformerEncoder"]


def _fast(name):
    def build():
        from .fast import accelerate  # fast imports nn: loaded lazily
        module, inputs, kwargs = CASES[name]()
        return accelerate(module), inputs, kwargs
    return build


for _name in _FAST_ATTENTION:
    case("fast " + _name, TOLERANCES[_name])(_fast(_name))


# -- recurrent layers (RNN, LSTM, GRU and their cells), in both tiers -------------------------
# A layer returns (hs, h_n) or (hs, (h_n, c_n)) and a cell h or (h, c): the checker weights every
# output and checks the gradient of x and of every initial state.

def sequence_mask():
    """(3, 5): a full row, a row padded after 2 steps, and a row with no real step at all."""
    m = xp.zeros((3, 5), dtype=bool)
    m[0, :] = True
    m[1, :2] = True
    return m


def _fixed_weights(module):
    """Weights from fixed seeds, so a case does not depend on which cases ran before it (every
    entry's gradient then stays well above the central differences' round-off)."""
    for k, (name, p) in enumerate(sorted(module.params.items())):
        module.params[name] = 0.5 * randn(*p.shape, seed=20 + k)
    return module


def _n_states(module):
    return 2 if isinstance(module, (nn.LSTM, nn.LSTMCell)) else 1


def _tier(module, tier):
    return fast.twin_of(module) if tier == "fast" else module


def _sequence_case(make, masked, tier):
    layer = _fixed_weights(make())
    B, T, D, H = 3, 5, layer.input_size, layer.hidden_size
    states = tuple(randn(B, H, seed=2 + k) for k in range(_n_states(layer)))
    kwargs = {"mask": sequence_mask()} if masked else {}
    return _tier(layer, tier), (randn(B, T, D, seed=1),) + states, kwargs


def _cell_case(make, tier):
    cell = _fixed_weights(make())
    states = tuple(randn(3, cell.hidden_size, seed=2 + k) for k in range(_n_states(cell)))
    return _tier(cell, tier), (randn(3, cell.input_size, seed=1),) + states, {}


RECURRENT_LAYERS = {"RNN tanh": partial(nn.RNN, 4, 3), "RNN relu": partial(nn.RNN, 4, 3, "relu"),
                    "LSTM": partial(nn.LSTM, 4, 3), "GRU": partial(nn.GRU, 4, 3)}
RECURRENT_CELLS = {"RNNCell tanh": partial(nn.RNNCell, 4, 3),
                   "RNNCell relu": partial(nn.RNNCell, 4, 3, "relu"),
                   "LSTMCell": partial(nn.LSTMCell, 4, 3), "GRUCell": partial(nn.GRUCell, 4, 3)}
for _tier_name, _prefix in (("reference", ""), ("fast", "fast ")):
    for _name, _make in RECURRENT_LAYERS.items():
        case(_prefix + _name)(partial(_sequence_case, _make, False, _tier_name))
        case(_prefix + _name + " masked")(partial(_sequence_case, _make, True, _tier_name))
    for _name, _make in RECURRENT_CELLS.items():
        case(_prefix + _name)(partial(_cell_case, _make, _tier_name))


# -- next-behaviour classifiers (catalogue H1-H4) ---------------------------------------------

def _classifier_case(model):
    """Fixed-seed weights and dropout streams in every sub-module (independent of case order),
    padding rows of embeddings zero; a batch of 3 windows of 5 events with padding in front
    and behind, and one window of a single event. Ids are integers: only parameters are checked."""
    for k, (_, sub) in enumerate(model.named_modules()):
        _fixed_weights(sub)
        if isinstance(sub, nn.Embedding):
            sub.params["W"][sub.padding_idx] = 0
        if isinstance(sub, nn.Dropout):
            sub.seed = 100 + k
            sub.reset_rng()
    mask = xp.ones((3, 5), dtype=bool)
    mask[1, :2] = False
    mask[2, 1:] = False
    behavior = randint(model.n_behaviors, 3, 5, seed=4) + 1
    inputs = behavior
    if model.n_categories:
        inputs = xp.stack([behavior, randint(model.n_categories, 3, 5, seed=5) + 1], axis=-1)
    return model, (inputs * (mask if inputs.ndim == 2 else mask[..., None]),), {"mask": mask}


@case("MLPCounts")
def _mlp_counts():
    from .models.mlp_counts import MLPCounts
    return _classifier_case(MLPCounts(5, 5, hidden=6, dropout=0.2, n_categories=3))


@case("LSTMClassifier 2 layers")
def _lstm_classifier():
    from .models.lstm_classifier import LSTMClassifier
    return _classifier_case(LSTMClassifier(5, 5, hidden=4, embed_dim=3, layers=2, dropout=0.2))


@case("LSTMClassifier categories binary")
def _lstm_classifier_binary():
    from .models.lstm_classifier import LSTMClassifier
    return _classifier_case(LSTMClassifier(5, 1, hidden=4, embed_dim=3, n_categories=3))


@case("LSTMAttentionClassifier")
def _lstm_attention_classifier():
    from .models.lstm_attention import LSTMAttentionClassifier
    return _classifier_case(LSTMAttentionClassifier(5, 5, hidden=4, embed_dim=3, dropout=0.2))


@case("TransformerClassifier", tol=1e-5)  # whole pre-LN blocks and a final LayerNorm
def _transformer_classifier():
    from .models.transformer_classifier import TransformerClassifier
    return _classifier_case(TransformerClassifier(5, 5, hidden=4, heads=2, layers=2, maxlen=6,
                                                  dropout=0.1, n_categories=3))


# -- next-item recommenders (minseq.models): scores of given candidates, whose gradient
# reaches the shared item table through both the input lookup and the scoring ----------------
def _next_item_case(make):
    model = make()
    seq = backend.asarray([[0, 0, 3, 1, 2], [4, 2, 2, 1, 3]])          # left-padded (B, T)
    cand = backend.asarray([[[1, 3], [2, 5], [4, 1], [3, 2], [5, 4]],
                            [[2, 1], [1, 4], [3, 5], [5, 2], [1, 3]]])  # (B, T, C) item ids
    return model, (seq, cand), {}


@case("GRU4Rec")
def _gru4rec():
    from .models.gru4rec import GRU4Rec  # models import nn: loaded lazily
    return _next_item_case(lambda: GRU4Rec(5, d=4, dropout=0.2))


@case("SASRec", tol=1e-5)  # two whole pre-LN blocks and a final LayerNorm
def _sasrec():
    from .models.sasrec import SASRec
    return _next_item_case(lambda: SASRec(5, maxlen=5, d=4, num_blocks=2, num_heads=2,
                                          dropout=0.2))


def run_case(name, tol=None):
    """Check one registered case at its tolerance (or ``tol``); returns
    {tensor: worst relative error} without raising."""
    tol = TOLERANCES[name] if tol is None else tol
    from .gradcheck import check_module
    module, inputs, kwargs = CASES[name]()
    return check_module(module, *inputs, tol=tol, raise_on_fail=False, **kwargs)
