"""The synthetic generator: a valid event table, reproducible, and tasks that need order."""

import numpy as np
import pytest

from minseq.data import BEHAVIOURS, generate


@pytest.fixture(scope="module")
def log():
    return generate(n_users=400, n_items=300, n_categories=15, events_per_user=40, seed=1)


def test_the_table_is_sorted_dense_and_consistent(log):
    assert len(log) == log.offsets[-1] and log.n_users == 400
    assert (np.diff(log.user) >= 0).all()
    same = log.user[1:] == log.user[:-1]
    assert (np.diff(log.timestamp)[same] > 0).all()
    assert log.item.min() >= 1 and log.item.max() <= log.n_items
    assert log.behaviour.min() >= 1 and log.behaviour.max() <= len(BEHAVIOURS)
    assert log.behaviour_names[1:] == BEHAVIOURS and log.behaviour_names[0] == "<pad>"
    assert log.lengths().min() >= 5
    # every item keeps one category
    first = np.zeros(log.n_items + 1, np.int64)
    first[log.item] = log.category
    assert (first[log.item] == log.category).all()


def test_a_seed_gives_the_same_log_and_another_seed_a_different_one():
    a, b, c = (generate(50, 60, 5, 20, seed=s) for s in (3, 3, 4))
    assert all((getattr(a, k) == getattr(b, k)).all()
               for k in ("user", "item", "behaviour", "timestamp"))
    assert len(a) != len(c) or (a.item != c.item).any()


def test_every_behaviour_occurs_and_the_funnel_links_them(log):
    counts = log.counts()["behaviours"]
    assert all(counts[b] > 0 for b in BEHAVIOURS)
    same = log.user[1:] == log.user[:-1]
    cart = (log.behaviour[1:] == 3) & same
    after_view = np.isin(log.behaviour[:-1], (2, 4)) & (log.item[:-1] == log.item[1:])
    assert (cart & after_view).sum() > 0.8 * cart.sum()  # a click or favourite, same item
    purchase = (log.behaviour[1:] == 5) & same
    after_cart = (log.behaviour[:-1] == 3) & (log.item[:-1] == log.item[1:])
    assert (purchase & after_cart).sum() > 0.8 * purchase.sum()


def _pairs(log):
    same = log.user[1:] == log.user[:-1]
    train = log.user[1:][same] % 5 != 0  # users split 80/20
    col = lambda a: (a[:-1][same], a[1:][same])  # noqa: E731
    return train, col(log.behaviour), col(log.item)


def test_next_behaviour_needs_order(log):
    """A first-order transition model beats the most frequent behaviour, both above chance."""
    train, (prev, nxt) = _pairs(log)[0], _pairs(log)[1]
    counts = np.zeros((6, 6))
    np.add.at(counts, (prev[train], nxt[train]), 1)
    transition = (counts.argmax(axis=1)[prev[~train]] == nxt[~train]).mean()
    frequency = (np.bincount(nxt[train]).argmax() == nxt[~train]).mean()
    chance = 1 / len(BEHAVIOURS)
    assert frequency > chance + 0.1
    assert transition > frequency + 0.07


def test_next_item_needs_order(log):
    """HR@10 of item-to-item transition counts beats the 10 most popular items, both far above
    the 10/300 of guessing."""
    train, _, (prev, nxt) = _pairs(log)
    n = log.n_items + 1
    counts = np.zeros((n, n))
    np.add.at(counts, (prev[train], nxt[train]), 1)
    popularity = np.bincount(nxt[train], minlength=n).astype(float)
    top = np.argsort(-(counts + 1e-6 * popularity), axis=1)[:, :10]
    transition = (top[prev[~train]] == nxt[~train][:, None]).any(axis=1).mean()
    frequency = np.isin(nxt[~train], np.argsort(-popularity)[:10]).mean()
    chance = 10 / log.n_items
    assert frequency > 2 * chance
    assert transition > frequency + 0.3


def test_will_purchase_depends_on_the_last_behaviour(log):
    """P(purchase within the next 3 events) is far higher right after a cart than a browse."""
    seqs = log.sequences("behaviour")
    after = {3: [], 1: []}
    for s in seqs:
        for t in range(len(s) - 3):
            if s[t] in after:
                after[s[t]].append((s[t + 1:t + 4] == 5).any())
    assert np.mean(after[3]) > np.mean(after[1]) + 0.3


def test_bad_sizes_are_refused():
    with pytest.raises(ValueError, match="n_items >= n_categories"):
        generate(n_users=10, n_items=5, n_categories=10)
