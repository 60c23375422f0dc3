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


# -- recurrent layers (RNN, LSTM, GRU and their cells) -------------------------------------

class AllOutputs(nn.Module):
    """Gradient-check harness for a recurrent layer or cell: every output, and every input.

    forward(x, h0[, c0], mask=...) runs the wrapped module and returns all it outputs (a
    layer's hs, h_n[, c_n]; a cell's h[, c]) flattened and joined, so the check's loss reaches
    each of them. backward splits the upstream gradient among them and returns the gradient of
    every float input: (dx, dh0[, dc0]) (a layer keeps dh0 / dc0 as attributes).
    """

    def __init__(self, inner):
        super().__init__()
        self.inner = inner
        self.shapes = None

    def forward(self, *inputs, **kwargs):
        out = self.inner(*inputs, **kwargs)
        outs = out if isinstance(out, tuple) else (out,)
        if isinstance(self.inner, nn.recurrent.Recurrent):
            outs += self.inner.final_states()
        self.shapes = [o.shape for o in outs]
        return xp.concatenate([o.reshape(-1) for o in outs])

    def backward(self, dout):
        parts, start = [], 0
        for shape in self.shapes:
            size = 1
            for n in shape:
                size *= n
            parts.append(dout[start:start + size].reshape(shape))
            start += size
        grads = self.inner.backward(*parts)
        if isinstance(self.inner, nn.recurrent.Recurrent):
            grads = (grads,) + self.inner.state_grads()
        return grads if isinstance(grads, tuple) else (grads,)

    def name(self):
        return f"AllOutputs({self.inner.name()})"


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


def _recurrent_case(layer, masked):
    _fixed_weights(layer)
    B, T, D, H = 3, 5, layer.input_size, layer.hidden_size
    states = tuple(randn(B, H, seed=2 + k) for k in range(len(layer.state_names)))
    kwargs = {"mask": sequence_mask()} if masked else {}
    return AllOutputs(layer), (randn(B, T, D, seed=1),) + states, kwargs


def _cell_case(cell, n_states):
    _fixed_weights(cell)
    states = tuple(randn(3, cell.hidden_size, seed=2 + k) for k in range(n_states))
    return AllOutputs(cell), (randn(3, cell.input_size, seed=1),) + states, {}


for _masked in (False, True):
    _tag = " masked" if _masked else ""
    case("RNN tanh" + _tag)(lambda m=_masked: _recurrent_case(nn.RNN(4, 3), m))
    case("RNN relu" + _tag)(lambda m=_masked: _recurrent_case(nn.RNN(4, 3, "relu"), m))
    case("LSTM" + _tag)(lambda m=_masked: _recurrent_case(nn.LSTM(4, 3), m))
    case("GRU" + _tag)(lambda m=_masked: _recurrent_case(nn.GRU(4, 3), m))
case("RNNCell tanh")(lambda: _cell_case(nn.RNNCell(4, 3), 1))
case("RNNCell relu")(lambda: _cell_case(nn.RNNCell(4, 3, "relu"), 1))
case("LSTMCell")(lambda: _cell_case(nn.LSTMCell(4, 3), 2))
case("GRUCell")(lambda: _cell_case(nn.GRUCell(4, 3), 1))
