"""The gradient-check cases of the layers and losses (minseq.nn), and of their fast twins
(minseq.fast): one small float64 setting each.

A layer adds itself with ``@case("Name")`` on a function that builds the module and its inputs
on the active backend and returns ``(module, inputs, kwargs)``; the twins reuse a reference
case through ``fast_case``.
"""

from functools import partial

from .. import backend, nn
from ..backend import xp
from ..fast import accelerate
from .cases import BLOCK_TOL, CheckCase, fixed_weights, randint, randn, registrar

CASES = {}
case = registrar(CASES)


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


@case("MSELoss", grad_inputs=("pred",))
def _mse():
    return nn.MSELoss(), (randn(3, 4), randn(3, 4, seed=1)), {}


@case("CrossEntropyLoss", grad_inputs=("pred",))
def _cross_entropy():
    target = randint(5, 3, 4)
    target[0, 1] = -100
    return nn.CrossEntropyLoss(ignore_index=-100), (randn(3, 4, 5), target), {}


@case("BCEWithLogitsLoss", grad_inputs=("pred",))
def _bce():
    t = backend.asarray(backend.host_rng(1).random((3, 4)), dtype=xp.float64)
    return nn.BCEWithLogitsLoss(), (randn(3, 4), t), {}


# -- the next-item losses: scores (B, T, 1 + K) with the positive first, or h and the item
# table for the full softmax; position [0, 0] is padding ------------------------------------
def _real():
    real = xp.ones((2, 3), dtype=bool)
    real[0, 0] = False
    return real


@case("GBCELoss", grad_inputs=("scores",))
def _gbce():
    return nn.GBCELoss(beta=nn.gbce_beta(0.75, 3, 10)), (randn(2, 3, 4), _real()), {}


@case("GBCELoss BCE", grad_inputs=("scores",))
def _bce_sampled():
    return nn.GBCELoss(), (randn(2, 3, 2), _real()), {}


@case("SampledSoftmaxLoss", grad_inputs=("scores",))
def _sampled_softmax():
    return nn.SampledSoftmaxLoss(), (randn(2, 3, 4), _real()), {}


@case("CatalogueSoftmaxLoss", grad_inputs=("h", "E"))
def _catalogue_softmax():
    targets = randint(6, 2, 3) + 1                              # items 1..6, then padding
    targets[0, 0] = 0
    # 7 scores per chunk over 6 items: one position at a time, so the chunks are exercised
    return nn.CatalogueSoftmaxLoss(max_scores=7), (randn(2, 3, 4), randn(7, 4, seed=1),
                                                   targets), {}


# -- graph message passing (catalogue G1) ------------------------------------------------------
def _graph_edges():
    """Five nodes; the edge 0 -> 1 repeats, 4 -> 4 is a self-loop, node 3 receives nothing."""
    return backend.asarray([[0, 1], [0, 1], [1, 2], [2, 0], [4, 2], [3, 4], [4, 4], [2, 1]])


@case("GraphConv dense sym", grad_inputs=("H",))
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


@case("TransformerEncoderLayer", tol=BLOCK_TOL)
def _encoder_layer():
    layer = nn.TransformerEncoderLayer(6, 2, d_ff=10, dropout=0.1, activation="gelu")
    return layer, (randn(2, 4, 6),), {}


@case("TransformerEncoderLayer pre-LN", tol=BLOCK_TOL)
def _encoder_layer_pre():
    layer = nn.TransformerEncoderLayer(6, 3, d_ff=10, dropout=0.0, activation="gelu",
                                       norm_first=True)
    return layer, (randn(2, 4, 6),), {"mask": nn.causal_mask(4)}


@case("TransformerDecoderLayer", tol=BLOCK_TOL)
def _decoder_layer():
    padding = xp.ones((2, 1, 5), dtype=bool)  # memory of the second sequence has 3 real steps
    padding[1, :, 3:] = False
    layer = nn.TransformerDecoderLayer(6, 2, d_ff=10, dropout=0.1, activation="gelu")
    return layer, (randn(2, 3, 6), randn(2, 5, 6, seed=1)), {"memory_mask": padding}


@case("TransformerDecoderLayer pre-LN", tol=BLOCK_TOL)
def _decoder_layer_pre():
    layer = nn.TransformerDecoderLayer(6, 2, d_ff=10, dropout=0.0, norm_first=True,
                                       activation="gelu")
    return layer, (randn(2, 3, 6), randn(2, 5, 6, seed=1)), {}


@case("TransformerEncoder", tol=BLOCK_TOL)
def _encoder():
    def layer():
        return nn.TransformerEncoderLayer(6, 2, d_ff=8, dropout=0.1, activation="gelu")
    return nn.TransformerEncoder(layer, 2, norm=nn.LayerNorm(6)), (randn(2, 3, 6),), {}


# -- the same settings through the fast twins (minseq.fast): Dropout, the Transformer blocks with
# their MultiHeadAttention, LayerNorm and Dropout sub-modules swapped, the recurrent layers and
# cells --------
def fast_case(name):
    """Register the reference case ``name`` again as "fast NAME", on its accelerated module."""
    reference = CASES[name]

    def build():
        module, inputs, kwargs = reference.build()
        return accelerate(module), inputs, kwargs
    CASES["fast " + name] = CheckCase(build, reference.tol, reference.grad_inputs)


fast_case("Dropout")
fast_case("ScaledDotProductAttention")
fast_case("ScaledDotProductAttention mask")
fast_case("MultiHeadAttention")
fast_case("MultiHeadAttention causal")
fast_case("MultiHeadAttention cross")
fast_case("LayerNorm")
fast_case("TransformerEncoderLayer")
fast_case("TransformerEncoderLayer pre-LN")
fast_case("TransformerDecoderLayer")
fast_case("TransformerDecoderLayer pre-LN")
fast_case("TransformerEncoder")


# -- recurrent layers (RNN, LSTM, GRU and their cells), in both tiers -------------------------
# A layer returns (hs, h_n) or (hs, (h_n, c_n)) and a cell h or (h, c): the checker weights every
# output and checks the gradient of x and of every initial state.

def sequence_mask():
    """(3, 5): a full row, a row padded after 2 steps, and a row with no real step at all."""
    m = xp.zeros((3, 5), dtype=bool)
    m[0, :] = True
    m[1, :2] = True
    return m


def _n_states(module):
    return 2 if isinstance(module, (nn.LSTM, nn.LSTMCell)) else 1


def _sequence_case(make, masked=False):
    layer = fixed_weights(make())
    B, T, D, H = 3, 5, layer.input_size, layer.hidden_size
    states = tuple(randn(B, H, seed=2 + k) for k in range(_n_states(layer)))
    kwargs = {"mask": sequence_mask()} if masked else {}
    return layer, (randn(B, T, D, seed=1),) + states, kwargs


def _cell_case(make):
    cell = fixed_weights(make())
    states = tuple(randn(3, cell.hidden_size, seed=2 + k) for k in range(_n_states(cell)))
    return cell, (randn(3, cell.input_size, seed=1),) + states, {}


def recurrent(name, build):
    """Register ``build`` as ``name``, and as "fast NAME" on the layer's fast twin."""
    case(name)(build)
    fast_case(name)


recurrent("RNN tanh", partial(_sequence_case, partial(nn.RNN, 4, 3)))
recurrent("RNN tanh masked", partial(_sequence_case, partial(nn.RNN, 4, 3), masked=True))
recurrent("RNN relu", partial(_sequence_case, partial(nn.RNN, 4, 3, "relu")))
recurrent("RNN relu masked", partial(_sequence_case, partial(nn.RNN, 4, 3, "relu"), masked=True))
recurrent("LSTM", partial(_sequence_case, partial(nn.LSTM, 4, 3)))
recurrent("LSTM masked", partial(_sequence_case, partial(nn.LSTM, 4, 3), masked=True))
recurrent("GRU", partial(_sequence_case, partial(nn.GRU, 4, 3)))
recurrent("GRU masked", partial(_sequence_case, partial(nn.GRU, 4, 3), masked=True))
recurrent("RNNCell tanh", partial(_cell_case, partial(nn.RNNCell, 4, 3)))
recurrent("RNNCell relu", partial(_cell_case, partial(nn.RNNCell, 4, 3, "relu")))
recurrent("LSTMCell", partial(_cell_case, partial(nn.LSTMCell, 4, 3)))
recurrent("GRUCell", partial(_cell_case, partial(nn.GRUCell, 4, 3)))
