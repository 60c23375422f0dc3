"""minseq.interop: a model's weights in PyTorch's names and layouts, through .safetensors."""

import numpy as np
import pytest

from minseq import nn
from minseq.bench.torch_modules import torch_counterpart
from minseq.interop import (from_torch_state_dict, load_safetensors, save_safetensors,
                            torch_state_dict)
from minseq.models.registry import MODELS


def build(name, seed):
    spec = MODELS[name]
    settings = dict(spec.settings, seed=seed, d_model=8, num_heads=2)
    if spec.task == "next-item":
        return spec.build(settings, n_items=12)
    return spec.build(settings, n_behaviours=4, n_classes=4)


TRAINED = ["sasrec", "gru4rec", "lstm", "lstm-attn", "transformer", "mlp"]


@pytest.mark.parametrize("name", TRAINED)
def test_safetensors_round_trip(tmp_path, name):
    """Written from one model, read into another of other weights: the same state."""
    a, b = build(name, 0), build(name, 1)
    for k, v in b.state_dict().items():
        v[...] = v + 1                      # b's weights differ from a's everywhere
    save_safetensors(a, tmp_path / "m.safetensors")
    load_safetensors(b, tmp_path / "m.safetensors")
    for k, v in a.state_dict().items():
        np.testing.assert_array_equal(b.state_dict()[k], v, err_msg=k)


def test_names_and_layouts_are_pytorchs():
    sd = torch_state_dict(build("sasrec", 0))
    assert sd["encoder.layers.0.self_attn.in_proj_weight"].shape == (24, 8)
    assert sd["encoder.layers.0.linear1.weight"].shape[1] == 8
    assert {"item_emb.weight", "encoder.norm.weight", "encoder.norm.bias"} <= set(sd)
    lstm = torch_state_dict(build("lstm", 0))
    np.testing.assert_array_equal(lstm["lstms.0.bias_hh_l0"], 0)


def test_a_missing_entry_is_named():
    sd = torch_state_dict(build("gru4rec", 0))
    del sd["gru.bias_hh_l0"]
    with pytest.raises(KeyError, match="from_torch_state_dict: no entry 'gru.bias_hh_l0'"):
        from_torch_state_dict(build("gru4rec", 1), sd)


def test_a_linear_layer_without_bias_has_no_bias_entry_either_way():
    layer = nn.Linear(3, 2, bias=False)
    sd = torch_state_dict(layer)
    assert list(sd) == ["weight"]
    other = nn.Linear(3, 2, bias=False)
    from_torch_state_dict(other, sd)
    assert list(other.params) == ["W"]
    np.testing.assert_array_equal(other.params["W"], layer.params["W"])


def test_pytorchs_two_recurrent_biases_are_read_back_as_their_sum():
    """An LSTM keeps one bias b = bias_ih + bias_hh: a PyTorch state dict has both."""
    lstm = nn.LSTM(3, 2)
    sd = torch_state_dict(lstm)
    sd["bias_ih_l0"] = np.arange(8.0)
    sd["bias_hh_l0"] = np.full(8, 10.0)
    from_torch_state_dict(lstm, sd)
    np.testing.assert_array_equal(lstm.params["b"], np.arange(8.0) + 10.0)


LAYERS = {
    "Linear": lambda: nn.Linear(5, 3),
    "LSTM": lambda: nn.LSTM(5, 4),
    "GRU": lambda: nn.GRU(5, 4),
    "MultiHeadAttention": lambda: nn.MultiHeadAttention(8, 2),
    "TransformerEncoderLayer": lambda: nn.TransformerEncoderLayer(8, 2, d_ff=16,
                                                                  dropout=0.0),
}


def assert_same_outputs(torch, name, layer, counterpart):
    """The minseq layer and its PyTorch counterpart on the same float64 input give the same output."""
    x = np.random.default_rng(0).standard_normal((2, 3, 5 if name in ("Linear", "LSTM", "GRU")
                                                  else 8))
    mine = layer(x)
    mine = mine[0] if isinstance(mine, tuple) else mine
    with torch.no_grad():
        t = torch.from_numpy(x)
        theirs = (counterpart(t, t, t, need_weights=False) if name == "MultiHeadAttention"
                  else counterpart(t))
    theirs = theirs[0] if isinstance(theirs, tuple) else theirs
    np.testing.assert_allclose(mine, theirs.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", list(LAYERS))
def test_pytorch_loads_the_state_dict_into_its_counterpart_and_computes_the_same(torch, name):
    """The state_dict loaded (strictly) into a fresh PyTorch counterpart: its own state_dict
    equals it, and it computes the minseq layer's outputs."""
    layer = LAYERS[name]().astype(np.float64)
    layer.eval()
    counterpart = torch_counterpart(torch, layer).double().eval()
    sd = {k: torch.from_numpy(v) for k, v in torch_state_dict(layer).items()}
    with torch.no_grad():
        for p in counterpart.parameters():
            p.zero_()
    counterpart.load_state_dict(sd, strict=True)
    assert_same_outputs(torch, name, layer, counterpart)


@pytest.mark.parametrize("name", list(LAYERS))
def test_a_state_dict_pytorch_wrote_loads_and_computes_the_same(torch, name):
    """The other way: PyTorch's own state_dict of its counterpart, every entry drawn afresh (both
    recurrent biases non-zero, the packed in_proj rows distinct), read into the minseq
    layer, which then computes PyTorch's outputs."""
    layer = LAYERS[name]().astype(np.float64)
    layer.eval()
    counterpart = torch_counterpart(torch, layer).double().eval()
    generator = torch.Generator().manual_seed(3)
    with torch.no_grad():
        for p in counterpart.parameters():
            p.copy_(torch.randn(p.shape, generator=generator, dtype=p.dtype))
    state = {k: v.numpy() for k, v in counterpart.state_dict().items()}
    assert all(np.abs(v).min() > 0 for v in state.values())
    from_torch_state_dict(layer, state)
    assert_same_outputs(torch, name, layer, counterpart)
