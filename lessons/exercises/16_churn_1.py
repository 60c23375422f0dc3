"""Lesson 16, exercise 1: churn examples and their labels, from an event log.

Fill in ``churn_labels``, then grade it:  python lessons/16_churn.py --exercise 1
The lesson checks your examples against its by-hand loops on the tiny log of step 1 (for
D = 1, 2 and 3 days), then against minseq.data.churn.churn_windows on a generated log.
"""

import numpy as np

from minseq.data.churn import clock, units_per_day


def churn_labels(table, days):
    """Every churn example of ``table``: (user, cut, label), three int64 arrays (N,).

    table: an EventTable, rows sorted by user then time; ``table.timestamp`` (E,) event times
    in the table's unit (``units_per_day(table)`` of them make a day); users are 1 ..
    ``table.n_users`` and ``table.timestamp[table.user_events(u)]`` are user u's times, in
    order; ``clock(table)`` is (first time, last time). days: D, a whole number of days.

    Cut times c = first + 1 day, first + 2 days, ..., while c + D days <= last time. At each
    cut, a user with an event in [c - D, c) is active and gives one example: label 1 (churn)
    if the user has no event in [c, c + D), else 0. Order the examples by user, then by cut.
    """
    # YOUR CODE HERE: the grid of cuts; for each user, count the events in [c - D, c) and in
    # [c, c + D) at every cut (np.searchsorted counts the times below a value); keep the active.
    nothing = np.zeros(0, dtype=np.int64)
    return nothing, nothing, nothing
