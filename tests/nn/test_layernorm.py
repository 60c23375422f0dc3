"""LayerNorm: PyTorch's formula (biased variance), per-row mean 0 and variance 1."""

import numpy as np
import pytest
from hypothesis import given, strategies as st

from minseq import backend, fast, nn
from minseq.gradcheck import check_module


@given(seed=st.integers(0, 1000), d=st.integers(2, 9), scale=st.sampled_from([1e-2, 1.0, 1e3]))
def test_output_has_mean_zero_and_variance_one_per_row(seed, d, scale):
    x = np.random.default_rng(seed).normal(size=(3, 4, d)) * scale + 7
    y = nn.LayerNorm(d, eps=0.0).astype("float64")(x)
    assert np.allclose(y.mean(-1), 0, atol=1e-9)
    assert np.allclose(y.var(-1), 1, atol=1e-6)


def test_forward_equals_its_formula(xp, rng):
    x = rng.normal(size=(2, 5))
    norm = nn.LayerNorm(5).astype(xp.float64)
    gamma, beta = rng.normal(size=5), rng.normal(size=5)
    norm.params["gamma"][...] = backend.asarray(gamma)
    norm.params["beta"][...] = backend.asarray(beta)
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    expected = (x - mu) / np.sqrt(var + 1e-5) * gamma + beta
    assert np.allclose(backend.to_numpy(norm(backend.asarray(x))), expected, atol=1e-12)


def test_gradients(xp, rng):
    norm = nn.LayerNorm(4)
    norm.params["gamma"][...] = backend.asarray(rng.normal(size=4))
    check_module(norm, backend.asarray(rng.normal(size=(3, 2, 4))))


def test_initialised_as_pytorch_and_checks_input(xp):
    norm = nn.LayerNorm(3)
    assert (norm.params["gamma"] == 1).all() and (norm.params["beta"] == 0).all()
    with pytest.raises(ValueError, match="last dimension 3"):
        norm(xp.ones((2, 4), dtype=xp.float32))


@pytest.mark.parametrize("tier", ["reference", "fast"])
def test_parity_with_pytorch(torch, rng, tier):
    x = rng.normal(size=(2, 3, 6))
    ours, ref = nn.LayerNorm(6).astype("float64"), torch.nn.LayerNorm(6).double()
    if tier == "fast":
        ours = fast.accelerate(ours)
    with torch.no_grad():
        ref.weight.copy_(torch.tensor(rng.normal(size=6)))
        ref.bias.copy_(torch.tensor(rng.normal(size=6)))
    ours.params["gamma"][...] = ref.weight.detach().numpy()
    ours.params["beta"][...] = ref.bias.detach().numpy()
    tx = torch.tensor(x, requires_grad=True)
    ty = ref(tx)
    R = rng.normal(size=x.shape)
    (ty * torch.tensor(R)).sum().backward()
    assert np.allclose(ours(x), ty.detach().numpy(), atol=1e-12)
    assert np.allclose(ours.backward(R), tx.grad.numpy(), atol=1e-12)
    assert np.allclose(ours.grads["gamma"], ref.weight.grad.numpy(), atol=1e-12)
    assert np.allclose(ours.grads["beta"], ref.bias.grad.numpy(), atol=1e-12)
