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


def test_the_default_log_is_pinned():
    """generate() with its defaults is the log the lessons, the command line and the benchmarks
    read: its exact content is pinned (a few sums and counts of the seed-0 log), so a change of
    a default, of a constant of the world or of the order of the random draws is seen here
    rather than as a silent change of every published number."""
    t = generate()
    assert (len(t), t.n_users, t.n_items, t.n_categories) == (50996, 1000, 500, 20)
    assert t.category_vocab.tolist() == list(range(21))
    assert t.timestamp.dtype == t.item.dtype == np.int64
    assert int(t.item.sum()) == 12366563 and int(t.category.sum()) == 542670
    assert np.bincount(t.behaviour).tolist() == [0, 20879, 15371, 7354, 3468, 3924]
    assert (int(t.timestamp.min()), int(t.timestamp.max())) == (1511539942, 1607195823)
    assert int(t.timestamp.sum()) == 77226406498934
    assert (t.lengths().min(), t.lengths().max()) == (11, 225)
    assert len(t.meta["fading"]) == 297 and t.meta["fading"][:5] == [5, 6, 8, 11, 12]
    assert t.item[:8].tolist() == [1, 470, 189, 418, 179, 209, 12, 406]
    assert t.timestamp[:4].tolist() == [1512584814, 1512584850, 1512584881, 1512584933]
    assert t.meta["source"] == "synthetic(seed=0)"


def test_short_sequences_are_lengthened_to_min_events():
    """With a mean of 3 events many users would have fewer than 5: they get exactly
    min_events (default 5), never fewer."""
    assert generate(n_users=200, n_items=30, n_categories=3, events_per_user=3,
                    seed=0).lengths().min() == 5
    assert generate(n_users=200, n_items=30, n_categories=3, events_per_user=3, min_events=2,
                    seed=0).lengths().min() == 2


def test_min_events_wins_over_twenty_times_the_mean():
    """The lengths' upper clip, 20 times the mean, never cuts below min_events: a mean of 1
    event with min_events 30 gives 30 events each (it gave 20)."""
    t = generate(n_users=3, n_items=5, n_categories=2, events_per_user=1, min_events=30)
    assert t.lengths().tolist() == [30, 30, 30]


def test_the_smallest_world_is_allowed():
    """One user, one category, one item, one event: every size may be 1, and as many items as
    categories is enough."""
    t = generate(n_users=1, n_items=1, n_categories=1, events_per_user=1, min_events=1)
    assert t.n_users == 1 and (t.item == 1).all() and (t.category == 1).all()
    assert generate(n_users=3, n_items=4, n_categories=4, events_per_user=5).n_items == 4


@pytest.mark.parametrize("sizes", [dict(n_users=0), dict(n_categories=0, n_items=5),
                                   dict(min_events=0), dict(events_per_user=0),
                                   dict(events_per_user=-1.5), dict(events_per_user=float("nan"))])
def test_a_size_below_one_or_no_events_per_user_is_refused(sizes):
    with pytest.raises(ValueError, match="need n_users, n_categories, min_events >= 1, "
                                         "events_per_user > 0 and n_items >= n_categories, got"):
        generate(**dict(dict(n_users=5, n_items=10, n_categories=2), **sizes))


def test_a_mean_below_one_event_per_user_is_allowed_and_min_events_holds():
    lengths = generate(n_users=20, n_items=5, n_categories=2, events_per_user=0.5,
                       min_events=1).lengths()
    assert lengths.min() == 1 and lengths.max() <= 10
