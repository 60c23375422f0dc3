"""Sampled negatives: distinct, never seen by the user, seeded."""

import numpy as np
import pytest

from minseq.data import from_columns, generate, sample_negatives


def test_negatives_are_unseen_distinct_and_seeded():
    log = generate(n_users=60, n_items=300, n_categories=10, events_per_user=40, seed=0)
    neg = sample_negatives(log, 100, seed=5)
    assert neg.shape == (60, 100) and neg.min() >= 1 and neg.max() <= 300
    for u in range(1, 61):
        row = neg[u - 1]
        assert len(set(row)) == 100
        assert not set(row) & set(log.item[log.user_events(u)])
    assert (sample_negatives(log, 100, seed=5) == neg).all()
    assert (sample_negatives(log, 100, seed=6) != neg).any()


def test_a_user_who_saw_almost_everything_gets_the_exact_rest():
    t = from_columns(user=[1] * 8 + [2], item=list(range(1, 9)) + [1], behaviour=[1] * 9,
                     timestamp=range(9), behaviour_names=("<pad>", "x"))
    items = np.concatenate([[0], t.item_vocab[1:]])
    neg = sample_negatives(t, 0, users=[1])
    assert neg.shape == (1, 0)
    with pytest.raises(ValueError, match="user 1 has only 0 unseen items, 1 negatives"):
        sample_negatives(t, 1, users=[1])
    assert sorted(items[sample_negatives(t, 7, users=[2])[0]].tolist()) == list(range(2, 9))


def test_the_last_item_id_is_drawn_as_often_as_any():
    """Every item 1..n_items can be a negative, the last id too, uniformly: 3,000 users who saw
    item 1 only draw one negative each from items 2..5 (each about 750 times; seed fixed)."""
    t = from_columns(user=list(range(1, 3001)) + [3001] * 5,
                     item=[1] * 3000 + list(range(1, 6)), behaviour=[1] * 3005, timestamp=range(3005), behaviour_names=("<pad>", "x"))
    counts = np.bincount(sample_negatives(t, 1, seed=0, users=range(1, 3001))[:, 0],
                         minlength=6)
    assert counts[0] == counts[1] == 0                   # item 1 was seen by every user
    assert counts[2:].min() > 650 and counts[2:].sum() == 3000 and len(counts) == 6


def test_the_default_negatives_are_pinned():
    """Sampled HR@K and NDCG@K are reported for a seed: the negatives of a seed are pinned (100
    per user and seed 0 by default), so a change of the sampler's draws is seen here rather
    than as a silent change of every sampled metric. Each row is pinned as a set (sorted):
    the order within a row is NumPy's argpartition's, which may differ between machines."""
    log = generate(n_users=60, n_items=300, n_categories=10, events_per_user=40, seed=0)
    neg = sample_negatives(log)
    assert neg.shape == (60, 100) and neg.dtype == np.int64
    assert (neg == sample_negatives(log, 100, seed=0)).all()
    rows = np.sort(neg, axis=1)
    assert int(neg.sum()) == 909287
    assert rows[0, :5].tolist() == [1, 3, 5, 11, 15]
    assert rows[59, -5:].tolist() == [288, 289, 292, 297, 299]
    rows = np.sort(sample_negatives(log, 10, seed=5), axis=1)
    assert int(rows.sum()) == 92097
    assert rows[0].tolist() == [17, 58, 79, 141, 148, 155, 172, 196, 240, 254]
    assert rows[59].tolist() == [12, 20, 32, 70, 128, 228, 255, 262, 290, 297]


def _saw_all_but(first, last, n_users):
    """Users 1..n_users saw items 2..19 of a catalogue 1..20; a last user saw 1 and 20."""
    user = [u for u in range(1, n_users + 1) for _ in range(2, 20)] + [n_users + 1] * 2
    item = [i for _ in range(1, n_users + 1) for i in range(2, 20)] + [first, last]
    return from_columns(user=user, item=item, behaviour=[1] * len(user),
                        timestamp=range(len(user)), behaviour_names=("<pad>", "x"))


def test_the_exact_rest_reaches_the_first_and_the_last_item():
    """Users who left only items 1 and 20 unseen, asked for 2 negatives, get exactly those two,
    without repeats (most rows need the exact draw of the rest)."""
    t = _saw_all_but(1, 20, 40)
    assert t.n_items == 20
    neg = sample_negatives(t, 2, seed=0, users=range(1, 41))
    assert all(sorted(row) == [1, 20] for row in neg.tolist())


def test_only_the_users_short_of_items_draw_from_the_rest():
    """A user short of unseen items listed after one who is not: each row stays that user's."""
    t = _saw_all_but(1, 20, 1)
    for seed in range(3):
        neg = sample_negatives(t, 2, seed=seed, users=[2, 1])
        assert sorted(neg[1].tolist()) == [1, 20]
        assert not set(neg[0].tolist()) & {1, 20} and len(set(neg[0].tolist())) == 2


def test_user_ids_of_a_small_integer_type_are_read_as_64_bit():
    log = generate(n_users=60, n_items=300, n_categories=10, events_per_user=40, seed=0)
    small = sample_negatives(log, 5, seed=1, users=np.array([3, 60], np.uint8))
    assert (small == sample_negatives(log, 5, seed=1, users=[3, 60])).all()


def test_many_negatives_are_pinned_too():
    """Past about 120 negatives a row's 2n + 16 candidates no longer fit NumPy's small-array
    sort, so argpartition leaves them unsorted: only here would a change of which n candidates
    are kept (the n with the smallest random keys) show. Pinned by the sum of each seed's
    negatives, which does not depend on the order within a row."""
    log = generate(n_users=20, n_items=3000, n_categories=10, events_per_user=40, seed=0)
    sums = [int(sample_negatives(log, 150, seed=seed).sum()) for seed in range(3)]
    assert sums == [4459250, 4490867, 4553833]


def test_the_sampler_runs_on_a_numpy_whose_take_along_axis_needs_the_axis(monkeypatch):
    """minseq asks for numpy >= 1.22, and before NumPy 2.3 take_along_axis has no default axis:
    with one that needs it, as then, the same negatives are drawn."""
    log = generate(n_users=60, n_items=300, n_categories=10, events_per_user=40, seed=0)
    expected = sample_negatives(log, 5, seed=1)
    take_along_axis = np.take_along_axis
    monkeypatch.setattr(np, "take_along_axis", lambda arr, indices, axis:
                        take_along_axis(arr, indices, axis))
    assert (sample_negatives(log, 5, seed=1) == expected).all()
