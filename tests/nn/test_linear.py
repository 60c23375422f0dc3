"""Linear: y = x W + b over any leading dimensions, PyTorch's initialisation, clear errors."""

import math

import numpy as np
import pytest
from hypothesis import given, strategies as st

from minseq import backend, nn
from minseq.gradcheck import check_module


def test_forward_matches_the_index_form(xp, rng):
    layer = nn.Linear(3, 2).astype(xp.float64)
    x = rng.standard_normal((4, 3))
    W, b = backend.to_numpy(layer.params["W"]), backend.to_numpy(layer.params["b"])
    expected = np.array([[sum(x[n, i] * W[i, j] for i in range(3)) + b[j] for j in range(2)]
                         for n in range(4)])
    y = layer(backend.asarray(x))
    assert np.allclose(backend.to_numpy(y), expected)


@given(batch=st.integers(1, 5), seq=st.integers(1, 4), d_in=st.integers(1, 8),
       d_out=st.integers(1, 8), seed=st.integers(0, 2**16))
def test_gradients_for_any_shape(xp, batch, seq, d_in, d_out, seed):
    x = backend.asarray(np.random.default_rng(seed).standard_normal((batch, seq, d_in)))
    check_module(nn.Linear(d_in, d_out), x)


def test_initialisation_bound_is_one_over_sqrt_fan_in(xp):
    layer = nn.Linear(16, 300)
    bound = 1 / math.sqrt(16)
    W = backend.to_numpy(layer.params["W"])
    assert W.shape == (16, 300) and layer.params["b"].shape == (300,)
    assert np.abs(W).max() <= bound and np.abs(W).max() > 0.9 * bound


def test_without_bias(xp):
    layer = nn.Linear(3, 2, bias=False)
    assert set(layer.params) == {"W"}
    check_module(layer, xp.ones((2, 3)))


def test_wrong_feature_size_is_a_clear_error(xp):
    with pytest.raises(ValueError, match=r"Linear: x must have last dimension 3, got shape \(2, 4\)"):
        nn.Linear(3, 2)(xp.ones((2, 4), dtype=xp.float32))


def test_integer_input_is_a_clear_error(xp):
    with pytest.raises(TypeError, match="Linear: x must be float32 or float64, got int64"):
        nn.Linear(3, 2)(xp.ones((2, 3), dtype=xp.int64))


def test_dtype_mismatch_is_a_clear_error(xp):
    with pytest.raises(TypeError, match="x has dtype float64 but the layer computes in float32"):
        nn.Linear(3, 2)(xp.ones((2, 3), dtype=xp.float64))


def test_host_list_is_a_clear_error(xp):
    with pytest.raises(TypeError, match="Linear: x must be a .* array"):
        nn.Linear(3, 2)([[1.0, 2.0, 3.0]])


def test_wrong_gradient_shape_is_a_clear_error(xp):
    layer = nn.Linear(3, 2)
    layer(xp.ones((4, 3), dtype=xp.float32))
    with pytest.raises(ValueError, match=r"Linear: dy must have shape \(4, 2\)"):
        layer.backward(xp.ones((4, 3), dtype=xp.float32))


def test_float32_stays_float32(xp):
    layer = nn.Linear(3, 2)
    y = layer(xp.ones((2, 3), dtype=xp.float32))
    assert y.dtype == xp.float32
    assert layer.backward(xp.ones_like(y)).dtype == xp.float32
