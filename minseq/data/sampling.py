"""Sampled evaluation: for each user, N distinct negative items the user never interacted with.

With the target at column 0, ``candidates = concat([target[:, None], negatives], axis=1)`` is the
usual 1 + 100 candidate list of sampled HR@K / NDCG@K; ``metrics.sampled_ranks`` ranks it.
"""

import numpy as np


def sample_negatives(table, n=100, seed=0, users=None):
    """(len(users), n) int64 item ids, row i for ``users[i]`` (default every user 1..n_users).

    Items are drawn uniformly without replacement from the catalogue 1..n_items minus every
    item the user has in ``table`` (pass the whole log, not a split, so no held-out item is
    drawn as a negative). Seeded: the same seed gives the same negatives. A user who has seen
    so many items that fewer than n remain is a ValueError.
    """
    users = np.arange(1, table.n_users + 1) if users is None else np.asarray(users, np.int64)
    N = table.n_items
    seen = np.unique(table.user * (N + 1) + table.item)  # one key per (user, item) pair
    rng = np.random.default_rng(seed)
    # Draw extra candidates per user, drop seen and repeated ones, keep n at random.
    m = 2 * n + 16
    cand = rng.integers(1, N + 1, (len(users), m))
    bad = np.isin(users[:, None] * (N + 1) + cand, seen)
    order = np.argsort(cand, axis=1, kind="stable")
    s = np.take_along_axis(cand, order, axis=1)
    dup = np.zeros_like(bad)
    dup[:, 1:] = s[:, 1:] == s[:, :-1]
    np.put_along_axis(bad, order, np.take_along_axis(bad, order, axis=1) | dup, axis=1)
    key = np.where(bad, 2.0, rng.random(cand.shape))  # a random key per good candidate
    pick = np.argpartition(key, n - 1, axis=1)[:, :n]  # n = 0: kth -1, an empty pick
    out = np.take_along_axis(cand, pick, axis=1)
    short = np.flatnonzero((np.take_along_axis(key, pick, axis=1) >= 2.0).any(axis=1))
    for row in short:  # users who have seen much of the catalogue: draw from the exact rest
        rest = np.setdiff1d(np.arange(1, N + 1), table.item[table.user_events(users[row])])
        if len(rest) < n:
            raise ValueError(f"sample_negatives: user {users[row]} has only {len(rest)} unseen "
                             f"items, {n} negatives asked for")
        out[row] = rng.choice(rest, n, replace=False)
    return out
