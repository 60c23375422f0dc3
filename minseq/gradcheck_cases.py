"""The registered gradient-check cases: one small float64 setting per layer and loss.

``python -m minseq gradcheck`` runs every case and prints a table; the test suite runs them on
every available backend. A later layer adds itself with ``@case("Name")``: the function builds
the module and its inputs on the active backend and returns ``(module, inputs, kwargs)``.
"""

from . import backend, nn
from .backend import xp

CASES = {}


def case(name):
    def register(build):
        CASES[name] = build
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


def run_case(name, tol=1e-6):
    """Check one registered case; returns {tensor: worst relative error} without raising."""
    from .gradcheck import check_module
    module, inputs, kwargs = CASES[name]()
    return check_module(module, *inputs, tol=tol, raise_on_fail=False, **kwargs)


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
