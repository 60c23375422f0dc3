"""Lesson 09, exercise 2, worked solution: AUC as a probability over pairs.

Grade it:  python lessons/09_metrics.py --exercise 2 --solution
"""

import numpy as np


def roc_auc(y_true, scores):
    """P(a random positive outscores a random negative), ties 1/2, as a float."""
    y_true, scores = np.asarray(y_true), np.asarray(scores)
    pos = scores[y_true == 1][:, None]                 # (P, 1)
    neg = scores[y_true == 0][None, :]                 # (1, N)
    # every (positive, negative) pair at once; only the order of the scores matters, so any
    # monotone rescaling leaves the AUC unchanged
    wins = (pos > neg) + 0.5 * (pos == neg)            # (P, N)
    return float(wins.mean())
