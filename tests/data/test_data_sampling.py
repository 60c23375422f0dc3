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
