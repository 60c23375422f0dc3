"""Lesson 16, exercise 2, worked solution: recency at the cut.

Grade it:  python lessons/16_churn.py --exercise 2 --solution
"""

import numpy as np

from minseq.data.churn import units_per_day


def recency(table, user, cut):
    """(cut - the last event time before the cut) / one day, per example."""
    last = np.empty(len(cut))
    for n, (u, c) in enumerate(zip(user, cut)):
        times = table.timestamp[table.user_events(u)]
        # side="left": the index of the first time >= c, so the one before it is < c
        last[n] = times[np.searchsorted(times, c) - 1]
    return (cut - last) / units_per_day(table)
