"""Scaled dot-product attention (E1), its masks, and multi-head attention (E6)."""

import math

import numpy as np
import pytest
from hypothesis import given, strategies as st

from minseq import backend, fast, nn
from minseq.gradcheck import check_module


def arr(xp, a, dtype="float64"):
    return backend.asarray(np.asarray(a), dtype=dtype)


def test_attention_equals_its_formula_by_hand(xp, rng):
    q, k, v = rng.normal(size=(2, 3, 4)), rng.normal(size=(2, 5, 4)), rng.normal(size=(2, 5, 2))
    out = nn.ScaledDotProductAttention()(arr(xp, q), arr(xp, k), arr(xp, v))
    for b in range(2):
        for i in range(3):
            scores = [sum(q[b, i, c] * k[b, j, c] for c in range(4)) / math.sqrt(4)
                      for j in range(5)]
            e = [math.exp(s) for s in scores]
            w = [x / sum(e) for x in e]
            expected = [sum(w[j] * v[b, j, c] for j in range(5)) for c in range(2)]
            assert np.allclose(backend.to_numpy(out[b, i]), expected, atol=1e-12)


def test_masked_keys_get_exactly_zero_weight_and_full_rows_give_zero(xp, rng):
    attn = nn.ScaledDotProductAttention()
    mask = arr(xp, [[True, False, True, False], [False, False, False, False]], dtype=bool)
    q = arr(xp, rng.normal(size=(2, 3)) * 100)  # huge scores: no overflow, no NaN
    k, v = arr(xp, rng.normal(size=(4, 3)) * 100), arr(xp, rng.normal(size=(4, 2)))
    out = attn(q, k, v, mask=mask)
    P = backend.to_numpy(attn.weights)
    assert (P[0, [1, 3]] == 0).all() and np.isclose(P[0].sum(), 1)
    assert (P[1] == 0).all() and (backend.to_numpy(out[1]) == 0).all()
    dq, dk, dv = attn.backward(xp.ones_like(out))
    assert np.isfinite(backend.to_numpy(dq)).all() and (backend.to_numpy(dq[1]) == 0).all()


def test_scores_far_apart_stay_finite_with_a_mask(xp):
    # the largest score is masked: the row max must come from the allowed keys only
    attn = nn.ScaledDotProductAttention()
    q, k = arr(xp, [[1.0]], "float32"), arr(xp, [[1e4], [0.0], [-1e4]], "float32")
    v = arr(xp, [[1.0], [2.0], [3.0]], "float32")
    out = attn(q, k, v, mask=arr(xp, [False, True, True], dtype=bool))
    assert backend.to_numpy(out)[0, 0] == pytest.approx(2.0)


@pytest.mark.parametrize("masked", [False, True])
def test_sdpa_gradients(xp, rng, masked):
    q, k, v = (arr(xp, rng.normal(size=s)) for s in [(2, 3, 4), (2, 5, 4), (2, 5, 3)])
    kw = {"mask": arr(xp, rng.random((3, 5)) > 0.4, dtype=bool)} if masked else {}
    check_module(nn.ScaledDotProductAttention(), q, k, v, **kw)


def test_causal_mask():
    assert backend.to_numpy(nn.causal_mask(3)).tolist() == [
        [True, False, False], [True, True, False], [True, True, True]]


@given(t=st.integers(0, 4), seed=st.integers(0, 100))
def test_causal_output_ignores_the_future(t, seed):
    r = np.random.default_rng(seed)
    mha = nn.MultiHeadAttention(4, 2).astype("float64")
    x = r.normal(size=(2, 5, 4))
    y = mha(x, mask=nn.causal_mask(5))
    x2 = x.copy()
    x2[:, t + 1:] += r.normal(size=x2[:, t + 1:].shape)
    y2 = mha(x2, mask=nn.causal_mask(5))
    assert np.allclose(y[:, :t + 1], y2[:, :t + 1], atol=1e-12)


@given(seed=st.integers(0, 1000), T=st.integers(1, 6))
def test_self_attention_without_positions_is_permutation_equivariant(seed, T):
    r = np.random.default_rng(seed)
    mha = nn.MultiHeadAttention(6, 3).astype("float64")
    x = r.normal(size=(2, T, 6))
    perm = r.permutation(T)
    assert np.allclose(mha(x)[:, perm], mha(x[:, perm]), atol=1e-12)


def test_one_head_equals_single_attention_with_projections(xp, rng):
    mha = nn.MultiHeadAttention(4, 1).astype(xp.float64)
    p = {k: backend.to_numpy(v) for k, v in mha.params.items()}
    x = rng.normal(size=(2, 3, 4))
    proj = {n: x @ p["W" + n] + p["b" + n] for n in "qkv"}
    heads = nn.ScaledDotProductAttention()(*(arr(xp, proj[n]) for n in "qkv"))
    expected = backend.to_numpy(heads) @ p["Wo"] + p["bo"]
    assert np.allclose(backend.to_numpy(mha(arr(xp, x))), expected, atol=1e-12)


def test_heads_concatenate_separate_attentions(xp, rng):
    mha = nn.MultiHeadAttention(6, 3).astype(xp.float64)
    p = {k: backend.to_numpy(v) for k, v in mha.params.items()}
    x = rng.normal(size=(2, 4, 6))
    heads = []
    for i in range(3):
        cols = slice(2 * i, 2 * i + 2)
        qkv = [arr(xp, x @ p["W" + n][:, cols] + p["b" + n][cols]) for n in "qkv"]
        heads.append(backend.to_numpy(nn.ScaledDotProductAttention()(*qkv)))
    expected = np.concatenate(heads, axis=-1) @ p["Wo"] + p["bo"]
    assert np.allclose(backend.to_numpy(mha(arr(xp, x))), expected, atol=1e-12)


@pytest.mark.parametrize("cross", [False, True])
def test_mha_gradients(xp, rng, cross):
    mha = nn.MultiHeadAttention(6, 2)
    x = arr(xp, rng.normal(size=(2, 3, 6)))
    args = (x, arr(xp, rng.normal(size=(2, 4, 6)))) if cross else (x,)
    S = 4 if cross else 3
    errors = check_module(mha, *args, mask=arr(xp, rng.random((2, 3, S)) > 0.3, dtype=bool))
    assert ("context" in errors) == cross


def test_key_bias_has_no_effect_so_its_gradient_is_zero(xp, rng):
    mha = nn.MultiHeadAttention(4, 2).astype(xp.float64)
    x = arr(xp, rng.normal(size=(2, 3, 4)))
    y = mha(x)
    mha.backward(xp.ones_like(y))
    assert (mha.grads["bk"] == 0).all()
    mha.params["bk"][...] = 5.0
    assert xp.allclose(mha(x), y, atol=1e-12)


def test_initialisation_as_pytorch(xp):
    mha = nn.MultiHeadAttention(64, 4)
    bound = math.sqrt(6 / (64 + 3 * 64))
    for k in ("Wq", "Wk", "Wv"):
        w = backend.to_numpy(mha.params[k])
        assert w.shape == (64, 64) and np.abs(w).max() <= bound and np.abs(w).max() > 0.9 * bound
    assert np.abs(backend.to_numpy(mha.params["Wo"])).max() <= 1 / 8
    assert all((backend.to_numpy(mha.params[b]) == 0).all() for b in ("bq", "bk", "bv", "bo"))
    assert "bq" not in nn.MultiHeadAttention(8, 2, bias=False).params


def test_bad_input_is_a_clear_error(xp):
    with pytest.raises(ValueError, match="divisible"):
        nn.MultiHeadAttention(6, 4)
    attn = nn.ScaledDotProductAttention()
    q = xp.ones((2, 3, 4), dtype=xp.float32)
    with pytest.raises(ValueError, match="last dimension 4"):
        attn(q, xp.ones((2, 5, 3), dtype=xp.float32), xp.ones((2, 5, 3), dtype=xp.float32))
    with pytest.raises(ValueError, match="equal leading axes"):
        attn(q, q, xp.ones((2, 4, 4), dtype=xp.float32))
    with pytest.raises(ValueError, match="does not broadcast"):
        attn(q, q, q, mask=xp.ones((4, 3), dtype=bool))
    with pytest.raises(TypeError, match="boolean"):
        attn(q, q, q, mask=xp.ones((3, 3)))
    mha = nn.MultiHeadAttention(4, 2)
    with pytest.raises(ValueError, match="does not broadcast"):
        mha(q, mask=xp.ones((2, 3, 4), dtype=bool))
    with pytest.raises(ValueError, match="last dimension 4"):
        mha(xp.ones((2, 3, 5), dtype=xp.float32))
    with pytest.raises(RuntimeError, match="without a forward"):
        mha.backward(q)


@pytest.mark.parametrize("tier", ["reference", "fast"])
def test_parity_with_pytorch_multihead_attention(torch, rng, tier):
    d, h = 8, 2
    mha = nn.MultiHeadAttention(d, h).astype("float64")
    if tier == "fast":
        mha = fast.accelerate(mha)
    for k in ("bq", "bk", "bv", "bo"):
        mha.params[k][...] = rng.normal(size=d)
    ref = torch.nn.MultiheadAttention(d, h, batch_first=True).double()
    p = mha.params
    with torch.no_grad():
        ref.in_proj_weight.copy_(torch.tensor(np.concatenate([p["Wq"].T, p["Wk"].T, p["Wv"].T])))
        ref.in_proj_bias.copy_(torch.tensor(np.concatenate([p["bq"], p["bk"], p["bv"]])))
        ref.out_proj.weight.copy_(torch.tensor(p["Wo"].T))
        ref.out_proj.bias.copy_(torch.tensor(p["bo"]))
    x, c = rng.normal(size=(2, 5, d)), rng.normal(size=(2, 4, d))
    mask = rng.random((2, 5, 4)) > 0.3
    mask[:, :, 0] = True  # PyTorch gives NaN for a fully masked row
    y = mha(x, c, mask=mask)
    tx, tc = torch.tensor(x, requires_grad=True), torch.tensor(c, requires_grad=True)
    ty, _ = ref(tx, tc, tc, attn_mask=torch.tensor(~mask).repeat_interleave(h, 0))
    R = rng.normal(size=y.shape)
    dx, dc = mha.backward(R)
    (ty * torch.tensor(R)).sum().backward()
    assert np.allclose(y, ty.detach().numpy(), atol=1e-12)
    assert np.allclose(dx, tx.grad.numpy(), atol=1e-12)
    assert np.allclose(dc, tc.grad.numpy(), atol=1e-12)
    assert np.allclose(mha.grads["Wq"], ref.in_proj_weight.grad[:d].numpy().T, atol=1e-12)
    assert np.allclose(mha.grads["Wo"], ref.out_proj.weight.grad.numpy().T, atol=1e-12)
