"""The gradient checker itself, and every registered layer's check on every backend."""

import pytest

from minseq import nn
from minseq.gradcheck import GradientCheckError, check_module, numerical_gradient, relative_error
from minseq.gradcheck.registry import CASES, run_case


@pytest.mark.parametrize("name", list(CASES))
def test_every_registered_layer_passes(xp, name):
    errors = run_case(name)
    assert errors, f"{name}: nothing was checked"
    bad = {k: v for k, v in errors.items() if not v <= CASES[name].tol}
    assert not bad, f"{name}: {bad}"


def test_every_parameter_and_float_input_is_checked(xp):
    mlp = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
    errors = check_module(mlp, xp.ones((2, 3)))
    assert set(errors) == {"x", "layers.0.W", "layers.0.b", "layers.2.W", "layers.2.b"}


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


class _ScaledLinear(nn.Linear):
    """dW rows ``rows`` multiplied by ``factor``: a backward that is nearly, or partly, right."""

    def __init__(self, factor, rows=slice(None)):
        super().__init__(3, 2)
        self.factor, self.rows = factor, rows

    def backward(self, dy):
        dx = super().backward(dy)
        self.grads["W"][self.rows] *= self.factor
        return dx


def test_default_tolerance_catches_a_gradient_off_by_a_thousandth(xp):
    """Pins the defaults: dW off by a factor 1.001 (relative error 1e-3) fails at tol 1e-6."""
    x = xp.linspace(-1, 1, 6).reshape(2, 3)
    check_module(_ScaledLinear(1.0), x)
    with pytest.raises(GradientCheckError, match="W"):
        check_module(_ScaledLinear(1.001), x)


def test_catches_one_small_gradient_entry_alone_wrong(xp):
    """Input feature 0 is 100 times smaller than the others, so dW[0] = x[:, 0]^T dy is about
    1 % of the largest entry; doubling that row alone must still fail."""
    x = xp.asarray([[0.01, 1.0, -0.5], [-0.02, 0.5, 1.0]])
    check_module(_ScaledLinear(1.0), x)
    with pytest.raises(GradientCheckError, match="W"):
        check_module(_ScaledLinear(2.0, rows=0), x)


def test_relative_error_compares_small_entries_to_their_own_size(xp):
    """An entry at 1 % of the largest, off by a factor of two, shows an error of 1/2; entries
    below the floor (0.1 % of the largest) are compared absolutely to it."""
    n = xp.asarray([1.0, -0.01, 1e-5])
    assert relative_error(n, n) == 0.0
    assert relative_error(xp.asarray([1.0, -0.02, 1e-5]), n) == pytest.approx(0.5)
    assert relative_error(xp.asarray([1.0, -0.01, 2e-5]), n) == pytest.approx(1e-2)


def test_catches_a_wrong_parameter_gradient(xp):
    with pytest.raises(GradientCheckError, match="W"):
        check_module(_WrongLinear(3, 2), xp.ones((2, 3)) * 0.5)


def test_catches_a_wrong_input_gradient(xp):
    with pytest.raises(GradientCheckError, match="for x: "):
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


# Whole Transformer blocks, alone or inside a model, with their fast twins: the only cases
# that state a looser tolerance (minseq.gradcheck.registry.BLOCK_TOL).
BLOCKS = {"TransformerEncoderLayer", "TransformerEncoderLayer pre-LN", "TransformerDecoderLayer",
          "TransformerDecoderLayer pre-LN", "TransformerEncoder", "TransformerClassifier",
          "SASRec"}


def test_only_whole_blocks_loosen_the_tolerance_and_only_to_1e_5():
    tolerances = {name: case.tol for name, case in CASES.items()}
    assert tolerances == {name: 1e-5 if name.removeprefix("fast ") in BLOCKS else 1e-6
                          for name in CASES}
    for name in CASES:
        if name.startswith("fast "):
            assert CASES[name].grad_inputs == CASES[name.removeprefix("fast ")].grad_inputs


class _OffLayerNorm(nn.LayerNorm):
    """dgamma off by a factor 1.001: a backward nearly right, deep inside a block."""

    def backward(self, dy):
        dx = super().backward(dy)
        self.grads["gamma"] *= 1.001
        return dx


def test_a_blocks_tolerance_still_catches_a_gradient_off_by_a_thousandth(xp):
    module, inputs, kwargs = CASES["TransformerEncoderLayer"].build()
    module.norm2.__class__ = _OffLayerNorm
    errors = check_module(module, *inputs, tol=CASES["TransformerEncoderLayer"].tol,
                          raise_on_fail=False, **kwargs)
    assert errors["norm2.gamma"] > 1e-4 and errors["norm1.gamma"] < 1e-5
