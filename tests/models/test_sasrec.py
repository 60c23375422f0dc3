"""SASRec-style next-item model: gradients (shared table from both uses), the forward as a
composition of layers, the BCE with one sampled negative, the negative sampler."""

import math

import numpy as np
import pytest
from hypothesis import given, strategies as st

import minseq
from minseq import backend, nn
from minseq.gradcheck import check_module
from minseq.models.sasrec import BETAS, SASRec
from next_item_helpers import SEQ, TARGETS, check_loss_gradient, ids

NEGATIVES = [[1, 5, 4, 1, 2], [3, 4, 5, 2, 1]]   # fixed: never the positive


def model(xp, dropout=0.0, heads=2):
    minseq.manual_seed(0)
    return SASRec(5, maxlen=6, d_model=4, num_layers=2, num_heads=heads, dropout=dropout).astype(
        xp.float64)


def test_scores_gradient_every_parameter(xp):
    """Two pre-LN blocks with dropout; the item table's gradient sums the input lookup (scaled
    by sqrt(d)) and the scoring of the candidates (whole blocks: tolerance 1e-5)."""
    m = model(xp, dropout=0.2)
    cand = ids(np.stack([TARGETS, NEGATIVES], axis=-1))
    check_module(m, ids(SEQ), cand, tol=1e-5)
    check_module(m, ids(SEQ), tol=1e-5)


def test_loss_gradient_with_fixed_negatives(xp):
    """The BCE loss is a deterministic function once the negatives are given in the batch."""
    check_loss_gradient(model(xp, dropout=0.2), (ids(SEQ), ids(TARGETS), None, ids(NEGATIVES)),
                        tol=1e-5)


def test_shared_table_gradient_is_the_sum_of_both_uses(xp):
    """dE = (input use, from the encoder) + (scoring use, dscores x H): computed here by
    splitting the two, against the model's single gradient."""
    m = model(xp)
    batch = (ids(SEQ), ids(TARGETS), None, ids(NEGATIVES))
    m.loss(batch)
    m.backward_loss()
    total = backend.to_numpy(m.item_emb.grads["W"]).copy()
    # the scoring use alone: H fixed, only the candidates' rows move
    H = backend.to_numpy(m.encode(ids(SEQ)))
    cand = np.stack([TARGETS, NEGATIVES], axis=-1)
    E = backend.to_numpy(m.item_emb.params["W"])
    s = np.einsum("btd,btcd->btc", H, E[cand])
    real = (np.array(TARGETS) > 0)[..., None]
    ds = np.stack([1 / (1 + np.exp(-s[..., 0])) - 1, 1 / (1 + np.exp(-s[..., 1]))], -1)
    ds = ds * real / real.sum()
    scoring = np.zeros_like(E)
    np.add.at(scoring, cand.reshape(-1), (ds[..., None] * H[..., None, :]).reshape(-1, 4))
    scoring[0] = 0
    input_use = total - scoring
    assert np.abs(scoring).max() > 1e-3 and np.abs(input_use).max() > 1e-3
    assert np.abs(input_use[5]).max() < 1e-12     # item 5 is never an input: scoring only


def test_forward_is_the_published_composition(xp):
    """H = LayerNorm(blocks(sqrt(d) E[seq] + P[:T])) with a causal, key-is-real mask, and
    scores = H E[1:]^T."""
    m = model(xp).eval()
    seq = ids(SEQ)
    E, P = m.item_emb.params["W"], m.pos_emb.params["W"]
    x = E[seq] * 2.0 + P[:5]                                      # sqrt(d) = 2
    mask = nn.causal_mask(5)[None] & (seq != 0)[:, None, :]
    for layer in m.encoder.layers:
        assert layer.norm_first
        x = layer(x, mask=mask)
    H = m.encoder.norm(x)
    expected = backend.to_numpy(H) @ backend.to_numpy(E)[1:].T
    np.testing.assert_allclose(backend.to_numpy(m(seq)), expected, atol=1e-12)
    np.testing.assert_allclose(backend.to_numpy(m.score_last(seq)), expected[:, -1], atol=1e-12)


def test_padding_changes_nothing_for_real_positions(xp):
    """More left padding leaves every real position's output unchanged (padding is never
    attended; positions count from the left of the padded array, as in the official code,
    so the test pads to the same length)."""
    m = model(xp).eval()
    a = backend.to_numpy(m(ids([[0, 0, 3, 1, 2]])))
    b = backend.to_numpy(m(ids([[0, 0, 3, 1, 2], [4, 2, 2, 1, 3]])))[:1]
    np.testing.assert_allclose(a[:, 2:], b[:, 2:], atol=1e-12)


def test_loss_is_bce_with_one_negative_per_real_position(xp):
    m = model(xp).eval()
    H = backend.to_numpy(m.encode(ids(SEQ)))
    E = backend.to_numpy(m.item_emb.params["W"])
    t, q = np.array(TARGETS), np.array(NEGATIVES)
    pos = np.einsum("btd,btd->bt", H, E[t])
    neg = np.einsum("btd,btd->bt", H, E[q])
    terms = np.log1p(np.exp(-pos)) + np.log1p(np.exp(neg))       # -log s(p) - log(1 - s(q))
    expected = terms[t > 0].mean()
    got = float(m.loss((ids(SEQ), ids(TARGETS), None, ids(NEGATIVES))))
    assert math.isclose(got, expected, rel_tol=1e-12)


def test_negatives_are_uniform_and_never_the_positive(xp):
    m = SASRec(5, maxlen=4, d_model=4)
    targets = backend.asarray(np.tile(np.array([1, 2, 3, 5]), (2000, 1)))
    neg = backend.to_numpy(m.negatives(targets))
    assert neg.shape == (2000, 4, 1)
    neg = neg[..., 0]
    assert (neg != backend.to_numpy(targets)).all() and neg.min() >= 1 and neg.max() <= 5
    counts = np.bincount(neg[:, 2], minlength=6)[1:]            # positive 3: the 4 others
    # 0.05 is 5 standard deviations of a share of 2000 draws: any generator passes (CuPy's
    # stream is not NumPy's), a wrong distribution does not
    assert counts[2] == 0 and (np.abs(counts[[0, 1, 3, 4]] / 2000 - 0.25) < 0.05).all()


def test_paper_settings():
    assert BETAS == (0.9, 0.98)
    m = SASRec(100)
    assert (m.d_model, m.num_layers, m.num_heads, m.dropout_p) == (50, 2, 1, 0.2)


@given(st.integers(1, 3), st.integers(1, 6))
def test_score_shapes(B, T):
    minseq.manual_seed(0)
    m = SASRec(7, maxlen=6, d_model=4).eval()
    seq = backend.asarray(np.random.default_rng(T).integers(0, 8, (B, T)))
    assert m(seq).shape == (B, T, 7)
    assert m.score_last(seq).shape == (B, 7)
    assert np.isfinite(backend.to_numpy(m(seq))).all()          # fully padded rows included


def test_bad_input_is_a_clear_error():
    m = SASRec(5, maxlen=4, d_model=4)
    with pytest.raises(ValueError, match="max_len"):
        m(backend.asarray(np.ones((1, 5), np.int64)))
    with pytest.raises(RuntimeError, match="without a loss"):
        m.backward_loss()
    with pytest.raises(ValueError, match="SASRec"):
        m(backend.asarray(np.ones((2, 3), np.int64)), backend.asarray(np.ones((2, 2, 1), np.int64)))


# -- the training losses (minseq.nn.item_losses) ------------------------------------------------
NEGATIVES_3 = np.stack([NEGATIVES, np.roll(NEGATIVES, 1, axis=1) % 5 + 1,
                        np.roll(NEGATIVES, 2, axis=1) % 5 + 1], axis=-1)     # (B, T, 3)


def loss_model(xp, loss, dropout=0.0):
    minseq.manual_seed(0)
    return SASRec(5, maxlen=6, d_model=4, num_layers=2, num_heads=2, dropout=dropout, loss=loss,
                  loss_negatives=None if loss == "ce" else 3).astype(xp.float64)


@pytest.mark.parametrize("loss", ["ce", "sampled-ce", "gbce"])
def test_each_loss_gradient_every_parameter(xp, loss):
    check_loss_gradient(loss_model(xp, loss, dropout=0.2),
                        (ids(SEQ), ids(TARGETS), None, ids(NEGATIVES_3)), tol=1e-5)


@pytest.mark.parametrize("loss", ["ce", "sampled-ce", "gbce"])
def test_each_loss_is_its_formula_over_the_models_scores(xp, loss):
    """ce: cross-entropy over every item's score; sampled-ce: over the positive and its 3
    negatives; gbce: beta softplus(-s+) + sum softplus(s-), beta from t 0.75, 3 of 4 others."""
    m = loss_model(xp, loss).eval()
    H = backend.to_numpy(m.encode(ids(SEQ)))
    E = backend.to_numpy(m.item_emb.params["W"])
    t = np.array(TARGETS)
    if loss == "ce":
        s = H @ E[1:].T
        candidates = np.broadcast_to(np.arange(5), s.shape)
        column = np.maximum(t - 1, 0)
    else:
        cand = np.concatenate([t[..., None], NEGATIVES_3], axis=-1)
        s = np.einsum("btd,btcd->btc", H, E[cand])
        candidates, column = cand, np.zeros_like(t)
    assert candidates.shape == s.shape
    logp = s - np.logaddexp.reduce(s, axis=-1, keepdims=True)
    picked = np.take_along_axis(logp, column[..., None], -1)[..., 0]
    if loss == "gbce":
        beta = 0.75 * 3 / 4 - 0.75 + 1
        terms = beta * np.logaddexp(0, -s[..., 0]) + np.logaddexp(0, s[..., 1:]).sum(-1)
    else:
        terms = -picked
    got = float(m.loss((ids(SEQ), ids(TARGETS), None, ids(NEGATIVES_3))))
    assert math.isclose(got, terms[t > 0].mean(), rel_tol=1e-12)


def test_the_loss_draws_its_negatives_per_position():
    m = SASRec(50, maxlen=4, d_model=4, loss="sampled-ce", loss_negatives=7)
    assert m.negatives(ids([[0, 3, 4, 5]])).shape == (1, 4, 7)
    assert SASRec(50, loss="gbce").n_negatives == 49             # 256 capped at n_items - 1
    assert SASRec(500, loss="gbce").n_negatives == 256
    assert SASRec(500).n_negatives == 1 and SASRec(500, loss="ce").n_negatives == 0
    with pytest.raises(ValueError, match="loss must be one of"):
        SASRec(5, loss="bpr")
    with pytest.raises(ValueError, match="at most n_items - 1 = 4"):
        SASRec(5, loss="gbce", loss_negatives=5)


def test_the_loss_scores_the_real_positions_only(xp):
    """Padding costs nothing: candidates (positive + K negatives) are made for the n real
    positions alone, not for every one of the B x T (the formula test above pins the value)."""
    m = loss_model(xp, "sampled-ce")
    seq, targets = ids(SEQ), ids(TARGETS)
    m.loss((seq, targets))
    n_real = int((np.array(TARGETS) > 0).sum())
    assert m._loss_cache[1].shape == (n_real, 1 + 3)              # (n, positive + K)
    m.backward_loss()
    assert m._loss_cache is None


def test_given_negatives_of_a_wrong_shape_are_a_clear_error(xp):
    m = loss_model(xp, "sampled-ce")
    B, T = np.array(SEQ).shape
    with pytest.raises(ValueError, match=r"negatives must have shape \(2, 5\)"):
        m.loss((ids(SEQ), ids(TARGETS), None, ids(np.ones((B * T, 3), dtype=int))))
    with pytest.raises(ValueError, match="negatives must have shape"):
        m.loss((ids(SEQ), ids(TARGETS), None, ids(np.ones((B, T - 1, 3), dtype=int))))
