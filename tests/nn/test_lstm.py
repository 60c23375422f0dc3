"""LSTMCell against the formulas as the catalogue writes them (D3, D5, D8)."""

import numpy as np
import pytest

from minseq import backend, fast, nn
from minseq.gradcheck import numerical_gradient


def randn(*shape, seed=0):
    return backend.asarray(np.random.default_rng(seed).standard_normal(shape), dtype="float64")


def sigma(z):
    return 1 / (1 + np.exp(-z))


def test_cell_is_d3_with_separate_matrices(xp):
    """D3: i = sigma(W_ix x + W_ih h + b_i), likewise f, o; g = tanh(...); c, h as D5/D8."""
    D, H = 3, 4
    cell = nn.LSTMCell(D, H).astype(xp.float64)
    x, h_prev, c_prev = randn(D), randn(H, seed=1), randn(H, seed=2)
    Wx, Wh, b = (backend.to_numpy(cell.params[k]) for k in ("Wx", "Wh", "b"))
    xh, hh, ch = (backend.to_numpy(a) for a in (x, h_prev, c_prev))
    block = {name: slice(k * H, (k + 1) * H) for k, name in enumerate("ifgo")}
    W_ix, W_fx, W_gx, W_ox = (Wx[:, block[n]].T for n in "ifgo")
    W_ih, W_fh, W_gh, W_oh = (Wh[:, block[n]].T for n in "ifgo")
    b_i, b_f, b_g, b_o = (b[block[n]] for n in "ifgo")
    i_t = sigma(W_ix @ xh + W_ih @ hh + b_i)
    f_t = sigma(W_fx @ xh + W_fh @ hh + b_f)
    o_t = sigma(W_ox @ xh + W_oh @ hh + b_o)
    g_t = np.tanh(W_gx @ xh + W_gh @ hh + b_g)
    c_t = f_t * ch + i_t * g_t
    h_t = o_t * np.tanh(c_t)
    h, c = cell(x[None], h_prev[None], c_prev[None])
    np.testing.assert_allclose(backend.to_numpy(h)[0], h_t, atol=1e-12)
    np.testing.assert_allclose(backend.to_numpy(c)[0], c_t, atol=1e-12)


def test_concatenated_form_is_the_split_form(xp):
    """D5/D8: W_f [h_{t-1}, x_t] + b_f with W_f = [W_fh W_fx] equals the fused product's f block."""
    D, H = 3, 4
    cell = nn.LSTMCell(D, H, record_gates=True).astype(xp.float64)
    x, h_prev = randn(D), randn(H, seed=1)
    cell(x[None], h_prev[None])
    Wx, Wh, b = cell.params["Wx"], cell.params["Wh"], cell.params["b"]
    f = slice(H, 2 * H)
    W_f = xp.concatenate([Wh[:, f].T, Wx[:, f].T], axis=1)            # (H, H + D)
    f_t = 1 / (1 + xp.exp(-(W_f @ xp.concatenate([h_prev, x]) + b[f])))
    assert xp.allclose(cell.gates["f"][0], f_t, atol=1e-12)


def test_forget_gate_applies_once(xp):
    """D8's stray `c_{t-1} = f_t c_{t-1}` would give f^2 c_{t-1}; the cell gives f c_{t-1} + i g."""
    cell = nn.LSTMCell(2, 3, record_gates=True).astype(xp.float64)
    c_prev = randn(1, 3, seed=2)
    _, c = cell(randn(1, 2), randn(1, 3, seed=1), c_prev)
    g = cell.gates
    assert xp.allclose(c, g["f"] * c_prev + g["i"] * g["g"], atol=1e-12)
    assert not xp.allclose(c, g["f"] * g["f"] * c_prev + g["i"] * g["g"])


@pytest.mark.parametrize("tier", ["reference", "fast"])
@pytest.mark.parametrize("with_dc", [False, True])
def test_cell_backward_with_and_without_dc(xp, tier, with_dc):
    """backward(dh, dc) is the gradient of L = sum(dh h) + sum(dc c), central differences; dc
    omitted means L = sum(dh h), the cell state reaching no loss."""
    cell = nn.LSTMCell(2, 3).astype(xp.float64)
    cell = fast.twin_of(cell) if tier == "fast" else cell
    args = (randn(4, 2), randn(4, 3, seed=1), randn(4, 3, seed=2))
    dh, dc = randn(4, 3, seed=3), randn(4, 3, seed=4)

    def loss():
        h, c = cell(*args)
        return (dh * h).sum() + ((dc * c).sum() if with_dc else 0.0)
    cell(*args)
    grads = cell.backward(dh, dc) if with_dc else cell.backward(dh)
    for k, a in enumerate(args):
        assert xp.allclose(grads[k], numerical_gradient(loss, a), atol=1e-8), f"input {k}"
