"""Bad input for the optimisers and gradient clipping: bad settings are named errors, the update
keeps each parameter's dtype and backend, non-finite gradients stay where they are."""

import math

import numpy as np
import pytest

from minseq import backend, nn, optim

OPTIMISERS = {"SGD": lambda m, **kw: optim.SGD(m, **{"lr": 0.1, **kw}),
              "SGD momentum": lambda m, **kw: optim.SGD(m, **{"lr": 0.1, "momentum": 0.9, **kw}),
              "Adam": lambda m, **kw: optim.Adam(m, **kw),
              "AdamW": lambda m, **kw: optim.AdamW(m, **kw)}

BAD_SETTINGS = [("lr", 0.0), ("lr", -1.0), ("lr", math.nan), ("lr", math.inf),
                ("weight_decay", -0.1), ("weight_decay", math.nan)]
ADAM_BAD = [("betas", (1.0, 0.999)), ("betas", (0.9, -0.1)), ("eps", -1e-8), ("eps", math.nan)]


@pytest.fixture(params=list(OPTIMISERS))
def name(request, record_property):
    record_property("entry_point", "optim." + request.param.split()[0])
    return request.param


def model(xp):
    m = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
    x = xp.asarray(np.linspace(-1, 1, 6, dtype=np.float32).reshape(2, 3))
    m(x)
    m.backward(xp.ones((2, 2), dtype=xp.float32))
    return m


def test_params_must_be_a_module(xp, name):
    with pytest.raises(TypeError, match=r"\w+: params must be the Module to train, got list"):
        OPTIMISERS[name]([xp.ones(3)])


@pytest.mark.parametrize("setting, value", BAD_SETTINGS, ids=str)
def test_bad_settings_are_named_errors(xp, name, setting, value):
    with pytest.raises(ValueError, match=f"{type(OPTIMISERS[name](model(xp))).__name__}: "
                                         f"{setting} must"):
        OPTIMISERS[name](model(xp), **{setting: value})


@pytest.mark.parametrize("setting, value", ADAM_BAD, ids=str)
def test_bad_adam_settings(xp, setting, value, record_property):
    record_property("entry_point", "optim.Adam")
    with pytest.raises(ValueError, match=f"Adam: {setting} must"):
        optim.Adam(model(xp), **{setting: value})


def test_negative_momentum(xp, record_property):
    record_property("entry_point", "optim.SGD")
    with pytest.raises(ValueError, match="SGD: momentum must"):
        optim.SGD(model(xp), lr=0.1, momentum=-0.5)


def test_step_keeps_dtype_and_backend(xp, name):
    for dtype in (xp.float32, xp.float64):
        m = model(xp).astype(dtype)
        m(xp.ones((1, 3), dtype=dtype))
        m.backward(xp.ones((1, 2), dtype=dtype))
        OPTIMISERS[name](m).step()
        for _, p in m.named_parameters():
            assert isinstance(p, xp.ndarray) and p.dtype == dtype


def test_a_nan_gradient_stays_in_its_parameter(xp, name):
    """NaN propagates into the parameter whose gradient holds it, and nowhere else."""
    m = model(xp)
    ref = m.copy()
    m.layers[0].grads["W"][0, 0] = float("nan")
    OPTIMISERS[name](m).step()
    OPTIMISERS[name](ref).step()
    assert np.isnan(backend.to_numpy(m.layers[0].params["W"])[0, 0])
    for (k, a), (_, b) in zip(m.named_parameters(), ref.named_parameters()):
        if k != "layers.0.W":
            assert np.array_equal(backend.to_numpy(a), backend.to_numpy(b)), k


def test_empty_parameter(xp, name):
    m = nn.Module()
    m.add_param("W", xp.zeros((0, 3), dtype=xp.float32))
    OPTIMISERS[name](m).step()
    assert m.params["W"].shape == (0, 3)


def test_state_moves_between_backends(xp, name):
    """Optimiser state saved under one backend continues under another (host arrays)."""
    import minseq
    m = model(xp)
    opt = OPTIMISERS[name](m)
    opt.step()
    state, weights = opt.state_dict(), m.state_dict()
    other = "numpy" if backend.get_backend() != "numpy" else "strict"
    minseq.use_backend(other)
    m2 = model(backend.xp)
    m2.load_state_dict(weights)
    opt2 = OPTIMISERS[name](m2)
    opt2.load_state_dict(state)
    opt2.step()
    assert all(isinstance(v, backend.xp.ndarray) for s in opt2.state.values() for v in s.values())


# -- gradient clipping -------------------------------------------------------------------------
@pytest.fixture
def clip(record_property):
    record_property("entry_point", "optim.clip_grad_norm")


@pytest.mark.parametrize("max_norm", [0.0, -1.0, math.nan])
def test_clip_needs_a_positive_bound(xp, clip, max_norm):
    with pytest.raises(ValueError, match="clip_grad_norm: max_norm must be positive"):
        optim.clip_grad_norm(model(xp), max_norm)


@pytest.mark.parametrize("value", [math.nan, math.inf])
def test_clip_leaves_non_finite_gradients_for_the_caller(xp, clip, value):
    """A non-finite norm is returned as is and no gradient is rescaled (scaling by
    max_norm / inf would turn every finite gradient into 0 and inf into NaN)."""
    m = model(xp)
    m.layers[0].grads["W"][0, 0] = value
    before = {k: backend.to_numpy(g).copy() for k, g in m.named_grads()}
    total = optim.clip_grad_norm(m, 1.0)
    assert not math.isfinite(total)
    for k, g in m.named_grads():
        np.testing.assert_array_equal(backend.to_numpy(g), before[k])


def test_clip_of_zero_gradients(xp, clip):
    m = model(xp)
    m.zero_grad()
    assert optim.clip_grad_norm(m, 1.0) == 0.0
