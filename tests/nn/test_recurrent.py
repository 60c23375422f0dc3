"""What RNN, LSTM and GRU share: masks, final states, gradients through time, checks on input."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from minseq import backend, fast, nn
from minseq.gradcheck import check_module

LAYERS = {
    "RNN tanh": lambda D, H: nn.RNN(D, H),
    "RNN relu": lambda D, H: nn.RNN(D, H, nonlinearity="relu"),
    "LSTM": lambda D, H: nn.LSTM(D, H),
    "GRU": lambda D, H: nn.GRU(D, H),
}
CELLS = {
    "RNN tanh": lambda D, H: nn.RNNCell(D, H),
    "RNN relu": lambda D, H: nn.RNNCell(D, H, nonlinearity="relu"),
    "LSTM": lambda D, H: nn.LSTMCell(D, H),
    "GRU": lambda D, H: nn.GRUCell(D, H),
}
KINDS = list(LAYERS)
TIERS = ["reference", "fast"]


def make(table, kind, D, H, tier="reference"):
    """The reference layer (or cell) of ``kind``, or its fast twin."""
    module = table[kind](D, H)
    return fast.twin_of(module) if tier == "fast" else module


def run(layer, x, *states, mask=None):
    """hs and the tuple of final states: (h_n,) or (h_n, c_n)."""
    hs, final = layer(x, *states, mask=mask)
    return hs, final if isinstance(final, tuple) else (final,)


def run_backward(layer, dhs, dfinal=None):
    """dx and the tuple of initial-state gradients, from dhs and the final states' gradients."""
    if isinstance(layer, nn.LSTM):
        dx, dh0, dc0 = layer.backward(dhs, dfinal)
        return dx, (dh0, dc0)
    dx, dh0 = layer.backward(dhs, None if dfinal is None else dfinal[0])
    return dx, (dh0,)


def randn(*shape, seed=0, dtype="float64"):
    return backend.asarray(np.random.default_rng(seed).standard_normal(shape), dtype=dtype)


def initial_states(layer, B, seed=10):
    return tuple(randn(B, layer.hidden_size, seed=seed + k) for k in range(len(layer.state_names)))


def mask_from_lengths(xp, lengths, T):
    return xp.asarray(np.arange(T)[None, :] < np.asarray(lengths)[:, None])


@pytest.mark.parametrize("tier", TIERS)
@pytest.mark.parametrize("kind", KINDS)
def test_layer_is_its_cell_run_over_time(xp, kind, tier):
    B, T, D, H = 2, 4, 3, 5
    layer = make(LAYERS, kind, D, H, tier).astype(xp.float64)
    cell = make(CELLS, kind, D, H, tier).astype(xp.float64)
    cell.load_state_dict(layer.state_dict())
    x, states = randn(B, T, D), initial_states(layer, B)
    hs, finals = run(layer, x, *states)
    for t in range(T):
        out = cell(x[:, t], *states)
        states = out if isinstance(out, tuple) else (out,)
        assert xp.allclose(hs[:, t], states[0], atol=1e-12)
    for final, state in zip(finals, states):
        assert xp.allclose(final, state, atol=1e-12)


@pytest.mark.parametrize("tier", TIERS)
@pytest.mark.parametrize("kind", KINDS)
def test_padded_masked_batch_equals_each_sequence_alone(xp, kind, tier):
    B, T, D, H = 3, 6, 3, 4
    lengths = [6, 2, 0]                    # full, padded after two steps, no real step at all
    layer = make(LAYERS, kind, D, H, tier).astype(xp.float64)
    x, states, dhs = randn(B, T, D), initial_states(layer, B), randn(B, T, H, seed=1)
    dfinal = initial_states(layer, B, seed=20)
    hs, finals = run(layer, x, *states, mask=mask_from_lengths(xp, lengths, T))
    dx, dstates = run_backward(layer, dhs, dfinal)
    grads = {k: g.copy() for k, g in layer.grads.items()}
    summed = {k: xp.zeros_like(g) for k, g in grads.items()}
    for b, n in enumerate(lengths):
        alone_states = tuple(s[b:b + 1] for s in states)
        hs_alone, finals_alone = run(layer, x[b:b + 1, :n], *alone_states)
        assert xp.allclose(hs[b, :n], hs_alone[0], atol=1e-12)
        assert (hs[b, n:] == 0).all(), "the output at a padded step is zero"
        for final, alone in zip(finals, finals_alone):
            assert xp.allclose(final[b], alone[0], atol=1e-12), "final state at the last real step"
        dx_alone, dstates_alone = run_backward(layer, dhs[b:b + 1, :n],
                                               tuple(d[b:b + 1] for d in dfinal))
        assert xp.allclose(dx[b, :n], dx_alone[0], atol=1e-12)
        assert (dx[b, n:] == 0).all(), "padded inputs do not reach the loss"
        for d, d_alone in zip(dstates, dstates_alone):
            assert xp.allclose(d[b], d_alone[0], atol=1e-12)
        for k in summed:
            summed[k] += layer.grads[k]
    for k in grads:
        assert xp.allclose(grads[k], summed[k], atol=1e-12), f"d{k} is the sum over sequences"


@settings(max_examples=8)
@given(kind=st.sampled_from(KINDS), tier=st.sampled_from(TIERS), B=st.integers(1, 3),
       T=st.integers(1, 4), D=st.integers(1, 3), H=st.integers(1, 3), masked=st.booleans(),
       seed=st.integers(0, 99))
def test_gradients_through_time_over_shapes(kind, tier, B, T, D, H, masked, seed):
    backend.use_backend("numpy")
    layer = make(LAYERS, kind, D, H, tier)
    x = randn(B, T, D, seed=seed)
    if kind == "RNN tanh" or kind == "RNN relu":
        x = x + 0.1 * np.sign(x)           # keep relu pre-activations away from the kink
    kwargs = {}
    if masked:
        kwargs["mask"] = np.random.default_rng(seed).random((B, T)) < 0.7
    errors = check_module(layer, x, *initial_states(layer, B, seed), tol=1e-5, **kwargs)
    assert {"x", "h_0", "Wx", "Wh"} <= set(errors)     # inputs named as forward names them


@pytest.mark.parametrize("tier", TIERS)
@pytest.mark.parametrize("kind", KINDS)
def test_backward_overwrites_gradients_and_needs_a_forward(xp, kind, tier):
    layer = make(LAYERS, kind, 3, 4, tier)
    x, dhs = randn(2, 5, 3, dtype="float32"), randn(2, 5, 4, seed=1, dtype="float32")
    layer(x)
    dx1 = layer.backward(dhs)[0]
    first = {k: g.copy() for k, g in layer.grads.items()}
    layer(x)
    dx2 = layer.backward(dhs)[0]
    assert dx1.dtype == xp.float32 and xp.allclose(dx1, dx2)
    for k, g in layer.grads.items():
        assert g.dtype == xp.float32 and xp.allclose(g, first[k])
    with pytest.raises(RuntimeError, match="backward called without a forward"):
        layer.backward(dhs)


@pytest.mark.parametrize("tier", TIERS)
@pytest.mark.parametrize("kind", KINDS)
def test_float32_in_float32_out(xp, kind, tier):
    layer = make(LAYERS, kind, 3, 4, tier)
    hs, finals = run(layer, randn(2, 5, 3, dtype="float32"))
    assert hs.dtype == xp.float32 and hs.shape == (2, 5, 4)
    for final in finals:
        assert final.dtype == xp.float32 and final.shape == (2, 4)


@pytest.mark.parametrize("tier", TIERS)
@pytest.mark.parametrize("kind", KINDS)
def test_bad_input_names_the_layer_and_the_expected_shape(xp, kind, tier):
    layer = make(LAYERS, kind, 3, 4, tier)
    name = type(layer).__name__
    x = randn(2, 5, 3, dtype="float32")
    with pytest.raises(ValueError, match=rf"{name}: x .* 3 dimensions"):
        layer(x[:, 0])
    with pytest.raises(ValueError, match=rf"{name}: x .* last dimension 3"):
        layer(randn(2, 5, 4, dtype="float32"))
    with pytest.raises(TypeError, match=rf"{name}: x .* float64 .* float32"):
        layer(x.astype(xp.float64))
    with pytest.raises(ValueError, match=rf"{name}: h_0 \(batch, hidden_size\) must have shape "
                                         r"\(2, 4\)"):
        layer(x, randn(2, 5, dtype="float32"))
    with pytest.raises(ValueError, match=rf"{name}: mask \(batch, time\) must have shape "
                                         r"\(2, 5\)"):
        layer(x, mask=xp.ones((2, 4), dtype=bool))
    with pytest.raises(TypeError, match=rf"{name}: mask must be a boolean array"):
        layer(x, mask=xp.ones((2, 5), dtype=xp.float32))
    layer(x)
    with pytest.raises(ValueError, match=rf"{name}: dhs must have shape \(2, 5, 4\)"):
        layer.backward(randn(2, 4, 4, dtype="float32"))


@pytest.mark.parametrize("kind", KINDS)
def test_cell_checks_its_input(xp, kind):
    cell = CELLS[kind](3, 4)
    with pytest.raises(ValueError, match=r"Cell: x \(batch, input_size\) must have 2 dim"):
        cell(randn(2, 5, 3, dtype="float32"))
    with pytest.raises(ValueError, match=r"Cell: h_prev \(batch, hidden_size\) must have shape"):
        cell(randn(2, 3, dtype="float32"), randn(3, 4, dtype="float32"))


def test_lstm_c0_is_checked(xp):
    with pytest.raises(ValueError, match=r"LSTM: c_0 \(batch, hidden_size\) must have shape"):
        nn.LSTM(3, 4)(randn(2, 5, 3, dtype="float32"), None, randn(2, 3, dtype="float32"))


@pytest.mark.parametrize("tier", TIERS)
@pytest.mark.parametrize("layer_class, names", [(nn.LSTM, "ifgo"), (nn.GRU, "rzn")])
def test_gates_are_recorded_only_when_asked(xp, layer_class, names, tier):
    x = randn(2, 5, 3, dtype="float32")
    quiet = layer_class(3, 4)
    quiet(x)
    assert quiet.gates is None
    layer = layer_class(3, 4, record_gates=True)
    layer = fast.twin_of(layer) if tier == "fast" else layer
    layer(x)
    layer.backward(randn(2, 5, 4, dtype="float32"))      # backward must not disturb them
    assert list(layer.gates) == list(names)
    for name, g in layer.gates.items():
        assert g.shape == (2, 5, 4)
        low = -1 if name in "gn" else 0                     # tanh gates in (-1, 1), sigmoid (0, 1)
        assert (g > low).all() and (g < 1).all(), name


def test_initialisation_follows_pytorch(xp):
    """Every entry in U(-1/sqrt(H), 1/sqrt(H)); the LSTM's b sums two such draws."""
    H = 16
    lstm, gru = nn.LSTM(8, H), nn.GRU(8, H)
    bound = 1 / np.sqrt(H)
    for layer in (lstm, gru):
        for name in ("Wx", "Wh"):
            assert float(abs(layer.params[name]).max()) <= bound
    assert float(abs(gru.params["bx"]).max()) <= bound
    assert bound < float(abs(lstm.params["b"]).max()) <= 2 * bound


@pytest.mark.parametrize("tier", TIERS)
@pytest.mark.parametrize("kind", ["RNN tanh", "RNN relu", "LSTM", "GRU"])
def test_same_function_as_pytorch(torch, kind, tier):
    """The same outputs, final states and gradients as torch.nn.RNN / LSTM / GRU in float64."""
    backend.use_backend("numpy")
    B, T, D, H = 3, 6, 4, 5
    layer = make(LAYERS, kind, D, H, tier).astype(np.float64)
    options = {"nonlinearity": layer.nonlinearity} if kind.startswith("RNN") else {}
    twin = getattr(torch.nn, kind.split()[0])(D, H, batch_first=True, **options).double()
    p = layer.params
    with torch.no_grad():
        twin.weight_ih_l0.copy_(torch.from_numpy(p["Wx"].T.copy()))
        twin.weight_hh_l0.copy_(torch.from_numpy(p["Wh"].T.copy()))
        twin.bias_ih_l0.copy_(torch.from_numpy(p.get("bx", p.get("b"))))
        twin.bias_hh_l0.copy_(torch.from_numpy(p["bh"]) if "bh" in p else 0 * twin.bias_hh_l0)
    x, dhs = randn(B, T, D), randn(B, T, H, seed=1)
    states, dfinal = initial_states(layer, B), initial_states(layer, B, seed=20)
    hs, finals = run(layer, x, *states)
    dx, dstates = run_backward(layer, dhs, dfinal)
    xt = torch.from_numpy(x).requires_grad_()
    st0 = [torch.from_numpy(s[None]).requires_grad_() for s in states]
    out, final = twin(xt, tuple(st0) if kind == "LSTM" else st0[0])
    final = final if kind == "LSTM" else (final,)
    loss = (out * torch.from_numpy(dhs)).sum()
    loss = loss + sum((f[0] * torch.from_numpy(d)).sum() for f, d in zip(final, dfinal))
    loss.backward()
    np.testing.assert_allclose(hs, out.detach().numpy(), atol=1e-12)
    for mine, theirs in zip(finals, final):
        np.testing.assert_allclose(mine, theirs.detach().numpy()[0], atol=1e-12)
    np.testing.assert_allclose(dx, xt.grad.numpy(), atol=1e-12)
    for d, s in zip(dstates, st0):
        np.testing.assert_allclose(d, s.grad.numpy()[0], atol=1e-12)
    np.testing.assert_allclose(layer.grads["Wx"], twin.weight_ih_l0.grad.numpy().T, atol=1e-12)
    np.testing.assert_allclose(layer.grads["Wh"], twin.weight_hh_l0.grad.numpy().T, atol=1e-12)
    np.testing.assert_allclose(layer.grads.get("bx", layer.grads.get("b")),
                               twin.bias_ih_l0.grad.numpy(), atol=1e-12)


@pytest.mark.parametrize("tier", TIERS)
@pytest.mark.parametrize("kind", KINDS)
def test_a_fully_masked_batch_keeps_h0_and_passes_no_gradient(xp, kind, tier):
    layer = make(LAYERS, kind, 3, 4, tier).astype(xp.float64)
    x, states = randn(2, 5, 3), initial_states(layer, 2)
    hs, finals = run(layer, x, *states, mask=xp.zeros((2, 5), dtype=bool))
    assert (hs == 0).all()
    for final, s in zip(finals, states):
        assert (final == s).all()
    dx, dstates = run_backward(layer, randn(2, 5, 4, seed=1), [xp.ones_like(s) for s in states])
    assert (dx == 0).all()
    for d in dstates:
        assert (d == 1).all(), "dL/dh_n passes straight back to h_0"
    for g in layer.grads.values():
        assert (g == 0).all()


@pytest.mark.parametrize("tier", TIERS)
@pytest.mark.parametrize("kind", ["LSTM", "GRU", "RNN tanh"])
def test_huge_inputs_stay_finite(xp, kind, tier):
    """Gates saturate instead of overflowing (sigma is computed through tanh)."""
    layer = make(LAYERS, kind, 3, 4, tier)
    x = 1e4 * randn(2, 5, 3, dtype="float32")
    hs, _ = layer(x)
    dx = layer.backward(xp.ones_like(hs))[0]
    assert bool(xp.isfinite(hs).all()) and bool(xp.isfinite(dx).all())
    assert all(bool(xp.isfinite(g).all()) for g in layer.grads.values())
