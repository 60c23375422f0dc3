"""minseq.fast: every fast twin is its reference layer, faster.

One test runs over every twin: forward, every input gradient, every parameter gradient and the
state dict equal the reference's to 1e-12 (float64) and 1e-5 (float32) relative to the largest
entry, on hypothesis-drawn shapes, masks and padded batches, on every backend. A twin is added
with one ``@twin_case`` builder: it draws a setting and returns the reference module (weights
drawn as its constructor draws them), its inputs and keyword arguments.
"""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from minseq import backend, fast, nn
from minseq.fast import TWINS, accelerate, twin_of
from minseq.gradcheck import flatten, upstream

TWIN_CASES = {}
TOLERANCE = {"float64": 1e-12, "float32": 1e-5}


def twin_case(name):
    """Register ``build(draw, xp) -> (reference module, inputs, kwargs)`` under ``name``."""
    def register(build):
        TWIN_CASES[name] = build
        return build
    return register


def randn(xp, draw, *shape):
    seed = draw(st.integers(0, 2**16))
    return backend.asarray(backend.host_rng(seed).standard_normal(shape), dtype=xp.float64)


def padding_mask(xp, draw, B, T):
    """(B, T) True at real steps: each row keeps a drawn number of leading steps (0 .. T)."""
    lengths = draw(st.lists(st.integers(0, T), min_size=B, max_size=B))
    mask = xp.zeros((B, T), dtype=bool)
    for b, n in enumerate(lengths):
        mask[b, :n] = True
    return mask


def _same(name, a, b, tol):
    a, b = backend.to_numpy(a), backend.to_numpy(b)
    assert a.shape == b.shape and a.dtype == b.dtype, f"{name}: {a.shape} {a.dtype} vs {b.shape} {b.dtype}"
    scale = max(float(abs(b).max()) if b.size else 0.0, 1e-30)
    err = float(abs(a - b).max()) / scale if a.size else 0.0
    assert err <= tol, f"{name}: fast differs from reference by {err:.2e} (relative), tol {tol:.0e}"


def _run(module, inputs, kwargs):
    out = module(*inputs, **kwargs)
    _, grads = upstream(module, out, seed=7)
    return flatten(out), grads, {k: g.copy() for k, g in module.named_grads()}


# -- the recurrent twins ----------------------------------------------------------------------

RECURRENT = {"RNN": nn.RNN, "LSTM": nn.LSTM, "GRU": nn.GRU}
CELLS = {"RNNCell": nn.RNNCell, "LSTMCell": nn.LSTMCell, "GRUCell": nn.GRUCell}


def _sizes(draw):
    """D, H >= 2: a 1 x 1 dWh is one sum over every step and row, whose float32 cancellation
    alone can exceed the relative tolerance (seen at 2e-5 with D = H = 1)."""
    return draw(st.integers(2, 4)), draw(st.integers(2, 4))


def _build(cls, D, H, draw):
    """The layer, its ReLU variant or its gate-recording variant, as drawn."""
    if cls in (nn.RNN, nn.RNNCell):
        return cls(D, H, nonlinearity=draw(st.sampled_from(["tanh", "relu"])))
    return cls(D, H, record_gates=draw(st.booleans()))


def _states(xp, draw, layer, B):
    """Initial states, drawn, or none at all (zeros)."""
    n = 2 if isinstance(layer, (nn.LSTM, nn.LSTMCell)) else 1
    return [randn(xp, draw, B, layer.hidden_size) for _ in range(n)] if draw(st.booleans()) else []


def _layer_case(kind, masked):
    def build(draw, xp):
        D, H = _sizes(draw)
        B, T = draw(st.integers(1, 4)), draw(st.integers(1, 6))
        layer = _build(RECURRENT[kind], D, H, draw)
        states = _states(xp, draw, layer, B)
        kwargs = {"mask": padding_mask(xp, draw, B, T)} if masked else {}
        return layer, [randn(xp, draw, B, T, D), *states], kwargs
    return build


def _cell_case(kind):
    def build(draw, xp):
        D, H = _sizes(draw)
        B = draw(st.integers(1, 4))
        cell = _build(CELLS[kind], D, H, draw)
        states = _states(xp, draw, cell, B)
        return cell, [randn(xp, draw, B, D), *states], {}
    return build


for _kind in RECURRENT:
    twin_case(_kind)(_layer_case(_kind, masked=False))
    twin_case(_kind + " masked")(_layer_case(_kind, masked=True))
for _kind in CELLS:
    twin_case(_kind)(_cell_case(_kind))


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name", sorted(TWIN_CASES))
@given(data=st.data())
def test_twin_equals_reference(xp, name, dtype, data):
    reference, inputs, kwargs = TWIN_CASES[name](data.draw, xp)
    reference.astype(getattr(xp, dtype))
    inputs = [x.astype(dtype) if x.dtype.kind == "f" else x for x in inputs]
    twin = accelerate(reference.copy())
    assert any(type(m) in TWINS.values() for m in twin.modules()), f"{name}: nothing accelerated"
    tol = TOLERANCE[dtype]
    outs, in_grads, grads = _run(reference, inputs, kwargs)
    fast_outs, fast_in_grads, fast_grads = _run(twin, inputs, kwargs)
    for k, (a, b) in enumerate(zip(fast_outs, outs, strict=True)):
        _same(f"{name} output {k}", a, b, tol)
    for k, (a, b) in enumerate(zip(fast_in_grads, in_grads, strict=True)):
        _same(f"{name} input gradient {k}", a, b, tol)
    assert list(fast_grads) == list(grads)
    for k in grads:
        _same(f"{name} d{k}", fast_grads[k], grads[k], tol)
    state, fast_state = reference.state_dict(), twin.state_dict()
    assert list(fast_state) == list(state)
    for k in state:
        assert (fast_state[k] == state[k]).all()


def test_every_twin_has_a_case():
    covered = {name.split()[0] for name in TWIN_CASES}   # "LSTM masked" covers LSTM
    missing = [cls.__name__ for cls in TWINS if cls.__name__ not in covered]
    assert not missing, f"fast twins without an equality case: {missing}"


# -- accelerate itself, with a stand-in twin ------------------------------------------------

class _FastTanh(nn.Tanh):
    pass


@pytest.fixture
def tanh_twin(monkeypatch):
    monkeypatch.setitem(TWINS, nn.Tanh, _FastTanh)


def test_accelerate_swaps_nested_layers_and_shares_their_arrays(xp, tanh_twin):
    inner = nn.Sequential(nn.Linear(3, 4), nn.Tanh())
    model = nn.Sequential(inner, nn.Tanh(), nn.Linear(4, 2))
    params = dict(model.named_parameters())
    out = accelerate(model)
    assert out is model
    assert [type(m).__name__ for m in model.modules()] == [
        "Sequential", "Sequential", "Linear", "_FastTanh", "_FastTanh", "Linear"]
    for name, p in model.named_parameters():
        assert p is params[name]


def test_a_twin_shares_the_params_dict(xp, monkeypatch):
    monkeypatch.setitem(TWINS, nn.Linear, type("_FastLinear", (nn.Linear,), {}))
    layer = nn.Linear(3, 2)
    fast_layer = twin_of(layer)
    assert type(fast_layer).__name__ == "_FastLinear"
    assert fast_layer.params is layer.params and fast_layer.grads is layer.grads
    assert twin_of(nn.ReLU()).__class__ is nn.ReLU


def test_a_twin_must_subclass_its_reference():
    with pytest.raises(TypeError, match="must subclass"):
        fast.twin(nn.Tanh)(type("NotATanh", (nn.ReLU,), {}))


def test_accelerate_refuses_what_is_not_a_module():
    with pytest.raises(TypeError, match="minseq.nn.Module"):
        accelerate("LSTM")

