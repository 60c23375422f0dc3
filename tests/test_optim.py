"""Optimisers: one step against the update computed by hand; clipping; L1."""

import math

import numpy as np
import pytest

from minseq import backend, nn, optim


def one_param_module(xp, value, grad):
    m = nn.Linear(1, 2, bias=False).astype(xp.float64)
    m.params["W"][...] = xp.asarray([value])
    m.grads["W"][...] = xp.asarray([grad])
    return m


def W(m):
    return backend.to_numpy(m.params["W"])[0]


def test_sgd_step(xp):
    m = one_param_module(xp, [1.0, -2.0], [0.5, 0.25])
    optim.SGD(m, lr=0.1).step()
    assert np.allclose(W(m), [1.0 - 0.05, -2.0 - 0.025])


def test_sgd_momentum_and_weight_decay(xp):
    m = one_param_module(xp, [1.0, 1.0], [1.0, 0.0])
    opt = optim.SGD(m, lr=0.1, momentum=0.9, weight_decay=0.5)
    opt.step()                       # v = g + 0.5 p = [1.5, 0.5]; p = [0.85, 0.95]
    assert np.allclose(W(m), [0.85, 0.95])
    opt.step()                       # v = 0.9 v + (g + 0.5 p) = [1.35 + 1.425, 0.45 + 0.475]
    assert np.allclose(W(m), [0.85 - 0.1 * 2.775, 0.95 - 0.1 * 0.925])


def test_adam_first_steps_by_hand(xp):
    m = one_param_module(xp, [1.0, 1.0], [2.0, -0.5])
    opt = optim.Adam(m, lr=0.01)
    opt.step()           # bias-corrected m / sqrt(v) = sign(g): each weight moves by lr
    assert np.allclose(W(m), [0.99, 1.01], atol=1e-7)
    m.grads["W"][...] = xp.asarray([[1.0, 1.0]])
    opt.step()
    b1, b2, eps = 0.9, 0.999, 1e-8
    for k, (g1, p1) in enumerate(((2.0, 0.99), (-0.5, 1.01))):
        mo = (b1 * (1 - b1) * g1 + (1 - b1) * 1.0) / (1 - b1 ** 2)
        v = (b2 * (1 - b2) * g1 ** 2 + (1 - b2) * 1.0) / (1 - b2 ** 2)
        assert W(m)[k] == pytest.approx(p1 - 0.01 * mo / (math.sqrt(v) + eps))


# With a zero gradient the two decay rules agree (both give 1.9 below); a non-zero gradient
# tells them apart. First Adam step: theta moves by lr * sign(its gradient).
def test_adamw_decays_decoupled(xp):
    m = one_param_module(xp, [2.0, 2.0], [1.0, -0.5])
    optim.AdamW(m, lr=0.1, weight_decay=0.5).step()
    # theta (1 - lr lambda) = 1.9, then - lr sign(g); coupled would give 2 - 0.1 sign(g + 1)
    assert np.allclose(W(m), [1.9 - 0.1, 1.9 + 0.1])         # [1.8, 2.0], coupled [1.9, 1.9]


def test_adamw_zero_gradient_only_decays(xp):
    m = one_param_module(xp, [2.0, 2.0], [0.0, 0.0])
    optim.AdamW(m, lr=0.1, weight_decay=0.5).step()
    assert np.allclose(W(m), [2.0 * (1 - 0.05)] * 2)


def test_adam_weight_decay_is_coupled(xp):
    m = one_param_module(xp, [2.0, 2.0], [1.0, -0.5])
    optim.Adam(m, lr=0.1, weight_decay=0.5).step()
    # the L2 gradient goes through Adam: g + lambda theta = [2.0, 0.5], both positive
    assert np.allclose(W(m), [1.9, 1.9])                      # decoupled would give [1.8, 2.0]


def test_float32_parameters_stay_float32(xp):
    m = nn.Linear(3, 2)
    for opt in (optim.SGD(m, 0.1, momentum=0.9, weight_decay=1e-4), optim.Adam(m), optim.AdamW(m)):
        opt.step()
        assert all(p.dtype == xp.float32 for _, p in m.named_parameters())


def test_clip_grad_norm(xp):
    m = one_param_module(xp, [0.0, 0.0], [3.0, 4.0])
    norm = optim.clip_grad_norm(m, 1.0)
    assert norm == pytest.approx(5.0)
    assert np.linalg.norm(backend.to_numpy(m.grads["W"])) == pytest.approx(1.0, rel=1e-5)
    assert optim.clip_grad_norm(m, 10.0) == pytest.approx(1.0, rel=1e-5)


def test_l1_penalty_adds_sign(xp):
    m = one_param_module(xp, [2.0, -3.0], [0.0, 0.0])
    assert optim.l1_penalty(m, 0.1) == pytest.approx(0.5)
    assert np.allclose(backend.to_numpy(m.grads["W"])[0], [0.1, -0.1])


def test_state_dict_round_trip(xp):
    m = one_param_module(xp, [1.0, 1.0], [2.0, -0.5])
    opt = optim.Adam(m)
    opt.step()
    other = optim.Adam(m)
    other.load_state_dict(opt.state_dict())
    assert other.steps == 1
    assert np.allclose(backend.to_numpy(other.state["W"]["m"]), backend.to_numpy(opt.state["W"]["m"]))


def test_bad_arguments(xp):
    with pytest.raises(TypeError, match="SGD: params must be the Module"):
        optim.SGD([1, 2], lr=0.1)
    with pytest.raises(ValueError, match="Adam: lr must be positive"):
        optim.Adam(nn.Linear(1, 1), lr=0)
