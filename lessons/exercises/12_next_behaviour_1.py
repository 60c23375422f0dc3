"""Lesson 12, exercise 1: training windows cut inside each user's time line (H4 done right).

Fill in ``behaviour_windows``, then grade it:  python lessons/12_next_behaviour.py --exercise 1
The lesson runs its own checks on your function: user 1's first window, the first targets, user
2's first window (no event of user 1 in it), then inputs, mask and targets of both tasks
against a loop by hand and against minseq's behaviour_windows, on a whole log and on a
validation split (where most users have no event at all).
"""

import numpy as np


def behaviour_windows(table, maxlen, task="next-behaviour", horizon=5):
    """(inputs, targets, mask) of every window of ``table`` (host NumPy arrays).

    table: an EventTable, its events sorted by user then time: table.user (E,) user ids 1..U,
    table.behaviour (E,) behaviour ids 1..K, table.lengths() (U,) events per user (0 for a user
    split away), table.position() (E,) the index of each event within its user,
    table.behaviour_names (index = behaviour id; "purchase" among them).

    One window per event e that has ``ahead`` events after it in its own user's time line
    (ahead = 1 for "next-behaviour", ``horizon`` for "will-purchase"), in the order of the
    events. Its inputs are the user's last ``maxlen`` behaviours up to and including e, padded
    at the FRONT with 0 (never an event of another user); its mask is True at the real events;
    its target:
        "next-behaviour": behaviour[e + 1] - 1        (class ids 0..K-1, int64)
        "will-purchase":  1.0 if a purchase is among events e+1 .. e+horizon, else 0.0

    Returns inputs (N, maxlen) int64, targets (N,) (int64, or float64 for will-purchase),
    mask (N, maxlen) bool.
    """
    ahead = horizon if task == "will-purchase" else 1
    # YOUR CODE HERE: the events e with pos + ahead < length (their user's), their windows of
    # event numbers e - maxlen + 1 .. e, which of those lie in the user's time line, and the
    # targets. The placeholder has the right count and types, but every window empty.
    n = int(np.maximum(table.lengths() - ahead, 0).sum())
    inputs = np.zeros((n, maxlen), dtype=np.int64)
    mask = np.zeros((n, maxlen), dtype=bool)
    targets = np.zeros(n, dtype=np.int64 if task == "next-behaviour" else np.float64)
    return inputs, targets, mask
