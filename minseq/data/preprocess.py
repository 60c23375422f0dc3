"""Feature preparation (catalogue section C): missing values, scaling, label encoding, timestamp
normalisation, padding and sliding windows. Splits and filtering of event tables are in
``splits.py``."""

import numpy as np


def fill_missing(X, method="mean", fill_values=None):
    """C1: rows with NaN dropped (``method="drop"``) or NaN filled with the column mean.

    X (N, D) float. ``fill_values`` (D,) fills with given values (the means of the training
    split, say) instead of X's own. Returns (X', fill_values): (N', D) and (D,) (None for drop).
    A column that is NaN throughout has no mean: a ValueError names it.
    """
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2:
        raise ValueError(f"fill_missing: X must be 2-D (N, D), got shape {X.shape}")
    missing = np.isnan(X)
    if method == "drop":
        return X[~missing.any(axis=1)], None
    if method != "mean":
        raise ValueError(f"fill_missing: method must be 'mean' or 'drop', got {method!r}")
    if fill_values is None:
        empty = np.flatnonzero(missing.all(axis=0))
        if len(empty):
            raise ValueError(f"fill_missing: column(s) {empty.tolist()} have no values to average")
        fill_values = np.nanmean(X, axis=0) if missing.any() else X.mean(axis=0)
    return np.where(missing, fill_values, X), np.asarray(fill_values)


class MinMaxScaler:
    """C2: x' = (x - min) / (max - min), per column, fitted on the training split only.

    A constant column (max == min) has range 1 here, so it maps to 0 instead of dividing by
    zero; ``inverse_transform`` undoes ``transform`` exactly in both cases. X is (N, D).
    """

    def fit(self, X):
        X = _two_d(X, "MinMaxScaler.fit")
        self.min_, self.max_ = X.min(axis=0), X.max(axis=0)
        span = self.max_ - self.min_
        self.scale_ = np.where(span > 0, span, 1.0)
        return self

    def transform(self, X):
        return (self._checked(X, "transform") - self.min_) / self.scale_

    def inverse_transform(self, X):
        return self._checked(X, "inverse_transform") * self.scale_ + self.min_

    def fit_transform(self, X):
        return self.fit(X).transform(X)

    def _checked(self, X, what):
        if not hasattr(self, "min_"):
            raise RuntimeError(f"MinMaxScaler.{what}: call fit first")
        X = _two_d(X, f"MinMaxScaler.{what}")
        if X.shape[1] != len(self.min_):
            raise ValueError(f"MinMaxScaler.{what}: fitted on {len(self.min_)} columns, "
                             f"got {X.shape[1]}")
        return X


def _two_d(X, where):
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or len(X) == 0:
        raise ValueError(f"{where}: X must be a non-empty 2-D array (N, D), got shape {X.shape}")
    return X


class LabelEncoder:
    """C3: labels -> integers 0..K-1, and back.

    ``LabelEncoder(classes=["browse", "purchase", "like"])`` keeps the given order (the
    document's browse -> 0, purchase -> 1, like -> 2); without ``classes``, ``fit`` uses the
    sorted distinct labels. An unseen label is a ValueError naming it.
    """

    def __init__(self, classes=None):
        if classes is not None:
            self.classes_ = np.asarray(classes)

    def fit(self, labels):
        self.classes_ = np.unique(np.asarray(labels))
        return self

    def transform(self, labels):
        labels = np.asarray(labels)
        lookup = {c: i for i, c in enumerate(self._classes().tolist())}
        unknown = sorted({x for x in labels.ravel().tolist() if x not in lookup}, key=str)
        if unknown:
            raise ValueError(f"LabelEncoder: unknown label(s) {unknown[:5]}; "
                             f"known: {self.classes_.tolist()}")
        return np.vectorize(lookup.__getitem__, otypes=[np.int64])(labels) if labels.size \
            else np.zeros(labels.shape, np.int64)

    def inverse_transform(self, codes):
        codes = np.asarray(codes)
        if codes.size and (codes.min() < 0 or codes.max() >= len(self._classes())):
            raise ValueError(f"LabelEncoder: codes must lie in 0..{len(self.classes_) - 1}")
        return self.classes_[codes]

    def fit_transform(self, labels):
        return self.fit(labels).transform(labels)

    def _classes(self):
        if not hasattr(self, "classes_"):
            raise RuntimeError("LabelEncoder: call fit first (or pass classes=...)")
        return self.classes_


def normalize_timestamps(t, t_min=None, t_max=None):
    """C4: (t - t_min) / (t_max - t_min), t_min and t_max from ``t`` unless given (pass the
    training split's). All-equal timestamps give zeros. Returns float64 of t's shape."""
    t = np.asarray(t, dtype=np.float64)
    t_min = t.min() if t_min is None else t_min
    t_max = t.max() if t_max is None else t_max
    span = t_max - t_min
    return (t - t_min) / (span if span > 0 else 1.0)


def pad_sequences(sequences, maxlen=None, padding="post", truncating="pre", value=0,
                  dtype=np.int64):
    """C5: a list of 1-D sequences as one (N, maxlen) array and its mask.

    ``padding="post"`` puts the padding after the events (``"pre"``: before);
    ``truncating="pre"`` drops the OLDEST events of a longer sequence, keeping the last
    ``maxlen`` (``"post"`` keeps the first). ``maxlen`` defaults to the longest sequence.
    Returns (padded (N, maxlen), mask (N, maxlen) bool), mask True at real events; padding
    positions must be masked out of losses and attention.
    """
    if padding not in ("pre", "post") or truncating not in ("pre", "post"):
        raise ValueError(f"pad_sequences: padding and truncating must be 'pre' or 'post', "
                         f"got {padding!r} and {truncating!r}")
    lengths = np.array([len(s) for s in sequences], dtype=np.int64)
    maxlen = int(lengths.max(initial=0)) if maxlen is None else int(maxlen)
    if maxlen < 1:
        raise ValueError(f"pad_sequences: maxlen must be at least 1, got {maxlen}")
    out = np.full((len(lengths), maxlen), value, dtype=dtype)
    mask = np.zeros((len(lengths), maxlen), dtype=bool)
    for row, seq in enumerate(sequences):
        seq = np.asarray(seq)
        seq = seq[-maxlen:] if truncating == "pre" else seq[:maxlen]
        cols = slice(0, len(seq)) if padding == "post" else slice(maxlen - len(seq), maxlen)
        out[row, cols], mask[row, cols] = seq, True
    return out, mask


def sliding_windows(data, time_steps, targets=None):
    """C6: windows X_i = data[i : i + time_steps] of ONE time-ordered sequence.

    With ``targets=None`` the target is the next row, y_i = data[i + time_steps], as the
    document prints it (n = len - time_steps windows); for feature rows that is the H4 erratum
    (the "label" is a whole feature row). With ``targets`` (T,), a label per row (e.g.
    ``next_action[t]``, what follows row t), y_i = targets[i + time_steps - 1], the label of the
    window's last row (n = len - time_steps + 1). Window users one at a time and split before
    windowing: a window that crosses users or splits is not a stretch of time.
    data (T, ...) -> X (n, time_steps, ...), y (n, ...).
    """
    data = np.asarray(data)
    if time_steps < 1:
        raise ValueError(f"sliding_windows: time_steps must be at least 1, got {time_steps}")
    if targets is not None and len(targets) != len(data):
        raise ValueError(f"sliding_windows: {len(targets)} targets for {len(data)} rows")
    n = max(len(data) - time_steps + (targets is not None), 0)
    idx = np.arange(n)[:, None] + np.arange(time_steps)  # (n, time_steps) row numbers
    y = data[time_steps:] if targets is None else np.asarray(targets)[time_steps - 1:]
    return data[idx], y
