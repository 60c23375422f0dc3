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
