"""Lesson 08, exercise 2, worked solution: sliding windows over one time line.

Grade it:  python lessons/08_data.py --exercise 2 --solution
"""

import numpy as np


def sliding_windows(data, time_steps, targets=None):
    """(X (n, time_steps, ...), y (n, ...)) of the windows of one time-ordered sequence."""
    data = np.asarray(data)
    # with a label per row the last window may end at the last row: its label is known
    n = max(len(data) - time_steps + (targets is not None), 0)
    rows = np.arange(n)[:, None] + np.arange(time_steps)        # (n, time_steps): i + j
    if targets is None:
        y = data[time_steps:]                                   # the row after each window
    else:
        y = np.asarray(targets)[time_steps - 1:]                # the label of its last row
    return data[rows], y
