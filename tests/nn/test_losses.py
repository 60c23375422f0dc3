"""Losses: each forward against its formula, gradients, ignore_index, extreme logits."""

import math

import numpy as np
import pytest
from hypothesis import given, strategies as st
from hypothesis.extra.numpy import arrays

from minseq import backend, nn
from minseq.gradcheck import check_module


def host(a):
    return backend.to_numpy(a)


def test_mse_formula(xp):
    pred, target = xp.asarray([1.0, 2.0, 4.0]), xp.asarray([1.0, 0.0, 1.0])
    loss = nn.MSELoss()
    assert float(loss(pred, target)) == pytest.approx((0 + 4 + 9) / 3)
    assert np.allclose(host(loss.backward()), [0.0, 4 / 3, 2.0])


@given(logits=arrays(np.float64, st.tuples(st.integers(1, 5), st.integers(2, 8)),
                     elements=st.floats(-20, 20)), seed=st.integers(0, 1000))
def test_cross_entropy_is_minus_log_softmax_at_the_target(xp, logits, seed):
    t = np.random.default_rng(seed).integers(0, logits.shape[1], logits.shape[0])
    loss = float(nn.CrossEntropyLoss()(backend.asarray(logits), backend.asarray(t)))
    p = np.exp(logits - logits.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    assert loss == pytest.approx(-np.mean(np.log(p[np.arange(len(t)), t])), rel=1e-9, abs=1e-12)


def test_cross_entropy_gradient_is_softmax_minus_onehot(xp):
    z = xp.asarray([[1.0, 2.0, 3.0]])
    loss = nn.CrossEntropyLoss()
    loss(z, xp.asarray([2]))
    e = np.exp([1.0, 2.0, 3.0])
    assert np.allclose(host(loss.backward()), [e / e.sum() - [0, 0, 1]])


def test_cross_entropy_ignore_index_excludes_positions(xp):
    z = xp.asarray([[[2.0, 0.0], [0.0, 5.0]], [[1.0, 1.0], [9.0, -9.0]]])   # (B=2, T=2, C=2)
    t = xp.asarray([[0, -100], [1, -100]])
    loss = nn.CrossEntropyLoss(ignore_index=-100)
    value = float(loss(z, t))
    expected = (math.log(1 + math.exp(-2.0)) + math.log(2.0)) / 2
    assert value == pytest.approx(expected)
    g = host(loss.backward())
    assert (g[:, 1] == 0).all()


def test_cross_entropy_all_ignored_is_zero_not_nan(xp):
    loss = nn.CrossEntropyLoss(ignore_index=0)
    assert float(loss(xp.ones((2, 3)), xp.asarray([0, 0]))) == 0.0
    assert (loss.backward() == 0).all()


def test_cross_entropy_finite_at_extreme_logits(xp):
    for dtype in (xp.float32, xp.float64):
        z = xp.asarray([[1e4, -1e4, 0.0], [-1e4, 1e4, 0.0]], dtype=dtype)
        loss = nn.CrossEntropyLoss()
        value = float(loss(z, xp.asarray([0, 0])))
        assert value == pytest.approx(1e4)       # (0 + 2e4) / 2
        assert np.all(np.isfinite(host(loss.backward())))


def test_cross_entropy_bad_targets(xp):
    loss = nn.CrossEntropyLoss()
    with pytest.raises(IndexError, match=r"targets must lie in \[0, 3\)"):
        loss(xp.ones((2, 3)), xp.asarray([0, 3]))
    with pytest.raises(TypeError, match="integer class ids"):
        loss(xp.ones((2, 3)), xp.asarray([0.0, 1.0]))
    with pytest.raises(ValueError, match=r"target must have shape \(2,\)"):
        loss(xp.ones((2, 3)), xp.asarray([0, 1, 2]))


def test_bce_with_logits_formula(xp):
    z, t = xp.asarray([0.0, 2.0, -1.0]), xp.asarray([1.0, 0.0, 1.0])
    sig = [1 / (1 + math.exp(-v)) for v in (0.0, 2.0, -1.0)]
    expected = -np.mean([math.log(sig[0]), math.log(1 - sig[1]), math.log(sig[2])])
    loss = nn.BCEWithLogitsLoss()
    assert float(loss(z, t)) == pytest.approx(expected)
    assert np.allclose(host(loss.backward()), (np.array(sig) - [1, 0, 1]) / 3)


def test_bce_finite_at_extreme_logits(xp):
    for dtype in (xp.float32, xp.float64):
        z = xp.asarray([1e4, -1e4, 1e4], dtype=dtype)
        t = xp.asarray([1.0, 0.0, 0.0], dtype=dtype)
        loss = nn.BCEWithLogitsLoss()
        assert float(loss(z, t)) == pytest.approx(1e4 / 3)
        assert np.all(np.isfinite(host(loss.backward())))


@pytest.mark.parametrize("make,target", [
    (nn.MSELoss, lambda xp, s: xp.asarray(np.random.default_rng(1).standard_normal(s))),
    (nn.BCEWithLogitsLoss, lambda xp, s: xp.asarray(np.random.default_rng(1).random(s))),
    (nn.CrossEntropyLoss, lambda xp, s: xp.asarray(np.random.default_rng(1).integers(0, s[-1], s[:-1]))),
])
@given(shape=st.tuples(st.integers(1, 5), st.integers(1, 4), st.integers(2, 6)))
def test_gradients(xp, make, target, shape):
    pred = backend.asarray(np.random.default_rng(0).standard_normal(shape))
    check_module(make(), pred, target(xp, shape), grad_inputs=("pred",))


def test_backward_scales_by_an_upstream_gradient(xp):
    loss = nn.MSELoss()
    loss(xp.asarray([2.0]), xp.asarray([0.0]))
    assert float(loss.backward(0.5)[0]) == pytest.approx(2.0)


def test_target_shape_mismatch_is_not_broadcast(xp):
    with pytest.raises(ValueError, match=r"MSELoss: target must have shape \(3, 1\)"):
        nn.MSELoss()(xp.ones((3, 1)), xp.ones((3,)))
