"""The gradient checker itself, and every registered layer's check on every backend."""

import pytest

from minseq import nn
from minseq.gradcheck import GradientCheckError, check_module, numerical_gradient
from minseq.gradcheck_cases import CASES, TOLERANCES, run_case


@pytest.mark.parametrize("name", list(CASES))
def test_every_registered_layer_passes(xp, name):
    errors = run_case(name)
    assert errors, f"{name}: nothing was checked"
    bad = {k: v for k, v in errors.items() if not v <= TOLERANCES[name]}
    assert not bad, f"{name}: {bad}"


def test_every_parameter_and_float_input_is_checked(xp):
    mlp = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
    errors = check_module(mlp, xp.ones((2, 3)))
    assert set(errors) == {"input0", "layers.0.W", "layers.0.b", "layers.2.W", "layers.2.b"}


class _WrongLinear(nn.Linear):
    """dW off by a factor of two: the checker must notice."""

    def backward(self, dy):
        dx = super().backward(dy)
        self.grads["W"] *= 2
        return dx


class _WrongTanh(nn.Tanh):
    """dx uses 1 - y instead of 1 - y^2."""

    def _df(self, y):
        return 1.0 - y


def test_catches_a_wrong_parameter_gradient(xp):
    with pytest.raises(GradientCheckError, match="W"):
        check_module(_WrongLinear(3, 2), xp.ones((2, 3)) * 0.5)


def test_catches_a_wrong_input_gradient(xp):
    with pytest.raises(GradientCheckError, match="input0"):
        check_module(_WrongTanh(), xp.linspace(-1, 1, 6).reshape(2, 3))


def test_leaves_the_module_unchanged(xp):
    layer = nn.Linear(3, 2)
    before = {k: v.copy() for k, v in layer.params.items()}
    check_module(layer, xp.ones((2, 3)))
    assert layer.params["W"].dtype == xp.float32
    for k, v in before.items():
        assert (layer.params[k] == v).all()


def test_numerical_gradient_of_a_quadratic(xp):
    x = xp.asarray([1.0, -2.0, 3.0])
    g = numerical_gradient(lambda: float((x ** 2).sum()), x)
    assert xp.allclose(g, 2 * x, atol=1e-6)
