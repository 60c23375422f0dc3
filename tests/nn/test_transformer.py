"""Transformer encoder and decoder layers (E8): structure, masks, gradients, PyTorch parity."""

import numpy as np
import pytest

from minseq import backend, fast, nn
from minseq.gradcheck import check_module


def test_parameter_names_follow_pytorch():
    enc = nn.TransformerEncoderLayer(8, 2, d_ff=16)
    names = [n for n, _ in enc.named_parameters()]
    assert names[:2] == ["self_attn.Wq", "self_attn.Wk"]
    assert {"linear1.W", "linear2.b", "norm1.gamma", "norm2.beta"} <= set(names)
    dec = nn.TransformerDecoderLayer(8, 2, d_ff=16)
    assert {"cross_attn.Wq", "norm3.gamma"} <= {n for n, _ in dec.named_parameters()}
    stack = nn.TransformerEncoder(lambda: nn.TransformerEncoderLayer(8, 2, d_ff=16), 3)
    assert "layers.2.self_attn.Wo" in dict(stack.named_parameters())


@pytest.mark.parametrize("norm_first", [False, True])
def test_encoder_layer_equals_its_formula(xp, rng, norm_first):
    layer = nn.TransformerEncoderLayer(4, 2, d_ff=6, dropout=0.0,
                                       norm_first=norm_first).astype(xp.float64)
    x = backend.asarray(rng.normal(size=(2, 3, 4)))
    attn, ff = layer.self_attn.copy(), nn.FeedForward(4, 6, dropout=0.0).astype(xp.float64)
    ff.linear1, ff.linear2 = layer.linear1, layer.linear2
    norm1, norm2 = layer.norm1.copy(), layer.norm2.copy()
    if norm_first:
        h = x + attn(norm1(x))
        expected = h + ff(norm2(h))
    else:
        h = norm1(x + attn(x))
        expected = norm2(h + ff(h))
    assert xp.allclose(layer(x), expected, atol=1e-12)


def test_decoder_is_causal(xp, rng):
    dec = nn.TransformerDecoderLayer(4, 2, d_ff=6, dropout=0.0).astype(xp.float64)
    x, memory = rng.normal(size=(1, 5, 4)), backend.asarray(rng.normal(size=(1, 3, 4)))
    y = dec(backend.asarray(x), memory)
    x[:, 3:] += 1.0
    assert xp.allclose(dec(backend.asarray(x), memory)[:, :3], y[:, :3], atol=1e-12)


@pytest.mark.parametrize("norm_first", [False, True])
def test_layer_gradients_with_masks(xp, rng, norm_first):
    backend.manual_seed(8)
    enc = nn.TransformerEncoderLayer(4, 2, d_ff=6, dropout=0.0, activation="gelu",
                                     norm_first=norm_first)
    x = backend.asarray(rng.normal(size=(2, 3, 4)))
    check_module(enc, x, mask=nn.causal_mask(3), tol=1e-5)
    dec = nn.TransformerDecoderLayer(4, 2, d_ff=6, dropout=0.2, activation="gelu",
                                     norm_first=norm_first)
    memory = backend.asarray(rng.normal(size=(2, 4, 4)))
    errors = check_module(dec, x, memory, memory_mask=xp.ones((2, 1, 4), dtype=bool), tol=1e-5)
    assert "memory" in errors and "cross_attn.Wk" in errors


def test_bad_input(xp):
    enc = nn.TransformerEncoderLayer(4, 2, d_ff=6)
    with pytest.raises(ValueError, match="TransformerEncoderLayer: x must have 3"):
        enc(xp.ones((3, 4), dtype=xp.float32))
    with pytest.raises(RuntimeError, match="TransformerEncoderLayer: backward called without"):
        enc.backward(xp.ones((1, 3, 4), dtype=xp.float32))


def _copy_mha(torch, ours, ref):
    p = ours.params
    with torch.no_grad():
        ref.in_proj_weight.copy_(torch.tensor(np.concatenate([p["Wq"].T, p["Wk"].T, p["Wv"].T])))
        ref.in_proj_bias.copy_(torch.tensor(np.concatenate([p["bq"], p["bk"], p["bv"]])))
        ref.out_proj.weight.copy_(torch.tensor(p["Wo"].T))
        ref.out_proj.bias.copy_(torch.tensor(p["bo"]))


def _copy_block(torch, ours, ref, rng):
    """Random float64 weights everywhere (biases and gammas too), copied into the PyTorch twin."""
    for _, p in ours.named_parameters():
        p[...] = rng.normal(size=p.shape) * 0.5
    _copy_mha(torch, ours.self_attn, ref.self_attn)
    if hasattr(ours, "cross_attn"):
        _copy_mha(torch, ours.cross_attn, ref.multihead_attn)
    with torch.no_grad():
        for name in ("linear1", "linear2"):
            getattr(ref, name).weight.copy_(torch.tensor(getattr(ours, name).params["W"].T))
            getattr(ref, name).bias.copy_(torch.tensor(getattr(ours, name).params["b"]))
        for name in ("norm1", "norm2", "norm3"):
            if hasattr(ours, name):
                getattr(ref, name).weight.copy_(torch.tensor(getattr(ours, name).params["gamma"]))
                getattr(ref, name).bias.copy_(torch.tensor(getattr(ours, name).params["beta"]))


@pytest.mark.parametrize("tier", ["reference", "fast"])
@pytest.mark.parametrize("norm_first,activation", [(False, "relu"), (True, "gelu")])
def test_parity_with_pytorch_layers(torch, rng, norm_first, activation, tier):
    tiered = fast.accelerate if tier == "fast" else (lambda layer: layer)
    d, h, ff = 8, 2, 12
    kw = dict(dropout=0.0, activation=activation, norm_first=norm_first)
    x, mem = rng.normal(size=(2, 5, d)), rng.normal(size=(2, 4, d))
    mask = rng.random((5, 5)) > 0.3
    mask[:, 0] = True

    enc = nn.TransformerEncoderLayer(d, h, d_ff=ff, **kw).astype("float64")
    ref = torch.nn.TransformerEncoderLayer(d, h, ff, batch_first=True, **kw).double()
    _copy_block(torch, enc, ref, rng)
    enc = tiered(enc)
    y = enc(x, mask=mask)
    tx = torch.tensor(x, requires_grad=True)
    ty = ref(tx, src_mask=torch.tensor(~mask))
    R = rng.normal(size=y.shape)
    dx = enc.backward(R)
    (ty * torch.tensor(R)).sum().backward()
    assert np.allclose(y, ty.detach().numpy(), atol=1e-10)
    assert np.allclose(dx, tx.grad.numpy(), atol=1e-10)
    assert np.allclose(enc.self_attn.grads["Wq"],
                       ref.self_attn.in_proj_weight.grad[:d].numpy().T, atol=1e-10)

    dec = nn.TransformerDecoderLayer(d, h, d_ff=ff, **kw).astype("float64")
    ref = torch.nn.TransformerDecoderLayer(d, h, ff, batch_first=True, **kw).double()
    _copy_block(torch, dec, ref, rng)
    dec = tiered(dec)
    y = dec(x, mem)
    tx, tm = torch.tensor(x, requires_grad=True), torch.tensor(mem, requires_grad=True)
    causal = torch.tensor(~np.tril(np.ones((5, 5), dtype=bool)))
    ty = ref(tx, tm, tgt_mask=causal)
    dx, dm = dec.backward(R)
    (ty * torch.tensor(R)).sum().backward()
    assert np.allclose(y, ty.detach().numpy(), atol=1e-10)
    assert np.allclose(dx, tx.grad.numpy(), atol=1e-10)
    assert np.allclose(dm, tm.grad.numpy(), atol=1e-10)
    assert np.allclose(dec.linear1.grads["W"], ref.linear1.weight.grad.numpy().T, atol=1e-10)


def test_float32_stays_float32(xp):
    dec = nn.TransformerDecoderLayer(8, 2, d_ff=16, norm_first=True)
    x = xp.ones((2, 3, 8), dtype=xp.float32) * xp.arange(8, dtype=xp.float32)
    memory = xp.ones((2, 4, 8), dtype=xp.float32)
    y = dec(x, memory)
    dx, dm = dec.backward(xp.ones_like(y))
    assert y.dtype == dx.dtype == dm.dtype == xp.float32
    assert all(g.dtype == xp.float32 for _, g in dec.named_grads())
    pe = nn.SinusoidalPositionalEncoding(8, max_len=5)
    assert pe(x).dtype == xp.float32
