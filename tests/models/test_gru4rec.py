"""GRU4Rec-style next-item model: gradients, the forward as a composition of layers, the loss."""

import math

import numpy as np
import pytest
from hypothesis import given, strategies as st

import minseq
from minseq import backend, nn
from minseq.gradcheck import check_module
from minseq.models.gru4rec import GRU4Rec
from next_item_helpers import SEQ, TARGETS, check_loss_gradient, ids


def model(xp, dropout=0.0, **kw):
    minseq.manual_seed(0)
    return GRU4Rec(5, d_model=4, dropout=dropout, **kw).astype(xp.float64)


def test_scores_gradient_every_parameter(xp):
    """Scores over all items, over shared candidates and over per-position candidates; the item
    table's gradient sums the input lookup and the scoring (dropout on, masks fixed)."""
    m = model(xp, dropout=0.2)
    check_module(m, ids(SEQ))
    check_module(m, ids(SEQ), ids([1, 3, 4]))
    cand = ids(np.random.default_rng(0).integers(0, 6, (2, 5, 3)))
    check_module(m, ids(SEQ), cand)


def test_loss_gradient_full_softmax(xp):
    check_loss_gradient(model(xp, dropout=0.2), (ids(SEQ), ids(TARGETS), None))


def test_forward_is_embedding_gru_and_dot_products(xp):
    """scores[b, t, i-1] = GRU(E[seq], mask = seq != 0)[b, t] . E[i]."""
    m = model(xp).eval()
    E = m.item_emb.params["W"]
    gru = nn.GRU(4, 4).astype(xp.float64)
    gru.load_state_dict({k: backend.to_numpy(v) for k, v in m.gru.params.items()})
    seq = ids(SEQ)
    h, _ = gru(E[seq], mask=seq != 0)
    expected = backend.to_numpy(h) @ backend.to_numpy(E)[1:].T
    np.testing.assert_allclose(backend.to_numpy(m(seq)), expected, atol=1e-12)
    np.testing.assert_allclose(backend.to_numpy(m.score_last(seq)), expected[:, -1], atol=1e-12)


def test_loss_is_cross_entropy_over_real_positions(xp):
    m = model(xp).eval()
    scores = backend.to_numpy(m(ids(SEQ)))
    t = np.array(TARGETS)
    logp = scores - np.log(np.exp(scores).sum(-1, keepdims=True))
    real = t > 0
    expected = -np.take_along_axis(logp, np.maximum(t - 1, 0)[..., None], -1)[..., 0][real].mean()
    assert math.isclose(float(m.loss((ids(SEQ), ids(TARGETS), None))), expected, rel_tol=1e-12)


def test_sampled_candidates_contain_every_target(xp):
    """A fixed size (no host read): every target, padding included, and n_sampled draws."""
    m = model(xp, n_sampled=2)
    items = backend.to_numpy(m.sampled_items(ids(TARGETS)))
    assert set(np.array(TARGETS).ravel()) - {0} <= set(items)
    assert items.min() >= 0 and items.max() <= 5 and list(items) == sorted(items)
    assert len(items) == np.size(TARGETS) + 2


def test_repeated_candidates_count_once(xp):
    """Repeats in the candidate set (a target seen twice, an item drawn again) change neither
    the loss nor its gradient."""
    batch = (ids(SEQ), ids([[0, 3, 1, 2, 4], [2, 2, 1, 3, 4]]), None)
    losses = []
    for items in ([1, 2, 3, 4], [1, 1, 2, 2, 2, 3, 4, 4]):
        m = model(xp, n_sampled=2).eval()
        m.sampled_items = lambda t, items=items: ids(items)
        losses.append(float(m.loss(batch)))
        m.backward_loss()
        losses.append(backend.to_numpy(m.item_emb.grads["W"]))
    assert math.isclose(losses[0], losses[2], rel_tol=1e-12)
    np.testing.assert_allclose(losses[1], losses[3], rtol=1e-12, atol=1e-15)


def test_sampled_softmax_is_cross_entropy_over_the_candidate_set(xp):
    """With n_sampled, each real position's classes are the candidate items (fixed here)."""
    m = model(xp, n_sampled=2).eval()
    items = [1, 2, 3, 4, 5 - 1]                      # a candidate set without item 5
    targets = [[0, 3, 1, 2, 4], [2, 2, 1, 3, 4]]
    m.sampled_items = lambda t: ids(sorted(set(items)))
    scores = backend.to_numpy(m(ids(SEQ)))[..., [0, 1, 2, 3]]   # columns of items 1..4
    t = np.array(targets)
    logp = scores - np.log(np.exp(scores).sum(-1, keepdims=True))
    expected = -np.take_along_axis(logp, np.maximum(t - 1, 0)[..., None], -1)[..., 0][t > 0].mean()
    batch = (ids(SEQ), ids(targets), None)
    assert math.isclose(float(m.loss(batch)), expected, rel_tol=1e-12)
    check_loss_gradient(m.train(), batch)


@given(st.integers(1, 3), st.integers(1, 6))
def test_score_shapes(B, T):
    minseq.manual_seed(0)
    m = GRU4Rec(7, d_model=3).eval()
    seq = backend.asarray(np.random.default_rng(T).integers(0, 8, (B, T)))
    assert m(seq).shape == (B, T, 7)
    assert m.score_last(seq).shape == (B, 7)
    assert m.score_last(seq, backend.asarray(np.ones((B, 4), np.int64))).shape == (B, 4)


def test_bad_input_is_a_clear_error():
    m = GRU4Rec(5, d_model=4)
    with pytest.raises(ValueError, match="GRU4Rec"):
        m(backend.asarray(np.zeros(3, np.int64)))
    with pytest.raises(IndexError, match=r"GRU4Rec: seq ids must lie in \[0, 5\]"):
        m(backend.asarray(np.full((1, 2), 9)))
    with pytest.raises(RuntimeError, match="without a forward"):
        m.backward(backend.asarray(np.zeros((1, 2, 5))))


def test_the_candidate_set_holds_the_real_targets_and_the_draws(xp):
    """Padding is never a candidate: the set is the n real positions' targets plus n_sampled
    uniform items, each in 1 .. n_items."""
    m = model(xp, n_sampled=3)
    targets = [[0, 3, 1, 2, 4], [2, 2, 1, 3, 4]]
    m.loss((ids(SEQ), ids(targets), None))
    h, items = m._loss_cache
    n_real = sum(t > 0 for row in targets for t in row)
    assert h.shape == (n_real, 4) and items.shape == (n_real + 3,)
    assert 1 <= int(items.min()) and int(items.max()) <= 5
