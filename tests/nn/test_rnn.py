"""RNNCell and RNN against the formulas as the catalogue writes them (D1, D2)."""

import numpy as np
import pytest

from minseq import backend, fast, nn


def randn(*shape, seed=0):
    return backend.asarray(np.random.default_rng(seed).standard_normal(shape), dtype="float64")


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
def test_cell_is_d1_with_column_vectors(xp, nonlinearity):
    """D1: h_t = sigma(W_h h_{t-1} + W_x x_t + b_h), one column per example."""
    cell = nn.RNNCell(3, 4, nonlinearity=nonlinearity).astype(xp.float64)
    x, h_prev = randn(2, 3), randn(2, 4, seed=1)
    W_h, W_x, b_h = cell.params["Wh"].T, cell.params["Wx"].T, cell.params["b"]
    act = xp.tanh if nonlinearity == "tanh" else (lambda a: xp.maximum(a, 0))
    for n in range(2):
        h_t = act(W_h @ h_prev[n] + W_x @ x[n] + b_h)
        assert xp.allclose(cell(x[n:n + 1], h_prev[n:n + 1])[0], h_t, atol=1e-12)


def test_concatenated_form_is_the_split_form(xp):
    """D2: W_h [h_{t-1}, x_t] with W = [W_h W_x] side by side equals W_h h + W_x x."""
    cell = nn.RNNCell(3, 4).astype(xp.float64)
    x, h_prev = randn(3), randn(4, seed=1)
    W = xp.concatenate([cell.params["Wh"].T, cell.params["Wx"].T], axis=1)   # (H, H + D)
    hx = xp.concatenate([h_prev, x])
    h_t = xp.tanh(W @ hx + cell.params["b"])
    assert xp.allclose(cell(x[None], h_prev[None])[0], h_t, atol=1e-12)


@pytest.mark.parametrize("tier", ["reference", "fast"])
def test_relu_rnn_derivative_is_zero_where_the_unit_is_off(xp, tier):
    """relu'(a) = [a > 0]: a gradient reaching a unit that is off (h = 0) stops there, one
    that reaches a unit that is on passes to x and h_prev. Checked unit by unit."""
    cell = nn.RNNCell(2, 3, nonlinearity="relu").astype(xp.float64)
    cell = fast.twin_of(cell) if tier == "fast" else cell
    x, h_prev = randn(4, 2), randn(4, 3, seed=1)
    h = cell(x, h_prev)
    cell.backward(xp.zeros_like(h))
    off = backend.to_numpy(h == 0)
    assert off.any() and not off.all(), "the case needs units both off and on"
    for n, j in np.ndindex(*off.shape):
        dh = xp.zeros_like(h)
        dh[n, j] = 1.0
        cell(x, h_prev)
        dx, dh_prev = cell.backward(dh)
        reaches = bool(abs(dx).max() > 0) or bool(abs(dh_prev).max() > 0)
        assert reaches != off[n, j], f"unit ({n}, {j}) is {'off' if off[n, j] else 'on'}"


def test_unknown_nonlinearity_is_refused():
    with pytest.raises(ValueError, match="RNN: nonlinearity must be one of"):
        nn.RNN(3, 4, nonlinearity="sigmoid")
