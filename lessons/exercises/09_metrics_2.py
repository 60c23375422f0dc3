"""Lesson 09, exercise 2: the area under the ROC curve, as a probability over pairs (B6).

Fill in ``roc_auc``, then grade it:  python lessons/09_metrics.py --exercise 2
The lesson checks your AUC against the step's pairs and the area under its ROC curve, under a
monotone transform of the scores, against minseq's roc_auc on data full of ties, and on a
perfect, a reversed and a constant scorer.
"""

import numpy as np


def roc_auc(y_true, scores):
    """AUC = P(score of a random positive > score of a random negative), a tie counting 1/2.

    y_true (n,) labels 0/1 with both present; scores (n,) floats (higher = more likely
    positive). NumPy arrays. Returns a float.
    Either count the pairs, a (P, N) table of wins, or use the rank form: with 1-based ranks of
    the scores in ascending order (tied scores sharing their mean rank), AUC =
    (sum of the positives' ranks - P (P + 1) / 2) / (P N).
    """
    y_true, scores = np.asarray(y_true), np.asarray(scores)
    # YOUR CODE HERE: split the scores into positives and negatives, compare every pair.
    return 0.5
