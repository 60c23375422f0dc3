"""The Module contract: parameters, dotted names, modes, state dicts, dtype and error cases."""

import numpy as np
import pytest

from minseq import backend, nn


def small_net():
    return nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Dropout(0.5), nn.Linear(4, 2))


def test_named_parameters_use_dotted_names(xp):
    names = [n for n, _ in small_net().named_parameters()]
    assert names == ["layers.0.W", "layers.0.b", "layers.3.W", "layers.3.b"]
    assert [n for n, _ in small_net().named_grads()] == names


def test_params_and_grads_share_keys_and_shapes(xp):
    layer = nn.Linear(3, 5)
    assert set(layer.params) == set(layer.grads) == {"W", "b"}
    for k in layer.params:
        assert layer.params[k].shape == layer.grads[k].shape


def test_backward_before_forward_is_a_clear_error(xp):
    with pytest.raises(RuntimeError, match="Linear: backward called without a forward"):
        nn.Linear(3, 2).backward(xp.ones((1, 2), dtype=xp.float32))


def test_backward_twice_is_a_clear_error(xp):
    layer = nn.Linear(3, 2)
    layer(xp.ones((1, 3), dtype=xp.float32))
    layer.backward(xp.ones((1, 2), dtype=xp.float32))
    with pytest.raises(RuntimeError, match="without a forward"):
        layer.backward(xp.ones((1, 2), dtype=xp.float32))


def test_backward_overwrites_gradients(xp):
    layer = nn.Linear(2, 1)
    x = xp.ones((1, 2), dtype=xp.float32)
    for _ in range(2):
        layer(x)
        layer.backward(xp.ones((1, 1), dtype=xp.float32))
    assert (layer.grads["W"] == 1).all()


def test_grads_are_written_in_place(xp):
    layer = nn.Linear(2, 3)
    held = layer.grads["W"]
    layer(xp.ones((4, 2), dtype=xp.float32))
    layer.backward(xp.ones((4, 3), dtype=xp.float32))
    assert held is layer.grads["W"] and (held == 4).all()


def test_zero_grad(xp):
    net = small_net()
    net(xp.ones((2, 3), dtype=xp.float32))
    net.backward(xp.ones((2, 2), dtype=xp.float32))
    net.zero_grad()
    assert all((g == 0).all() for _, g in net.named_grads())


def test_train_and_eval_reach_every_submodule(xp):
    net = small_net().eval()
    assert not any(m.training for m in net.modules())
    net.train()
    assert all(m.training for m in net.modules())


def test_state_dict_round_trip(xp):
    a, b = small_net(), small_net()
    b.load_state_dict(a.state_dict())
    for (na, pa), (nb, pb) in zip(a.named_parameters(), b.named_parameters()):
        assert na == nb and (pa == pb).all()
    assert all(isinstance(v, np.ndarray) for v in a.state_dict().values())


def test_load_state_dict_names_a_shape_mismatch(xp):
    state = small_net().state_dict()
    state["layers.3.W"] = np.zeros((5, 2), dtype=np.float32)
    with pytest.raises(ValueError, match=r"'layers.3.W' has shape \(5, 2\), expected \(4, 2\)"):
        small_net().load_state_dict(state)


def test_load_state_dict_names_missing_and_unexpected(xp):
    state = small_net().state_dict()
    state["extra"] = state.pop("layers.0.b")
    with pytest.raises(KeyError, match=r"missing \['layers.0.b'\], unexpected \['extra'\]"):
        small_net().load_state_dict(state)


def test_astype_converts_params_and_grads(xp):
    net = small_net().astype(xp.float64)
    assert all(p.dtype == xp.float64 for _, p in net.named_parameters())
    assert all(g.dtype == xp.float64 for _, g in net.named_grads())


def test_default_dtype_is_float32(xp):
    assert all(p.dtype == xp.float32 for _, p in small_net().named_parameters())
    assert backend.default_dtype == np.float32


def test_sequential_backward_runs_in_reverse(xp):
    net = nn.Sequential(nn.Linear(2, 2), nn.Tanh())
    y = net(xp.ones((1, 2), dtype=xp.float32))
    dx = net.backward(xp.ones_like(y))
    assert dx.shape == (1, 2)


def test_repr_shows_the_tree(xp):
    text = repr(small_net())
    assert "Linear(3, 4, bias=True)" in text and "Dropout(p=0.5)" in text
