"""Windows of behaviour for the next-behaviour tasks (minseq.data.tasks), cut inside each
user's time line.

For every event e of a user that has a known future, the example is the user's last ``maxlen``
events up to and including e (padded at the FRONT with 0, mask False there), and its target:

    next-behaviour:  behaviour[e + 1] - 1                          (class id 0..K-1)
    will-purchase:   1 if a purchase is among events e+1 .. e+k    (k = ``horizon``, default
                     the task's: 5), else 0

A window never reaches into another user or into the future; split the table (by user or by
time) BEFORE cutting windows, so no window straddles two splits. Events whose future is shorter
than the target needs (the last event; the last k for will-purchase) give no example.
"""

import numpy as np

from .tasks import NEXT_BEHAVIOUR, WILL_PURCHASE, task_of

WINDOW_TASKS = (NEXT_BEHAVIOUR, WILL_PURCHASE)


def behaviour_windows(table, maxlen, task=NEXT_BEHAVIOUR, horizon=None, categories=False):
    """(inputs, targets, mask) host arrays for ``task`` (a Task or its name) on ``table``.

    inputs (N, maxlen) int64 behaviour ids, or (N, maxlen, 2) [behaviour, category] with
    ``categories``; targets (N,) int64 class ids (next-behaviour) or float64 0/1
    (will-purchase); mask (N, maxlen) bool, True at real events (the window's last column is
    always real).
    """
    names = [t.name for t in WINDOW_TASKS]
    if str(task) not in names:
        raise ValueError(f"behaviour_windows: task must be one of {', '.join(names)}, "
                         f"got {str(task)!r}")
    task = task_of(str(task))
    horizon = WILL_PURCHASE.horizon if horizon is None else horizon
    if maxlen < 1 or horizon < 1:
        raise ValueError(f"behaviour_windows: maxlen and horizon must be at least 1, "
                         f"got {maxlen} and {horizon}")
    if categories and table.category is None:
        raise ValueError("behaviour_windows: the table has no item categories")
    pos = table.position()                                   # index within the user
    length = table.lengths()[table.user - 1]
    ahead = 1 if task is NEXT_BEHAVIOUR else horizon         # future events the target reads
    ends = np.flatnonzero(pos + ahead < length)              # (N,) the window's last event
    idx = ends[:, None] + np.arange(1 - maxlen, 1)           # (N, maxlen) event numbers
    mask = idx >= (ends - pos[ends])[:, None]                # at or after the user's first event
    idx = np.where(mask, idx, 0)
    inputs = np.where(mask, table.behaviour[idx], 0)
    if categories:
        inputs = np.stack([inputs, np.where(mask, table.category[idx], 0)], axis=-1)
    if task is NEXT_BEHAVIOUR:
        return inputs, table.behaviour[ends + 1] - 1, mask
    if "purchase" not in table.behaviour_names:
        raise ValueError("behaviour_windows: will-purchase needs a 'purchase' behaviour, the "
                         f"table has {table.behaviour_names[1:]}")
    bought = table.behaviour == table.behaviour_names.index("purchase")
    seen = np.concatenate([[0], np.cumsum(bought)])          # seen[i] = purchases before i
    targets = (seen[ends + 1 + horizon] - seen[ends + 1] > 0).astype(np.float64)
    return inputs, targets, mask
