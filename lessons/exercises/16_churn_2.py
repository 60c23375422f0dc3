"""Lesson 16, exercise 2: the recency feature, read from before the cut only.

Fill in ``recency``, then grade it:  python lessons/16_churn.py --exercise 2
The lesson checks your recency against loops over the tiny log and on an event that lies
exactly at a cut, then on a generated log: its range, the age bucket the Recency baseline
reads, and its AUC against that of the leaking cut of step 4.
"""

import numpy as np

from minseq.data.churn import units_per_day


def recency(table, user, cut):
    """Days since each example's last event strictly before its cut, float64 (N,).

    table: an EventTable, rows sorted by user then time; ``table.timestamp[table.user_events(u)]``
    are user u's event times, in order, in the table's unit (``units_per_day(table)`` of them
    make a day). user (N,) and cut (N,): the examples; each user has an event before its cut.

    An event AT the cut belongs to the label's window, not to the features: it does not count.
    """
    # YOUR CODE HERE: for each example, the user's times, the last one below the cut
    # (np.searchsorted), and (cut - that time) / units per day.
    return np.zeros(len(cut))
