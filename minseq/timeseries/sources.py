"""Series from behaviour logs: how often a behaviour happens per day."""

import numpy as np


def daily_counts(timestamps, behaviours, behaviour_code, seconds_per_day=86400):
    """Count events of one behaviour type per day, every day of the log included.

    timestamps: (E,) event times in seconds (any numeric type); behaviours: (E,) behaviour codes
    (integers or strings, compared with ==); behaviour_code: the type to count (e.g. purchase).
    Day d covers [t0 + d * seconds_per_day, t0 + (d + 1) * seconds_per_day), where t0 is the
    start of the day of the earliest event of ANY type, and the days run to that of the latest
    event of any type, so days with no such behaviour count 0 instead of vanishing.
    Returns counts (D,) as int64.
    """
    t = np.asarray(timestamps)
    b = np.asarray(behaviours)
    if t.ndim != 1 or b.shape != t.shape:
        raise ValueError(f"daily_counts: timestamps and behaviours must be one-dimensional and "
                         f"of equal length, got shapes {t.shape} and {b.shape}")
    if t.size == 0:
        raise ValueError("daily_counts: the event table is empty")
    if t.dtype.kind not in "iuf" or not np.all(np.isfinite(t)):
        raise ValueError("daily_counts: timestamps must be finite numbers (seconds)")
    if seconds_per_day <= 0:
        raise ValueError(f"daily_counts: seconds_per_day must be positive, got {seconds_per_day}")
    day = np.floor_divide(t, seconds_per_day).astype(np.int64)
    day -= day.min()
    return np.bincount(day[b == behaviour_code], minlength=int(day.max()) + 1).astype(np.int64)
