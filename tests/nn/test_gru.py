"""GRUCell against PyTorch's GRU formula written out with separate matrices (D9)."""

import numpy as np

from minseq import backend, nn


def randn(*shape, seed=0):
    return backend.asarray(np.random.default_rng(seed).standard_normal(shape), dtype="float64")


def sigma(z):
    return 1 / (1 + np.exp(-z))


def test_cell_is_d9_with_separate_matrices(xp):
    """r = sigma(W_ir x + b_ir + W_hr h + b_hr), z likewise,
    n = tanh(W_in x + b_in + r (.) (W_hn h + b_hn)), h' = (1 - z) (.) n + z (.) h."""
    D, H = 3, 4
    cell = nn.GRUCell(D, H, record_gates=True).astype(xp.float64)
    x, h_prev = randn(D), randn(H, seed=1)
    Wx, Wh, bx, bh = (backend.to_numpy(cell.params[k]) for k in ("Wx", "Wh", "bx", "bh"))
    xh, h = backend.to_numpy(x), backend.to_numpy(h_prev)
    block = {name: slice(k * H, (k + 1) * H) for k, name in enumerate("rzn")}
    W_ir, W_iz, W_in = (Wx[:, block[n]].T for n in "rzn")
    W_hr, W_hz, W_hn = (Wh[:, block[n]].T for n in "rzn")
    b_ir, b_iz, b_in = (bx[block[n]] for n in "rzn")
    b_hr, b_hz, b_hn = (bh[block[n]] for n in "rzn")
    r = sigma(W_ir @ xh + b_ir + W_hr @ h + b_hr)
    z = sigma(W_iz @ xh + b_iz + W_hz @ h + b_hz)
    n = np.tanh(W_in @ xh + b_in + r * (W_hn @ h + b_hn))
    h_new = (1 - z) * n + z * h
    out = cell(x[None], h_prev[None])
    np.testing.assert_allclose(backend.to_numpy(out)[0], h_new, atol=1e-12)
    for name, value in zip("rzn", (r, z, n)):
        np.testing.assert_allclose(backend.to_numpy(cell.gates[name])[0], value, atol=1e-12)


def test_reset_gate_scales_only_the_hidden_part_of_n(xp):
    """With r = 0 the candidate sees only the input: n = tanh(W_in x + b_in)."""
    D, H = 2, 3
    cell = nn.GRUCell(D, H, record_gates=True).astype(xp.float64)
    cell.params["bx"][:H] = -1e3                # drive r to 0
    x = randn(1, D)
    cell(x, randn(1, H, seed=1))
    n_input_only = xp.tanh(x @ cell.params["Wx"][:, 2 * H:] + cell.params["bx"][2 * H:])
    assert xp.allclose(cell.gates["r"], 0) and xp.allclose(cell.gates["n"], n_input_only)
