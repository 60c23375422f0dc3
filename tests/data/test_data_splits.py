"""Splits that never leak the future, leave-one-out, folds by user, and k-core filtering."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from minseq.data import (from_columns, generate, k_core, leave_one_out, split_by_time,
                         split_by_user, user_folds, without_users)


@pytest.fixture(scope="module")
def log():
    return generate(n_users=100, n_items=80, n_categories=8, events_per_user=20, seed=2)


def test_split_by_user_puts_each_user_on_one_side(log):
    train, valid = split_by_user(log, 0.2, seed=0)
    assert len(train) + len(valid) == len(log)
    assert valid.counts()["users"] == 20
    assert not set(train.user) & set(valid.user)
    assert train.n_items == valid.n_items == log.n_items  # ids shared
    again = split_by_user(log, 0.2, seed=0)[1]
    assert (again.user == valid.user).all()


def test_split_by_time_never_trains_on_the_future(log):
    train, valid = split_by_time(log, 0.25)
    assert train.timestamp.max() < valid.timestamp.min()
    assert abs(len(valid) / len(log) - 0.25) < 0.05


def test_bad_fraction():
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        split_by_user(generate(5, 10, 2, 5), 1.0)


def test_leave_one_out_by_hand():
    t = from_columns(user=[1, 1, 1, 1, 2, 2], item=[1, 2, 3, 4, 5, 6], behaviour=[1] * 6,
                     timestamp=[1, 2, 3, 4, 1, 2], behaviour_names=("<pad>", "x"))
    split = leave_one_out(t)
    assert split.train.item.tolist() == [1, 2, 5, 6]  # user 2 is too short: all in train
    assert split.valid.item.tolist() == [3] and split.test.item.tolist() == [4]
    assert split.test.user.tolist() == [1]


def test_k_core_leaves_only_users_and_items_above_k():
    rng = np.random.default_rng(0)
    t = from_columns(user=rng.integers(0, 40, 600), item=rng.zipf(1.6, 600) % 200,
                     behaviour=np.ones(600, int), timestamp=np.arange(600),
                     behaviour_names=("<pad>", "x"))
    core = k_core(t, 5, 4)
    assert 0 < len(core) < len(t)
    assert np.bincount(core.user)[1:].min() >= 5 and np.bincount(core.item)[1:].min() >= 4
    assert core.n_users == core.counts()["users"] and core.n_items == core.counts()["items"]
    assert set(core.user_vocab[1:]) <= set(t.user_vocab[1:])


@given(k=st.integers(2, 9), seed=st.integers(0, 1000))
def test_folds_never_split_a_user_and_cover_every_event(log, k, seed):
    folds = user_folds(log, k, seed)
    users = [set(f.user.tolist()) for f in folds]
    assert all(a.isdisjoint(b) for i, a in enumerate(users) for b in users[i + 1:])
    assert sum(len(f) for f in folds) == len(log)
    assert max(map(len, users)) - min(map(len, users)) <= 1


def test_too_many_folds_is_a_clear_error():
    with pytest.raises(ValueError, match="--folds must lie between 2 and the number of users"):
        user_folds(generate(n_users=5, seed=0), 6)


def test_without_users_drops_every_event_of_the_other_tables_users(log):
    folds = user_folds(log, 3, seed=1)
    rest = without_users(log, folds[0])
    assert len(rest) == len(folds[1]) + len(folds[2])
    assert not set(rest.user.tolist()) & set(folds[0].user.tolist())


def test_events_at_the_time_cut_all_validate():
    """The cut is itself an event time: every event at it goes to validation, with the later
    ones, never to training (a tie at the cut must not leak into training)."""
    t = from_columns(user=[1, 2, 3, 1, 2, 3], item=[1, 2, 3, 4, 5, 6], behaviour=[1] * 6,
                     timestamp=[1, 2, 3, 3, 3, 4], behaviour_names=("<pad>", "x"))
    train, valid = split_by_time(t, 0.5)          # cut = the 3rd of 6 sorted times: 3
    assert sorted(train.timestamp.tolist()) == [1, 2]
    assert sorted(valid.timestamp.tolist()) == [3, 3, 3, 4]


def test_as_many_folds_as_users_gives_one_user_per_fold(log):
    n = log.counts()["users"]
    folds = user_folds(log, n, seed=4)
    assert len(folds) == n and all(f.counts()["users"] == 1 for f in folds)
    assert sorted(int(f.user[0]) for f in folds) == list(range(1, n + 1))
    with pytest.raises(ValueError, match=f"number of users \\({n}\\), got {n + 1}"):
        user_folds(log, n + 1)
    with pytest.raises(ValueError, match="got 1"):
        user_folds(log, 1)


def test_leave_one_out_starts_at_three_events():
    """A user of exactly 3 events gives one train, one validation and one test event; a user
    of 2 keeps both in training."""
    t = from_columns(user=[1, 1, 1, 2, 2], item=[1, 2, 3, 4, 5], behaviour=[1] * 5,
                     timestamp=[1, 2, 3, 1, 2], behaviour_names=("<pad>", "x"))
    split = leave_one_out(t)
    assert split.train.item.tolist() == [1, 4, 5]
    assert split.valid.item.tolist() == [2] and split.test.item.tolist() == [3]


def test_the_default_splits_are_a_fifth_and_seed_0(log):
    for a, b in zip(split_by_user(log), split_by_user(log, 0.2, seed=0)):
        assert (a.user == b.user).all() and (a.item == b.item).all()
    assert split_by_user(log)[1].counts()["users"] == 20
    assert set(split_by_user(log)[1].user) != set(split_by_user(log, 0.2, seed=1)[1].user)
    for a, b in zip(split_by_time(log), split_by_time(log, 0.2)):
        assert (a.timestamp == b.timestamp).all()
    folds = [f.user.tolist() for f in user_folds(log, 3)]
    assert folds == [f.user.tolist() for f in user_folds(log, 3, seed=0)]
    assert folds != [f.user.tolist() for f in user_folds(log, 3, seed=1)]


def test_split_by_user_draws_among_the_present_users_only():
    """Users 2 and 5 of 5 are present: one validates, the other trains."""
    t = from_columns(user=[1, 2, 3, 4, 5], item=[1] * 5, behaviour=[1] * 5,
                     timestamp=range(5), behaviour_names=("<pad>", "x"))
    part = t.select(np.isin(t.user, [2, 5]))
    for seed in range(4):
        train, valid = split_by_user(part, 0.5, seed=seed)
        assert sorted(train.user.tolist() + valid.user.tolist()) == [2, 5]
        assert len(train) == len(valid) == 1


def test_the_time_cut_sits_at_the_asked_fraction_of_the_events():
    """11 distinct times and valid_fraction 0.2: the cut is the 9th time (index 0.8 * 10)."""
    t = from_columns(user=[1] * 11, item=range(11), behaviour=[1] * 11,
                     timestamp=range(1, 12), behaviour_names=("<pad>", "x"))
    train, valid = split_by_time(t, 0.2)
    assert train.timestamp.tolist() == list(range(1, 9)) and valid.timestamp.tolist() == [9, 10, 11]
    with pytest.raises(ValueError, match="strictly between 0 and 1, got 0.0"):
        split_by_time(t, 0.0)


def test_k_core_by_hand_cascades_and_keeps_a_count_of_exactly_k():
    """k = 2 for users and items. Users 4 and 5 have one event: dropped; item 3 is then left
    with user 3 alone: dropped; user 3 is then left with one event: dropped. Users 1 and 2 and
    items 1 and 2 have exactly 2 events each: kept."""
    pairs = [(1, 1), (1, 2), (2, 1), (2, 2), (3, 2), (3, 3), (4, 3), (5, 4)]
    t = from_columns(user=[u for u, _ in pairs], item=[i for _, i in pairs],
                     behaviour=[1] * len(pairs), timestamp=range(len(pairs)),
                     behaviour_names=("<pad>", "x"))
    core = k_core(t, 2, 2)
    assert core.user_vocab[core.user].tolist() == [1, 1, 2, 2]
    assert core.item_vocab[core.item].tolist() == [1, 2, 1, 2]


def test_k_core_keeps_five_of_each_by_default():
    """5 users who each saw the same 5 items: all kept at the default 5, none at 6."""
    t = from_columns(user=np.repeat(np.arange(5), 5), item=np.tile(np.arange(5), 5),
                     behaviour=np.ones(25, int), timestamp=np.arange(25),
                     behaviour_names=("<pad>", "x"))
    assert len(k_core(t)) == 25
    assert len(k_core(t, 6, 5)) == len(k_core(t, 5, 6)) == 0
