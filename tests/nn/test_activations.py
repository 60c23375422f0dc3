"""ReLU, Sigmoid, Tanh, GELU and Softmax: formulas by hand, stability, gradients."""

import math

import numpy as np
import pytest
from hypothesis import given, strategies as st
from hypothesis.extra.numpy import arrays

from minseq import backend, nn
from minseq.gradcheck import check_module

finite = st.floats(-30, 30, allow_nan=False, width=64)


def host(a):
    return backend.to_numpy(a)


def test_relu_formula(xp):
    x = xp.asarray([-2.0, -0.0, 0.5, 3.0])
    assert host(nn.ReLU()(x)).tolist() == [0.0, 0.0, 0.5, 3.0]


def test_sigmoid_formula_and_extremes(xp):
    x = xp.asarray([-1e4, -20.0, 0.0, 1.0, 1e4], dtype=xp.float32)
    y = host(nn.Sigmoid()(x))
    assert np.all(np.isfinite(y))
    assert y[0] == 0.0 and y[-1] == 1.0 and y[2] == 0.5
    assert math.isclose(y[3], 1 / (1 + math.exp(-1)), rel_tol=1e-6)


def test_tanh_formula(xp):
    x = xp.asarray([-1.0, 0.0, 2.0])
    expected = [(math.exp(2 * v) - 1) / (math.exp(2 * v) + 1) for v in (-1.0, 0.0, 2.0)]
    assert np.allclose(host(nn.Tanh()(x)), expected)


def test_gelu_exact_and_tanh_forms(xp):
    x = xp.asarray([-3.0, -0.5, 0.0, 1.0, 2.5])
    exact = [v * 0.5 * (1 + math.erf(v / math.sqrt(2))) for v in (-3.0, -0.5, 0.0, 1.0, 2.5)]
    assert np.allclose(host(nn.GELU()(x)), exact, atol=1e-12)
    approx = host(nn.GELU("tanh")(x))
    assert np.allclose(approx, exact, atol=1e-3)
    with pytest.raises(ValueError, match="GELU: approximate"):
        nn.GELU("sigmoid")


@given(z=arrays(np.float64, st.tuples(st.integers(1, 5), st.integers(1, 8)), elements=finite))
def test_softmax_rows_sum_to_one(xp, z):
    y = host(nn.Softmax()(backend.asarray(z)))
    assert np.allclose(y.sum(axis=-1), 1.0) and (y >= 0).all()
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    assert np.allclose(y, e / e.sum(axis=-1, keepdims=True))


def test_softmax_at_extreme_logits(xp):
    for dtype in (xp.float32, xp.float64):
        z = xp.asarray([[1e4, -1e4, 0.0], [5.0, 5.0, 5.0]], dtype=dtype)
        y = host(nn.Softmax()(z))
        assert np.all(np.isfinite(y))
        assert np.allclose(y, [[1, 0, 0], [1 / 3, 1 / 3, 1 / 3]])


@pytest.mark.parametrize("layer", [nn.ReLU, nn.Sigmoid, nn.Tanh, nn.GELU, nn.Softmax])
@given(x=arrays(np.float64, st.tuples(st.integers(1, 5), st.integers(1, 8)),
                elements=st.floats(-4, 4).filter(lambda v: abs(v) > 1e-3)))
def test_gradients(xp, layer, x):
    check_module(layer(), backend.asarray(x))


@pytest.mark.parametrize("layer", [nn.ReLU, nn.Sigmoid, nn.Tanh, nn.GELU, nn.Softmax])
def test_integer_input_is_a_clear_error(xp, layer):
    with pytest.raises(TypeError, match=f"{layer.__name__}: .* must be float32 or float64"):
        layer()(xp.ones((2, 2), dtype=xp.int32))


@pytest.mark.parametrize("layer", [nn.ReLU, nn.Sigmoid, nn.Tanh, nn.GELU, nn.Softmax])
def test_keeps_float32(xp, layer):
    m = layer()
    y = m(xp.ones((2, 3), dtype=xp.float32))
    assert y.dtype == xp.float32 and m.backward(xp.ones_like(y)).dtype == xp.float32
