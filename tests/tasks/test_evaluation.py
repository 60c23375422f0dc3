"""The next-item evaluation protocol on a toy log computed by hand."""

import math

import numpy as np
import pytest

from minseq import backend
from minseq.data import from_columns, generate, sample_negatives
from minseq.tasks import evaluation
from minseq.tasks.evaluation import Protocol, mrr_at_k

# user 1: 1 2 3 4 -> train [1, 2], valid 3, test 4
# user 2: 2 5     -> fewer than 3 events: training only
# user 3: 3 1 2   -> train [3], valid 1, test 2
LOG = [(1, 1), (1, 2), (1, 3), (1, 4), (2, 2), (2, 5), (3, 3), (3, 1), (3, 2)]
SCORES = np.array([0.0, 0.1, 0.5, 0.5, 0.9, 0.2])  # a fixed score per item id 1..5


def toy_table():
    user, item = np.array(LOG).T
    return from_columns(user, item, np.ones(len(LOG), np.int64), np.arange(len(LOG)), ("view",))


class FixedScores:
    """A 'model' scoring every item by SCORES whatever the history."""

    def score_last(self, seq, candidates=None):
        s = backend.asarray(np.tile(SCORES, (seq.shape[0], 1)))
        if candidates is None:
            return s[:, 1:]
        return backend.xp.take_along_axis(s, candidates, axis=1)


def test_split_histories_targets_and_negatives():
    p = Protocol(toy_table(), maxlen=4, n_negatives=1, seed=0)
    np.testing.assert_array_equal(p.test.users, [1, 3])
    np.testing.assert_array_equal(p.test.targets, [4, 2])
    np.testing.assert_array_equal(p.valid.targets, [3, 1])
    np.testing.assert_array_equal(p.test.histories, [[0, 1, 2, 3], [0, 0, 3, 1]])
    np.testing.assert_array_equal(p.valid.histories, [[0, 0, 1, 2], [0, 0, 0, 3]])
    assert [list(s) for s in p.train_sequences] == [[1, 2], [2, 5], [3]]
    assert p.test.negatives[0, 0] == 5                       # user 1's only unseen item
    assert p.test.negatives[1, 0] in (4, 5)                  # never an item user 3 has seen



def test_a_history_longer_than_maxlen_keeps_its_latest_items_in_the_last_columns():
    p = Protocol(toy_table(), maxlen=2, n_negatives=1, seed=0)
    np.testing.assert_array_equal(p.test.histories, [[2, 3], [3, 1]])
    np.testing.assert_array_equal(p.valid.histories, [[1, 2], [0, 3]])

def test_metrics_by_hand(xp):
    """Full: user 1's target 4 (0.9) ranks 0; user 3's target 2 (0.5) ties with item 3 and
    trails item 4: pessimistic rank 2. HR@10 = 1, NDCG@10 = (1 + 1/log2 4) / 2 = 0.75,
    MRR@10 = (1 + 1/3) / 2."""
    p = Protocol(toy_table(), maxlen=4, n_negatives=1, seed=0)
    m = evaluation.evaluate(FixedScores(), p.test)
    assert m["full"] == pytest.approx({"hit@10": 1.0, "recall@10": 1.0, "ndcg@10": 0.75,
                                       "mrr@10": 2 / 3})
    rank3 = 1 if p.test.negatives[1, 0] == 4 else 0          # item 4 outscores the target
    assert m["sampled"]["hit@10"] == 1.0
    assert m["sampled"]["ndcg@10"] == pytest.approx((1 + 1 / math.log2(rank3 + 2)) / 2)


def test_batches_of_users_give_the_same_ranks(xp):
    p = Protocol(toy_table(), maxlen=4, n_negatives=1, seed=0)
    for full in (True, False):
        a = backend.to_numpy(evaluation.ranks(FixedScores(), p.test, full, batch_size=1))
        b = backend.to_numpy(evaluation.ranks(FixedScores(), p.test, full))
        np.testing.assert_array_equal(a, b)


def test_mrr_at_k_counts_only_the_top_k():
    assert mrr_at_k(np.array([0, 1, 9, 10, 50])) == pytest.approx((1 + 1 / 2 + 1 / 10) / 5)


@pytest.mark.parametrize("k", [1, 5, 10])
def test_mrr_at_k_boundary_rank_k_minus_1_hits_rank_k_misses(k):
    assert mrr_at_k(np.array([k - 1]), k) == pytest.approx(1 / k)
    assert mrr_at_k(np.array([k]), k) == 0.0


def test_negatives_are_fixed_by_the_seed():
    a = Protocol(toy_table(), maxlen=4, n_negatives=1, seed=3)
    b = Protocol(toy_table(), maxlen=4, n_negatives=1, seed=3)
    np.testing.assert_array_equal(a.test.negatives, b.test.negatives)


def test_several_cutoffs(xp):
    """Ranks 0 and 2: at K = 1 one hit of two, at K = 2 still one, at K = 3 both."""
    p = Protocol(toy_table(), maxlen=4, n_negatives=1, seed=0)
    full = evaluation.evaluate(FixedScores(), p.test, ks=(1, 2, 3))["full"]
    assert [full[f"hit@{k}"] for k in (1, 2, 3)] == [0.5, 0.5, 1.0]
    assert full["recall@3"] == full["hit@3"]
    assert full["mrr@3"] == pytest.approx((1 + 1 / 3) / 2)


def test_no_negatives_means_full_ranking_only(xp):
    p = Protocol(toy_table(), maxlen=4, n_negatives=0, seed=0)
    assert list(evaluation.evaluate(FixedScores(), p.test)) == ["full"]


def test_exclude_seen_drops_the_history_but_not_the_target(xp):
    """User 3 (history 3, 1; target 2): item 3 ties the target and item 4 outscores it. Without
    item 3 the pessimistic rank is 1, not 2; user 1's target (item 4) stays at rank 0."""
    p = Protocol(toy_table(), maxlen=4, n_negatives=1, seed=0)
    r = evaluation.ranks(FixedScores(), p.test, full=True, exclude_seen=True)
    np.testing.assert_array_equal(backend.to_numpy(r), [0, 1])
    again = evaluation.ranks(FixedScores(), p.test, full=True, batch_size=1, exclude_seen=True)
    np.testing.assert_array_equal(backend.to_numpy(again), [0, 1])


def test_exclude_seen_keeps_a_repeated_target(xp):
    """User 1 (history 3, 4, 2; target 4, seen before): item 4 scores highest, so rank 0;
    dropping the target with the history would rank it last. User 2 makes the catalogue 1..5."""
    user, item = np.array([(1, 3), (1, 4), (1, 2), (1, 4), (2, 1), (2, 5)]).T
    table = from_columns(user, item, np.ones(6, np.int64), np.arange(6), ("view",))
    p = Protocol(table, maxlen=4, n_negatives=0, seed=0)
    r = evaluation.ranks(FixedScores(), p.test, full=True, exclude_seen=True)
    np.testing.assert_array_equal(backend.to_numpy(r), [0])


def test_early_stopping_watches_ndcg_at_10_or_the_largest_cutoff_sampled_or_full():
    assert evaluation.monitored((10,), 100) == "sampled ndcg@10"
    assert evaluation.monitored((5, 10, 20), 0) == "full ndcg@10"
    assert evaluation.monitored((5, 20), 1) == "sampled ndcg@20"


@pytest.mark.parametrize("negatives", [0, 1])
def test_validation_metrics_name_their_protocol_and_keep_its_options(negatives):
    p = Protocol(toy_table(), maxlen=4, n_negatives=negatives, seed=0)
    for exclude_seen in (False, True):
        got = evaluation.validation_metrics(FixedScores(), p.valid, ks=(1, 2),
                                            exclude_seen=exclude_seen)
        if negatives:
            want = {f"sampled {k}": v for k, v in
                    evaluation.sampled_metrics(FixedScores(), p.valid, (1, 2)).items()}
        else:
            want = {f"full {k}": v for k, v in evaluation.full_metrics(
                FixedScores(), p.valid, (1, 2), exclude_seen).items()}
        assert got == want and len(got) == 8
    if not negatives:       # the seen items matter to the full ranking here
        assert evaluation.validation_metrics(FixedScores(), p.valid, (1, 2), True) != \
            evaluation.validation_metrics(FixedScores(), p.valid, (1, 2), False)
        # by default the full ranking keeps the seen items, as evaluate's does
        assert evaluation.validation_metrics(FixedScores(), p.valid, (1, 2)) == \
            evaluation.validation_metrics(FixedScores(), p.valid, (1, 2), False)


def test_the_fewest_unseen_items_are_those_of_the_user_who_saw_the_most():
    """User 1 saw items 1-4 (1 unseen), user 2 items 2 and 5 (3), user 3 items 1-3 (2)."""
    table = toy_table()
    assert [evaluation.fewest_unseen(table, np.array(u)) for u in ([1], [2], [3], [2, 3])] == [
        1, 3, 2, 2]
    assert evaluation.fewest_unseen(table, np.array([], np.int64)) == 5


def test_the_protocols_defaults_are_100_negatives_drawn_by_seed_0_and_1():
    table = generate(n_users=20, n_items=300, seed=2)
    p = Protocol(table, maxlen=5)
    assert p.n_negatives == 100 and p.test.negatives.shape[1] == 100
    again = Protocol(table, maxlen=5, n_negatives=100, seed=0)
    np.testing.assert_array_equal(p.test.negatives, again.test.negatives)
    np.testing.assert_array_equal(p.valid.negatives, again.valid.negatives)


def test_the_test_negatives_are_drawn_by_the_seed_and_the_valid_ones_by_the_next():
    table = generate(n_users=20, n_items=300, seed=2)
    p = Protocol(table, maxlen=5, n_negatives=7, seed=3)
    users = p.test.users
    np.testing.assert_array_equal(p.test.negatives,
                                  sample_negatives(table, 7, 3, users=users))
    np.testing.assert_array_equal(p.valid.negatives,
                                  sample_negatives(table, 7, 4, users=users))


def test_a_log_without_held_out_users_has_empty_splits_of_int_items():
    user, item = np.array([(1, 1), (1, 2), (2, 3)]).T
    table = from_columns(user, item, np.ones(3, np.int64), np.arange(3), ("view",))
    p = Protocol(table, maxlen=4, n_negatives=1)
    for split in (p.valid, p.test):
        assert len(split.users) == 0 and split.seen.shape == (2, 0)
        assert split.seen.dtype == np.int64
    assert evaluation.ranks(FixedScores(), p.test, full=False).dtype == np.int64


class IntScores(FixedScores):
    """Scores that are counts (int64), as a popularity model's may be."""

    def score_last(self, seq, candidates=None):
        return (super().score_last(seq, candidates) * 10).astype(np.int64)


def test_a_full_ranking_keeps_the_seen_items_unless_asked_and_then_drops_them_from_int_scores():
    p = Protocol(toy_table(), maxlen=4, n_negatives=1, seed=0)
    kept = backend.to_numpy(evaluation.ranks(FixedScores(), p.test, full=True))
    np.testing.assert_array_equal(kept, [0, 2])
    r = evaluation.ranks(IntScores(), p.test, full=True, exclude_seen=True)
    np.testing.assert_array_equal(backend.to_numpy(r), [0, 1])
    assert evaluation.full_metrics(FixedScores(), p.test, ks=(2,)) == evaluation.full_metrics(
        FixedScores(), p.test, ks=(2,), exclude_seen=False)
    seen = evaluation.full_metrics(FixedScores(), p.test, ks=(2,), exclude_seen=True)
    assert seen["hit@2"] == 1.0
    both = evaluation.evaluate(FixedScores(), p.test, ks=(2,), exclude_seen=True)
    assert both["full"] == seen and set(both["sampled"]) == {"hit@2", "recall@2", "ndcg@2",
                                                             "mrr@2"}


def test_mrr_is_cut_at_each_cutoff_asked_for():
    """Ranks 0 and 2: MRR@1 counts only the first (1/2), MRR@10 both ((1 + 1/3) / 2)."""
    got = evaluation.ranking_metrics(np.array([0, 2]), ks=(1, 10))
    assert got["mrr@1"] == pytest.approx(0.5) and got["mrr@10"] == pytest.approx((1 + 1 / 3) / 2)
