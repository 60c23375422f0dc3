"""Lesson 16, exercise 1, worked solution: churn examples and labels.

Grade it:  python lessons/16_churn.py --exercise 1 --solution
"""

import numpy as np

from minseq.data.churn import clock, units_per_day


def churn_labels(table, days):
    """(user, cut, label) int64 arrays, one entry per active user at each cut of the grid."""
    day = units_per_day(table)
    D = days * day
    first, last = clock(table)
    cuts = np.arange(first + day, last - D + 1, day)   # later cuts cannot know their label
    users, kept, labels = [], [], []
    for u in range(1, table.n_users + 1):
        times = table.timestamp[table.user_events(u)]
        # searchsorted(times, t) counts the times < t, so a difference counts [t0, t1)
        before = np.searchsorted(times, cuts)
        active = before > np.searchsorted(times, cuts - D)         # an event in [c - D, c)
        returns = np.searchsorted(times, cuts + D) > before        # an event in [c, c + D)
        users.append(np.full(active.sum(), u))
        kept.append(cuts[active])
        labels.append(~returns[active])                # silent for D days: churn
    return tuple(np.concatenate(a).astype(np.int64) for a in (users, kept, labels))
