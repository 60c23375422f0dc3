"""Numerics at the extremes: logits up to +-1e4, all-equal inputs, fully masked rows, T = 1000.

Every result is finite where the mathematics gives a number, and equals a reference computed
another way: row by row in plain Python (``math.fsum`` sums, ``math.exp`` / ``math.erf``), in
float32 and in float64. Tolerances are stated per test: float32 keeps about 7 digits, and a
logit of 1e4 carries an absolute rounding of 1e4 * 2^-24 ~ 6e-4 in float32.
"""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from minseq import backend, fast, nn, optim
from minseq.gradcheck.checker import flatten
from minseq.gradcheck.registry import CASES
from minseq.nn import functional as F

DTYPES = ["float32", "float64"]
# relative tolerance of a result against the exact reference, and the absolute one that a
# logit of size 1e4 brings (its own rounding: 1e4 * eps)
RTOL = {"float32": 1e-5, "float64": 1e-12}
ATOL_PER_LOGIT = {"float32": 1e4 * 2 ** -23, "float64": 1e4 * 2 ** -52}


def logits(dtype, rows=4, cols=5):
    """(rows, cols) logits in [-1e4, 1e4]: anything from tiny to huge, all-equal rows included."""
    values = st.one_of(st.floats(-1e4, 1e4, width=32), st.sampled_from([-1e4, 1e4, 0.0]))
    plain = arrays(dtype, (rows, cols), elements=values)
    equal = st.builds(lambda v: np.full((rows, cols), v, dtype=dtype), values)
    return st.one_of(plain, equal)


def host(a):
    return backend.to_numpy(a)


def ref_log_softmax(z):
    """Row by row in Python: z_i - m - log(fsum(exp(z_j - m)))."""
    out = np.empty(z.shape, dtype=np.float64)
    for r, row in enumerate(z.astype(np.float64)):
        m = max(row)
        lse = m + math.log(math.fsum(math.exp(v - m) for v in row))
        out[r] = [v - lse for v in row]
    return out


# -- softmax, log-softmax, cross-entropy -------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
@given(data=st.data())
def test_softmax_and_log_softmax_at_the_extremes(xp, dtype, data):
    z = data.draw(logits(dtype))
    ref = ref_log_softmax(z)
    lsm = host(F.log_softmax(xp.asarray(z)))
    sm = host(nn.Softmax()(xp.asarray(z)))
    assert lsm.dtype == sm.dtype == dtype
    assert np.isfinite(lsm).all() and np.isfinite(sm).all()
    np.testing.assert_allclose(lsm, ref, rtol=RTOL[dtype], atol=ATOL_PER_LOGIT[dtype])
    np.testing.assert_allclose(sm, np.exp(ref), rtol=RTOL[dtype] * 10,
                               atol=ATOL_PER_LOGIT[dtype])
    np.testing.assert_allclose(sm.sum(axis=1), 1.0, rtol=RTOL[dtype] * 10)


@pytest.mark.parametrize("dtype", DTYPES)
def test_all_equal_logits_give_the_uniform_distribution(xp, dtype):
    for v in (-1e4, 0.0, 1e4):
        z = xp.full((2, 8), v, dtype=dtype)
        np.testing.assert_array_equal(host(nn.Softmax()(z)), np.full((2, 8), 1 / 8, dtype))
        np.testing.assert_allclose(host(F.log_softmax(z)), -math.log(8), rtol=RTOL[dtype])


@pytest.mark.parametrize("dtype", DTYPES)
@given(data=st.data())
def test_cross_entropy_at_the_extremes(xp, dtype, data):
    z = data.draw(logits(dtype))
    t = data.draw(arrays(np.int64, (z.shape[0],), elements=st.integers(0, z.shape[1] - 1)))
    loss = nn.CrossEntropyLoss()
    value = loss(xp.asarray(z), xp.asarray(t)).item()
    dz = host(loss.backward())
    ref = ref_log_softmax(z)
    expected = -math.fsum(ref[r, c] for r, c in enumerate(t)) / len(t)
    assert math.isfinite(value) and np.isfinite(dz).all()
    assert value == pytest.approx(expected, rel=RTOL[dtype], abs=ATOL_PER_LOGIT[dtype])
    onehot = np.eye(z.shape[1])[t]
    np.testing.assert_allclose(dz, (np.exp(ref) - onehot) / len(t), rtol=RTOL[dtype] * 10,
                               atol=ATOL_PER_LOGIT[dtype])


@pytest.mark.parametrize("dtype", DTYPES)
@given(data=st.data())
def test_bce_with_logits_at_the_extremes(xp, dtype, data):
    z = data.draw(logits(dtype))
    t = data.draw(arrays(dtype, z.shape, elements=st.sampled_from([0.0, 1.0, 0.5])))
    loss = nn.BCEWithLogitsLoss()
    value = loss(xp.asarray(z), xp.asarray(t)).item()
    dz = host(loss.backward())

    def softplus(v):                               # log(1 + e^v), exact in Python
        return max(v, 0.0) + math.log1p(math.exp(-abs(v)))
    terms = [softplus(float(v)) - float(v) * float(w) for v, w in zip(z.ravel(), t.ravel())]
    assert math.isfinite(value) and np.isfinite(dz).all()
    assert value == pytest.approx(math.fsum(terms) / z.size, rel=RTOL[dtype],
                                  abs=ATOL_PER_LOGIT[dtype])
    sig = np.array([1 / (1 + math.exp(-v)) if v >= 0 else math.exp(v) / (1 + math.exp(v))
                    for v in z.astype(np.float64).ravel()]).reshape(z.shape)
    # sigma - t cancels when t = 0.5: an absolute error of one rounding of sigma (eps) remains
    np.testing.assert_allclose(dz, (sig - t) / z.size, rtol=RTOL[dtype] * 10,
                               atol=np.finfo(dtype).eps / z.size)


# -- elementwise activations ---------------------------------------------------------------------
def ref_activation(name, v):
    if name == "Sigmoid":
        return 1 / (1 + math.exp(-v)) if v >= 0 else math.exp(v) / (1 + math.exp(v))
    if name == "Tanh":
        return math.tanh(v)
    return 0.5 * v * (1 + math.erf(v / math.sqrt(2)))          # GELU


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ["Sigmoid", "Tanh", "GELU"])
@given(data=st.data())
def test_activations_at_the_extremes(xp, dtype, name, data):
    z = data.draw(logits(dtype))
    layer = getattr(nn, name)()
    y = host(layer(xp.asarray(z)))
    dz = host(layer.backward(xp.ones(z.shape, dtype=dtype)))
    ref = np.vectorize(lambda v: ref_activation(name, v))(z.astype(np.float64))
    assert np.isfinite(y).all() and np.isfinite(dz).all()
    # sigmoid = 0.5 tanh(x/2) + 0.5 and GELU = 0.5 x (1 + erf(x/sqrt 2)) never overflow; in the
    # left tail they keep an absolute error of one rounding (eps, times |x| for GELU) rather
    # than a relative one: sigmoid(-9) in float32 is 1.2339e-4, not 1.2339458e-4
    err = np.abs(y - ref)
    bound = RTOL[dtype] * 10 * np.abs(ref) + np.finfo(dtype).eps * np.maximum(1, np.abs(z))
    assert (err <= bound).all(), (z[err > bound], y[err > bound], ref[err > bound])


# -- LayerNorm ---------------------------------------------------------------------------------
# The reference computes x - mean(x), and mean(x) is rounded: its xhat is exact only up to
# that rounding relative to the row's spread, eps * max|x| / sqrt(var + eps) (0.005 for a
# float32 row of equal values 205.24). The fast twin subtracts the row's first entry first and
# is exact for every row, all-equal ones included.
@pytest.mark.parametrize("tier", ["reference", "fast"])
@pytest.mark.parametrize("dtype", DTYPES)
@given(data=st.data())
def test_layernorm_at_the_extremes(xp, dtype, tier, data):
    x = data.draw(logits(dtype))
    norm = nn.LayerNorm(x.shape[1]).astype(dtype)
    if tier == "fast":
        norm = fast.twin_of(norm)
    y = host(norm(xp.asarray(x)))
    dx = host(norm.backward(xp.asarray(np.linspace(-1, 1, x.size, dtype=dtype)
                                      .reshape(x.shape))))
    assert np.isfinite(y).all() and np.isfinite(dx).all()
    for r, row in enumerate(x.astype(np.float64)):
        mu = math.fsum(row) / len(row)
        var = math.fsum((v - mu) ** 2 for v in row) / len(row)
        expected = [(v - mu) / math.sqrt(var + 1e-5) for v in row]
        atol = 10 * np.finfo(dtype).eps
        if tier == "reference":
            atol *= max(1.0, np.abs(row).max() / math.sqrt(var + 1e-5))
        np.testing.assert_allclose(y[r], expected, rtol=RTOL[dtype] * 10, atol=atol)


def test_fast_layernorm_of_an_all_equal_row_is_beta(xp):
    norm = fast.twin_of(nn.LayerNorm(6))
    norm.params["beta"][...] = xp.arange(6, dtype=xp.float32)
    y = norm(xp.full((2, 6), 6554.369140625, dtype=xp.float32))  # its float32 mean is rounded
    np.testing.assert_array_equal(host(y), np.tile(np.arange(6, dtype=np.float32), (2, 1)))
    assert np.isfinite(host(norm.backward(xp.ones((2, 6), dtype=xp.float32)))).all()


# -- attention -------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
@given(data=st.data())
def test_attention_at_the_extremes(xp, dtype, data):
    """Scores up to +-1e4 (and all equal), some rows fully masked: finite outputs equal to the
    Python softmax of the allowed scores times V, and zero for a row with no allowed key."""
    S = data.draw(logits(dtype, 3, 5))                       # the scores we want
    mask = data.draw(arrays(bool, (3, 5)))
    d = 5
    q = (S * math.sqrt(d)).astype(dtype)                     # q k^T / sqrt(d) = S with k = I
    k = np.eye(5, d, dtype=dtype)
    v = np.arange(25, dtype=dtype).reshape(5, 5) / 10
    att = nn.ScaledDotProductAttention()
    out = host(att(xp.asarray(q[None]), xp.asarray(k[None]), xp.asarray(v[None]),
                   mask=xp.asarray(mask[None])))[0]
    grads = att.backward(xp.ones((1, 3, 5), dtype=dtype))
    assert np.isfinite(out).all() and all(np.isfinite(host(g)).all() for g in grads)
    scores = (q.astype(np.float64) / math.sqrt(d)) @ k.T.astype(np.float64)
    for r in range(3):
        allowed = np.flatnonzero(mask[r])
        if not len(allowed):
            np.testing.assert_array_equal(out[r], 0)
            continue
        lsm = ref_log_softmax(scores[r, allowed][None])[0]
        expected = np.exp(lsm) @ v[allowed].astype(np.float64)
        np.testing.assert_allclose(out[r], expected, rtol=1e-4 if dtype == "float32" else 1e-9,
                                   atol=1e-3 if dtype == "float32" else 1e-9)


# -- long sequences ----------------------------------------------------------------------------
def test_lstm_on_a_thousand_steps_stays_finite(xp):
    lstm = nn.LSTM(3, 4)
    x = xp.asarray(np.random.default_rng(0).standard_normal((2, 1000, 3)).astype(np.float32))
    hs, _ = lstm(x)
    dx, _, _ = lstm.backward(xp.ones_like(hs))
    assert np.isfinite(host(hs)).all() and np.isfinite(host(dx)).all()
    assert all(np.isfinite(host(g)).all() for _, g in lstm.named_grads())
    assert np.abs(host(hs)).max() < 1                      # |h| = |o tanh(c)| < 1


def test_transformer_block_on_a_thousand_steps_stays_finite(xp):
    layer = nn.TransformerEncoderLayer(8, 2, d_ff=16, dropout=0.1)
    x = xp.asarray(np.random.default_rng(0).standard_normal((1, 1000, 8)).astype(np.float32))
    y = layer(x, mask=nn.causal_mask(1000))
    dx = layer.backward(xp.ones_like(y))
    assert np.isfinite(host(y)).all() and np.isfinite(host(dx)).all()
    assert all(np.isfinite(host(g)).all() for _, g in layer.named_grads())


# -- clipping bounds the update ------------------------------------------------------------------
@given(scale=st.floats(1e-6, 1e12), max_norm=st.floats(1e-3, 10.0))
def test_clipping_bounds_the_update(xp, scale, max_norm):
    """After clip_grad_norm(max_norm), one SGD step moves the parameters by at most
    lr * max_norm (up to float32 rounding), however large the raw gradient."""
    model = nn.Sequential(nn.Linear(3, 4), nn.Linear(4, 2))
    for _, g in model.named_grads():
        g[...] = xp.asarray(np.linspace(-1, 1, g.size, dtype=np.float32).reshape(g.shape))
        g *= xp.float32(scale)
    before = {k: host(p).astype(np.float64) for k, p in model.named_parameters()}
    total = optim.clip_grad_norm(model, max_norm)
    optim.SGD(model, lr=0.5).step()
    moved = math.sqrt(sum(((host(p) - before[k]) ** 2).sum() for k, p in model.named_parameters()))
    assert moved <= 0.5 * min(max_norm, total) * (1 + 1e-5) + 1e-6


# -- float32 agrees with float64 for every layer ----------------------------------------------
@pytest.mark.parametrize("name", list(CASES))
def test_float32_forward_agrees_with_float64(xp, name):
    """Every registered gradient-check case (in eval mode): the float32 forward is within 1e-4
    of the float64 one, relative to the output's size (|y32 - y64| <= 1e-4 max(1, max|y64|))."""
    module, inputs, kwargs = CASES[name].build()
    m64 = module.copy().astype(xp.float64).eval()   # a dropout mask is drawn per dtype
    m32 = module.copy().astype(xp.float32).eval()

    def to32(x):
        return x.astype(xp.float32) if x.dtype.kind == "f" else x
    outs64 = flatten(m64(*inputs, **kwargs))          # every array of a tuple output
    outs32 = flatten(m32(*map(to32, inputs), **{k: to32(v) for k, v in kwargs.items()}))
    for y64, y32 in zip(map(host, outs64), map(host, outs32), strict=True):
        assert y32.dtype == np.float32
        tol = 1e-4 * max(1.0, float(np.abs(y64).max(initial=0)))
        assert np.abs(y32 - y64).max(initial=0) <= tol, name
