"""Lesson 08, exercise 2: sliding windows over one time line (C6, and the H4 fix).

Fill in ``sliding_windows``, then grade it:  python lessons/08_data.py --exercise 2
The lesson cuts windows of the most active buyer's events with your function, with the
document's target (the next row) and with a label per row, checks that per-user windows are
stretches of time, and compares a short sequence with minseq's sliding_windows.
"""

import numpy as np


def sliding_windows(data, time_steps, targets=None):
    """Windows X_i = data[i : i + time_steps] of ONE time-ordered sequence data (T, ...).

    targets None (the document's form): y_i = data[i + time_steps], the row after the window;
        n = T - time_steps windows.
    targets (T,), a label per row (next_action[t]: what follows row t): y_i is the label of the
        window's last row, targets[i + time_steps - 1]; n = T - time_steps + 1 windows.
    A sequence too short for one window gives n = 0.

    Returns (X (n, time_steps, ...), y (n, ...)), NumPy arrays.
    """
    data = np.asarray(data)
    # YOUR CODE HERE: n, the (n, time_steps) table of row numbers i + j (by broadcasting an
    # arange column against an arange row), then data at those rows, and y.
    n = max(len(data) - time_steps, 0)
    return np.zeros((n, time_steps) + data.shape[1:]), np.zeros((n,) + data.shape[1:])
