"""Metrics against hand-computed cases, and their properties."""

import math

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from minseq import backend, metrics as M


def test_accuracy_and_threshold(xp):
    p = backend.asarray(np.array([0.9, 0.2, 0.5, 0.7]))
    pred = M.threshold(p)
    assert pred.tolist() == [1, 0, 0, 1]  # 0.5 is not > 0.5
    assert M.accuracy(backend.asarray(np.array([1, 0, 1, 1])), pred) == 0.75


def test_binary_precision_recall_f1_by_hand():
    y = [1, 1, 1, 0, 0, 0, 0, 1]
    p = [1, 0, 1, 1, 0, 0, 0, 0]  # TP 2, FP 1, FN 2
    P, R, F = M.precision_recall_f1(y, p)
    assert (P, R) == (2 / 3, 0.5) and F == pytest.approx(2 * P * R / (P + R))


def test_confusion_matrix_and_macro_average():
    y = [0, 1, 2, 2, 1, 0]
    p = [0, 2, 2, 2, 1, 1]
    cm = M.confusion_matrix(y, p)
    assert cm.tolist() == [[1, 1, 0], [0, 1, 1], [0, 0, 2]]
    P, R, F = M.precision_recall_f1(y, p, average=None)
    assert P.tolist() == [1.0, 0.5, 2 / 3] and R.tolist() == [0.5, 0.5, 1.0]
    macro = M.precision_recall_f1(y, p, average="macro")
    assert macro == pytest.approx((P.mean(), R.mean(), F.mean()))


def test_no_predicted_positives_gives_zero_not_nan():
    assert M.precision_recall_f1([1, 0], [0, 0]) == (0.0, 0.0, 0.0)


@given(st.lists(st.integers(0, 1), min_size=1, max_size=30), st.randoms())
def test_f1_is_the_harmonic_mean(y, rnd):
    p = [rnd.randint(0, 1) for _ in y]
    P, R, F = M.precision_recall_f1(y, p)
    assert F == pytest.approx(0.0 if P + R == 0 else 2 * P * R / (P + R))


def test_regression_metrics_by_hand():
    y, yhat = [1.0, 2.0, 3.0], [2.0, 2.0, 1.0]
    assert M.mse(y, yhat) == pytest.approx(5 / 3)
    assert M.rmse(y, yhat) == pytest.approx(math.sqrt(5 / 3))
    assert M.mae(y, yhat) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="y_true has shape"):
        M.mse([1.0], [1.0, 2.0])


def test_roc_curve_and_auc_by_hand_with_a_tie():
    y = [1, 0, 1, 0]
    s = [0.9, 0.8, 0.8, 0.1]
    fpr, tpr, thr = M.roc_curve(y, s)
    assert fpr.tolist() == [0, 0, 0.5, 1] and tpr.tolist() == [0, 0.5, 1, 1]
    assert thr[1:].tolist() == [0.9, 0.8, 0.1]
    # pairs (pos, neg): (0.9,0.8) 1, (0.9,0.1) 1, (0.8,0.8) 1/2, (0.8,0.1) 1 -> 3.5 / 4
    assert M.roc_auc(y, s) == 0.875
    area = np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2)  # trapezoids
    assert M.roc_auc(y, s) == pytest.approx(area)


def test_average_precision_by_hand_with_a_tie():
    y = [1, 0, 1, 0]
    s = [0.9, 0.8, 0.8, 0.1]
    # score >= 0.9: P 1, R 1/2; >= 0.8: P 2/3, R 1; >= 0.1: P 1/2, R 1 (no recall gained)
    assert M.average_precision(y, s) == pytest.approx(0.5 * 1 + 0.5 * 2 / 3)
    assert M.average_precision([0, 1, 1], [0.1, 0.5, 0.9]) == 1.0


def test_best_f1_threshold_separates_as_well_as_it_can():
    y = np.array([0, 0, 1, 0, 1, 1])
    s = np.array([0.1, 0.2, 0.3, 0.4, 0.6, 0.7])
    t, f1 = M.best_f1_threshold(y, s)
    # the top 2 called positive: TP 2, FN 1 -> F1 4/5; the top 4: TP 3, FP 1 -> F1 6/7, best
    assert f1 == pytest.approx(6 / 7) and 0.2 < t < 0.3
    assert M.precision_recall_f1(y, M.threshold(s, t))[2] == pytest.approx(f1)
    t, f1 = M.best_f1_threshold([1, 1, 0], [0.2, 0.2, 0.2])      # one tie: all positive
    assert f1 == pytest.approx(0.8) and M.threshold([0.2], t)[0] == 1


def test_auc_needs_both_classes():
    with pytest.raises(ValueError, match="both positive and negative"):
        M.roc_auc([1, 1], [0.2, 0.3])


labels_scores = st.integers(2, 25).flatmap(lambda n: st.tuples(
    st.lists(st.integers(0, 1), min_size=n, max_size=n),
    st.lists(st.integers(-20, 20), min_size=n, max_size=n)))  # ties likely


@given(labels_scores)
def test_auc_perfect_reversed_and_monotone_invariant(ys):
    y, s = np.array(ys[0]), np.array(ys[1])
    assume(0 < y.sum() < len(y))
    assert M.roc_auc(y, y + 0.0) == 1.0 and M.roc_auc(y, -y) == 0.0
    auc = M.roc_auc(y, s)
    assert M.roc_auc(y, np.exp(s / 4.0) * 3 + 1) == pytest.approx(auc)
    pairs = [(a > b) + 0.5 * (a == b) for a in s[y == 1] for b in s[y == 0]]
    assert auc == pytest.approx(np.mean(pairs))


def test_rank_of_target_ties_are_pessimistic(xp):
    scores = backend.asarray(np.array([[0.1, 0.5, 0.5, 0.9], [3.0, 1.0, 2.0, 0.0]]))
    assert M.rank_of_target(scores, np.array([1, 0])).tolist() == [2, 0]
    assert M.rank_of_target(np.zeros(5), 0) == 4  # all tied: last, not first
    with pytest.raises(ValueError, match="target_index must lie in 0..3"):
        M.rank_of_target(np.zeros(4), 4)


def test_hr_ndcg_mrr_by_hand():
    ranks = np.array([0, 1, 4, 20])
    assert M.hit_rate_at_k(ranks, 5) == 0.75
    assert M.ndcg_at_k(ranks, 5) == pytest.approx((1 + 1 / math.log2(3) + 1 / math.log2(6)) / 4)
    assert M.mrr(ranks) == pytest.approx((1 + 1 / 2 + 1 / 5 + 1 / 21) / 4)


@pytest.mark.parametrize("k", [1, 5, 10])
def test_top_k_boundary_rank_k_minus_1_hits_rank_k_misses(k):
    """Ranks are 0-based: the target at rank k - 1 is the k-th item shown (a hit), at rank k
    the (k+1)-th (a miss)."""
    assert M.hit_rate_at_k([k - 1], k) == 1.0
    assert M.hit_rate_at_k([k], k) == 0.0
    assert M.ndcg_at_k([k - 1], k) == pytest.approx(1 / math.log2(k + 1))
    assert M.ndcg_at_k([k], k) == 0.0


def test_sampled_ranks_match_a_full_ranking_of_the_candidates():
    rng = np.random.default_rng(0)
    target, neg = rng.normal(size=6), rng.normal(size=(6, 100))
    neg[0, :3] = target[0]  # ties count against the target
    ranks = M.sampled_ranks(target, neg)
    full = M.rank_of_target(np.concatenate([target[:, None], neg], axis=1), np.zeros(6, int))
    assert (ranks == full).all() and ranks[0] >= 3


@given(st.lists(st.integers(0, 1000), min_size=1, max_size=40), st.integers(1, 50))
def test_ndcg_lies_in_unit_interval_and_is_one_when_first(ranks, k):
    v = M.ndcg_at_k(ranks, k)
    assert 0.0 <= v <= 1.0
    assert M.ndcg_at_k([0] * len(ranks), k) == 1.0
    assert M.hit_rate_at_k(ranks, k) >= v
