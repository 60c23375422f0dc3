"""Splits of an event table that never leak the future (C7), folds by user for
cross-validation, and k-core filtering.

Splits keep the dense ids and vocabularies of the whole table, so one embedding table serves
every split; ``k_core`` renumbers, since it defines a new, smaller catalogue.
"""

from collections import namedtuple

import numpy as np

LeaveOneOut = namedtuple("LeaveOneOut", "train valid test")


def split_by_user(table, valid_fraction=0.2, seed=0):
    """(train, valid): a seeded random ``valid_fraction`` of the users, with all their events,
    go to validation; every other user's events to training."""
    _fraction(valid_fraction)
    present = np.flatnonzero(table.lengths()) + 1
    rng = np.random.default_rng(seed)
    valid_users = rng.permutation(present)[:int(round(valid_fraction * len(present)))]
    in_valid = np.zeros(table.n_users + 1, dtype=bool)
    in_valid[valid_users] = True
    mask = in_valid[table.user]
    return table.select(~mask), table.select(mask)


def user_folds(table, k, seed=0):
    """``k`` tables, disjoint in users, together all of ``table`` (for K-fold cross-validation
    by user): a seeded shuffle of the present users dealt into k near-equal parts."""
    users = np.flatnonzero(table.lengths()) + 1
    if not 2 <= k <= len(users):
        raise ValueError(f"cross-validation: --folds must lie between 2 and the number of "
                         f"users ({len(users)}), got {k}")
    parts = np.array_split(np.random.default_rng(seed).permutation(users), k)
    fold = np.zeros(table.n_users + 1, np.int64)
    for i, part in enumerate(parts):
        fold[part] = i
    return [table.select(fold[table.user] == i) for i in range(k)]


def without_users(table, other):
    """The events of ``table`` whose users have no event in ``other``."""
    return table.select(~np.isin(table.user, other.user))


def split_by_time(table, valid_fraction=0.2):
    """(train, valid): events before a cut-off time train, events at or after it validate.
    The cut-off is the timestamp below which about 1 - valid_fraction of the events fall."""
    _fraction(valid_fraction)
    cut = np.sort(table.timestamp)[int(round((1 - valid_fraction) * (len(table) - 1)))]
    early = table.timestamp < cut
    return table.select(early), table.select(~early)


def leave_one_out(table):
    """LeaveOneOut(train, valid, test): per user, the last event is the test event, the second
    last the validation event, the rest training. Users with fewer than 3 events keep all of
    them in training and have no validation or test event (the SASRec convention)."""
    pos = table.position()
    length = table.lengths()[table.user - 1]
    eligible = length >= 3
    test = eligible & (pos == length - 1)
    valid = eligible & (pos == length - 2)
    return LeaveOneOut(table.select(~(test | valid)), table.select(valid), table.select(test))


def k_core(table, k_user=5, k_item=5):
    """Drop users with fewer than ``k_user`` events and items with fewer than ``k_item``,
    repeatedly, until every remaining user and item meets its threshold; renumbered densely
    (the vocabularies still map back to the original ids). May return an empty table."""
    keep = np.ones(len(table), dtype=bool)
    while True:
        users = np.bincount(table.user[keep], minlength=table.n_users + 1)
        items = np.bincount(table.item[keep], minlength=table.n_items + 1)
        drop = keep & ((users[table.user] < k_user) | (items[table.item] < k_item))
        if not drop.any():
            return table.select(keep).reindexed()
        keep &= ~drop


def _fraction(f):
    if not 0 < f < 1:
        raise ValueError(f"valid_fraction must lie strictly between 0 and 1, got {f}")
