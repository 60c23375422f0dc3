"""The churn task: will a user who is active now stay silent for the next D days?

Labels and windows come from minseq.data.churn: the users are split first (by user, as every
classifier task), cut times lie on one calendar grid of the whole log, each window holds only
events before its cut, and the label only reads the D days after it. Any next-behaviour
classifier serves (its input is [behaviour, age bucket] per event), and so does the recency
baseline (P(churn | days since the last event, bucketed)).

Metrics, on the test users: AUC, PR-AUC (average precision), F1 at the 0.5 threshold, and F1
(``f1@valid``) at the threshold that maximised F1 on the validation users (``threshold``,
saved in the checkpoint so ``evaluate`` applies the same one).
"""

from .. import metrics
from ..data.churn import N_AGE_BUCKETS, churn_windows, clock, units_per_day

__all__ = ["N_AGE_BUCKETS", "check", "windows", "score", "threshold"]


def check(table):
    """The log's clock (first, last time), or a clear error when the table has no times: run
    right after loading, before any training."""
    units_per_day(table)
    return clock(table)


def windows(table, s, clock_):
    """(inputs, targets, mask) of ``table`` for settings ``s`` (maxlen, churn_days)."""
    w = churn_windows(table, s["maxlen"], s["churn_days"], clock_)
    return w.inputs, w.targets, w.mask


def score(y, p, t=None):
    """Churn metrics of probabilities ``p`` against labels ``y`` (host arrays); with a
    threshold ``t`` chosen on validation, also F1 there. AUC and PR-AUC need both classes."""
    out = {}
    if 0 < y.sum() < len(y):
        out.update(auc=metrics.roc_auc(y, p), pr_auc=metrics.average_precision(y, p))
    out["f1@0.5"] = metrics.precision_recall_f1(y, metrics.threshold(p), n_classes=2)[2]
    if t is not None:
        out.update({"f1@valid": metrics.precision_recall_f1(
            y, metrics.threshold(p, t), n_classes=2)[2], "threshold": t})
    return out


def threshold(y, p):
    """The validation threshold of best F1 (0.5 when the validation holds one class only)."""
    return metrics.best_f1_threshold(y, p)[0] if 0 < y.sum() < len(y) else 0.5
