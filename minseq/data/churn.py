"""Windows for churn prediction: will an active user go silent for the next D days?

Cut times form one calendar grid for the whole log: every ``day`` from the log's first time,
kept while ``cut + D days`` still lies inside the log (later cuts cannot know their label). At
cut c, a user is ACTIVE when they have an event in [c - D, c); each active (user, cut) pair is
one example:

    features:  the user's last ``maxlen`` events with time < c (nothing at or after the cut),
               each as [behaviour id, age bucket], age = c - event time
    label:     1 (churn) if the user has no event in [c, c + D), else 0

So the features read only the past of the cut, and the label only the D days after it. Split
the table by user BEFORE cutting windows (no user in two splits), and pass the whole log's
``clock`` so every split shares the same grid and the same end.

The age bucket lets order-aware classifiers see time: ``1 + floor(4 log2(1 + age in hours))``,
capped at ``N_AGE_BUCKETS`` (quarter octaves of hours, ~170 days at the cap), so the last
event's bucket is the recency and the buckets of the window show a pace that slows.
"""

from collections import namedtuple

import numpy as np

UNITS_PER_DAY = {"s": 86400, "ms": 86_400_000}
N_AGE_BUCKETS = 48

ChurnWindows = namedtuple("ChurnWindows", "inputs targets mask cut user events")
ChurnWindows.__doc__ = """inputs (N, maxlen, 2) int64 [behaviour, age bucket] (0 = padding,
at the front); targets (N,) float64 0/1; mask (N, maxlen) bool; cut (N,) the cut times;
user (N,) the dense users; events (N, maxlen) the table rows each window reads (-1 at
padding)."""


def units_per_day(table):
    """Time units in one day of ``table``; a clear error when its times are not times."""
    unit = table.meta.get("time_unit")
    if unit not in UNITS_PER_DAY:
        raise ValueError(f"churn needs event times, and this data has none (its time unit is "
                         f"{unit!r}: the user-item format numbers lines); use a format with "
                         f"timestamps: taobao, retailrocket, movielens or synthetic")
    return UNITS_PER_DAY[unit]


def clock(table):
    """(first time, last time) of ``table``: the grid and the end every split shares."""
    if len(table) == 0:
        raise ValueError("churn: the table has no events")
    return int(table.timestamp.min()), int(table.timestamp.max())


def age_bucket(age, day):
    """1 + floor(4 log2(1 + age / hour)), capped at N_AGE_BUCKETS; age >= 0 in time units."""
    hours = age * (24.0 / day)
    return np.minimum(1 + np.floor(4 * np.log2(1 + hours)), N_AGE_BUCKETS).astype(np.int64)


def churn_windows(table, maxlen, days=7, clock_=None):
    """The ChurnWindows of ``table`` (see the module docstring); ``clock_`` (first, last) of
    the whole log, by default this table's own."""
    if maxlen < 1 or not days > 0:
        raise ValueError(f"churn_windows: maxlen must be at least 1 and days positive, got "
                         f"{maxlen} and {days}")
    day = units_per_day(table)
    first, last = clock_ or clock(table)
    horizon = int(round(days * day))
    cuts = np.arange(first + day, last - horizon + 1, day, dtype=np.int64)
    # every (user, cut) where the user is active: a cut in (t, t + horizon] of one of its events
    lo = np.searchsorted(cuts, table.timestamp, side="right")
    hi = np.searchsorted(cuts, table.timestamp + horizon, side="right")
    pair = np.unique(_ranges(table.user * (len(cuts) + 1), lo, hi))
    user, k = pair // (len(cuts) + 1), pair % (len(cuts) + 1)
    cut = cuts[k]
    span = int(last - first) + 1
    key = (table.user - 1).astype(np.int64) * span + (table.timestamp - first)
    end = np.searchsorted(key, (user - 1) * span + (cut - first))   # first row at/after cut
    after = np.minimum(end, len(table) - 1)
    stays = (end < len(table)) & (table.user[after] == user) & \
        (table.timestamp[after] < cut + horizon)
    events = end[:, None] + np.arange(-maxlen, 0)                    # (N, maxlen)
    mask = events >= table.offsets[user - 1][:, None]
    events = np.where(mask, events, -1)
    rows = np.maximum(events, 0)
    age = np.where(mask, cut[:, None] - table.timestamp[rows], 0)
    inputs = np.stack([np.where(mask, table.behaviour[rows], 0),
                       np.where(mask, age_bucket(age, day), 0)], axis=-1)
    return ChurnWindows(inputs, (~stays).astype(np.float64), mask, cut, user, events)


def _ranges(base, lo, hi):
    """base[i] + j for every j in [lo[i], hi[i]), concatenated."""
    n = hi - lo
    starts = np.repeat(base + lo - np.concatenate([[0], np.cumsum(n)[:-1]]), n)
    return starts + np.arange(n.sum())
