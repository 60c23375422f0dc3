"""The next-item losses: each forward against its formula written out in NumPy, padding, the
full softmax's chunks, gSASRec's beta, and parity with PyTorch (their central-difference
gradient checks are cases of minseq.gradcheck, run by test_gradcheck.py)."""

import math

import numpy as np
import pytest
from hypothesis import given, strategies as st

from minseq import backend, nn


def host(a):
    return backend.to_numpy(a)


def log_sigmoid(x):
    return -np.logaddexp(0, -x)


def draw(seed, B=2, T=3, K=4, n_items=9, d=5):
    rng = np.random.default_rng(seed)
    real = rng.random((B, T)) > 0.3
    real[0, 0] = False
    targets = rng.integers(1, n_items + 1, (B, T)) * real
    return (rng.standard_normal((B, T, 1 + K)) * 3, real, rng.standard_normal((B, T, d)),
            rng.standard_normal((n_items + 1, d)), targets)


@given(seed=st.integers(0, 1000), t=st.floats(0, 1))
def test_gbce_is_the_written_out_formula(xp, seed, t):
    scores, real, *_ = draw(seed)
    beta = nn.gbce_beta(t, 4, 9)
    got = float(nn.GBCELoss(beta)(backend.asarray(scores), backend.asarray(real)))
    l = -beta * log_sigmoid(scores[..., 0]) - log_sigmoid(-scores[..., 1:]).sum(-1)
    assert got == pytest.approx(l[real].mean() if real.any() else 0.0, rel=1e-12, abs=1e-12)


def test_gbce_beta_is_the_papers_calibration():
    """beta = alpha (t (1 - 1/alpha) + 1/alpha), alpha = negatives / (items - 1): t = 0 is
    plain BCE, t = 1 gives alpha; gSASRec's 256 negatives and t = 0.75 over 3,417 items."""
    assert nn.gbce_beta(0.0, 256, 3417) == pytest.approx(1.0)
    assert nn.gbce_beta(1.0, 256, 3417) == pytest.approx(256 / 3416)
    alpha = 256 / 3416
    assert nn.gbce_beta(0.75, 256, 3417) == pytest.approx(alpha * (0.75 * (1 - 1 / alpha)
                                                                   + 1 / alpha))
    with pytest.raises(ValueError, match="t must lie in"):
        nn.gbce_beta(1.5, 1, 10)
    with pytest.raises(ValueError, match="negatives must lie in"):
        nn.gbce_beta(0.5, 10, 10)


@given(seed=st.integers(0, 1000))
def test_sampled_softmax_is_minus_log_softmax_of_the_positive(xp, seed):
    scores, real, *_ = draw(seed)
    loss = nn.SampledSoftmaxLoss()
    got = float(loss(backend.asarray(scores), backend.asarray(real)))
    logp = scores - np.logaddexp.reduce(scores, axis=-1, keepdims=True)
    assert got == pytest.approx(-logp[..., 0][real].mean(), rel=1e-12)
    g = host(loss.backward())
    expected = (np.exp(logp) - np.eye(5)[0]) * real[..., None] / real.sum()
    np.testing.assert_allclose(g, expected, atol=1e-14)


@pytest.mark.parametrize("loss", [nn.GBCELoss(), nn.SampledSoftmaxLoss()],
                         ids=["gbce", "sampled"])
def test_padding_gets_no_gradient_and_all_padding_is_zero(xp, loss):
    scores = xp.asarray(np.full((2, 3, 3), 2.0))
    real = xp.zeros((2, 3), dtype=bool)
    assert float(loss(scores, real)) == 0.0 and (host(loss.backward()) == 0).all()
    real[1, 2] = True
    loss(scores, real)
    g = host(loss.backward())
    assert (g[0] == 0).all() and (g[1, :2] == 0).all() and (g[1, 2] != 0).all()


@given(seed=st.integers(0, 1000), max_scores=st.integers(1, 60))
def test_catalogue_softmax_is_cross_entropy_over_every_items_score(xp, seed, max_scores):
    """Equal, in value and in both gradients, to CrossEntropyLoss on the whole score matrix
    h E[1:]^T (padding ignored), whatever the chunk: the chunks only bound the memory."""
    _, _, h, E, targets = draw(seed)
    h, E, y = backend.asarray(h), backend.asarray(E), backend.asarray(targets)
    loss = nn.CatalogueSoftmaxLoss(max_scores=max_scores)
    got = float(loss(h, E, y))
    dh, dE = (host(g) for g in loss.backward())
    ce = nn.CrossEntropyLoss(ignore_index=-1)
    s = h @ E[1:].T
    assert got == pytest.approx(float(ce(s, y - 1)), rel=1e-12, abs=1e-14)
    ds = host(ce.backward())
    Eh, hh = host(E), host(h)
    np.testing.assert_allclose(dh, ds @ Eh[1:], atol=1e-13)
    np.testing.assert_allclose(dE[1:], np.einsum("btn,btd->nd", ds, hh), atol=1e-13)
    assert (dE[0] == 0).all()


def test_catalogue_softmax_holds_a_bounded_chunk_of_scores(xp):
    """The chunks: max_scores // n_items positions each (at least one)."""
    loss = nn.CatalogueSoftmaxLoss(max_scores=100)
    assert [r.stop - r.start for r in loss._chunks(25, 30)] == [3] * 8 + [3]
    assert len(nn.CatalogueSoftmaxLoss(max_scores=10)._chunks(4, 30)) == 4
    assert len(nn.CatalogueSoftmaxLoss()._chunks(128 * 50, 23715)) == math.ceil(6400 / 176)


def test_bad_input_is_a_clear_error(xp):
    scores, real, h, E, targets = (backend.asarray(a) for a in draw(0))
    with pytest.raises(ValueError, match="at least one negative"):
        nn.SampledSoftmaxLoss()(scores[..., :1], real)
    with pytest.raises(TypeError, match="real must be a boolean mask"):
        nn.GBCELoss()(scores, real.astype(scores.dtype))
    with pytest.raises(ValueError, match="real must have shape"):
        nn.GBCELoss()(scores, real[:, :2])
    with pytest.raises(ValueError, match="beta must be > 0"):
        nn.GBCELoss(0.0)
    with pytest.raises(IndexError, match="targets must lie in"):
        nn.CatalogueSoftmaxLoss()(h, E, targets + 9)
    with pytest.raises(ValueError, match="E must have last dimension 5"):
        nn.CatalogueSoftmaxLoss()(h, E[:, :4], targets)
    with pytest.raises(ValueError, match="max_scores"):
        nn.CatalogueSoftmaxLoss(max_scores=0)


# -- parity with PyTorch ------------------------------------------------------------------------
@pytest.mark.parametrize("loss", ["bce", "gbce", "sampled-ce", "ce"])
def test_parity_with_pytorch(torch, loss):
    """F.cross_entropy (whole score matrix, and the sampled candidates with the positive as
    class 0) and gBCE written out with F.logsigmoid, values and gradients, float64."""
    F = torch.nn.functional
    scores, real, h, E, targets = draw(3)
    r = torch.tensor(real, dtype=torch.float64)
    if loss == "ce":
        th = torch.tensor(h, requires_grad=True)
        tE = torch.tensor(E, requires_grad=True)
        s = th @ tE[1:].T
        expected = F.cross_entropy(s.reshape(-1, 9), torch.tensor(targets - 1).reshape(-1),
                                   ignore_index=-1)
        expected.backward()
        mine = nn.CatalogueSoftmaxLoss(max_scores=20)
        got = mine(backend.asarray(h), backend.asarray(E), backend.asarray(targets))
        pairs = zip(mine.backward(), (th.grad, tE.grad))
    else:
        ts = torch.tensor(scores, requires_grad=True)
        if loss == "sampled-ce":
            terms = F.cross_entropy(ts.reshape(-1, 5), torch.zeros(6, dtype=torch.long),
                                    reduction="none").reshape(2, 3)
            mine = nn.SampledSoftmaxLoss()
        else:
            beta = 1.0 if loss == "bce" else nn.gbce_beta(0.75, 4, 9)
            terms = -(beta * F.logsigmoid(ts[..., 0]) + F.logsigmoid(-ts[..., 1:]).sum(-1))
            mine = nn.GBCELoss(beta)
        expected = (terms * r).sum() / r.sum()
        expected.backward()
        got = mine(backend.asarray(scores), backend.asarray(real))
        pairs = [(mine.backward(), ts.grad)]
    assert float(got) == pytest.approx(expected.item(), rel=1e-12)
    for a, b in pairs:
        np.testing.assert_allclose(host(a), b.numpy(), atol=1e-13)
