"""Lesson 12, exercise 1, worked solution: windows inside each user's time line.

Grade it:  python lessons/12_next_behaviour.py --exercise 1 --solution
"""

import numpy as np


def behaviour_windows(table, maxlen, task="next-behaviour", horizon=5):
    """(inputs (N, maxlen), targets (N,), mask (N, maxlen)) for "next-behaviour" or
    "will-purchase"; every window stays inside one user's past."""
    pos = table.position()                                  # (E,) index within the user
    length = table.lengths()[table.user - 1]                # (E,) the event's user's length
    ahead = 1 if task == "next-behaviour" else horizon
    ends = np.flatnonzero(pos + ahead < length)             # (N,) events with a known future
    idx = ends[:, None] + np.arange(1 - maxlen, 1)          # (N, maxlen) event numbers
    start = ends - pos[ends]                                # (N,) the user's first event
    mask = idx >= start[:, None]                            # before it: another user, or none
    idx = np.where(mask, idx, 0)                            # a safe row for the padded slots
    inputs = np.where(mask, table.behaviour[idx], 0)
    if task == "next-behaviour":
        return inputs, table.behaviour[ends + 1] - 1, mask
    bought = table.behaviour == table.behaviour_names.index("purchase")
    before = np.concatenate([[0], np.cumsum(bought)])       # before[i]: purchases among 0..i-1
    # purchases among e+1 .. e+horizon: a difference of two running counts, no loop
    targets = (before[ends + 1 + horizon] - before[ends + 1] > 0).astype(np.float64)
    return inputs, targets, mask
