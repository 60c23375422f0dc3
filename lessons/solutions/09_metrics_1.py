"""Lesson 09, exercise 1, worked solution: binary cross-entropy on logits and its gradient.

Grade it:  python lessons/09_metrics.py --exercise 1 --solution
"""

from minseq.nn.functional import sigmoid, softplus


def bce_with_logits(pred, target):
    """(mean BCE of logits pred against labels target, dL/dpred)."""
    # t softplus(-z) + (1 - t) softplus(z) = softplus(z) - t z, since softplus(-z) =
    # softplus(z) - z: one softplus, finite for any z (log(sigmoid(-800)) would be log 0)
    terms = softplus(pred) - target * pred
    # d/dz [softplus(z) - t z] = sigmoid(z) - t; the mean divides every entry by N
    return terms.mean(), (sigmoid(pred) - target) / pred.size
