"""Lesson 09, exercise 1: binary cross-entropy on logits and its gradient (the standard B3).

Fill in ``bce_with_logits``, then grade it:  python lessons/09_metrics.py --exercise 1
The lesson puts your function inside minseq's BCEWithLogitsLoss and checks the loss against the
standard BCE of the step (true and flipped labels), the gradient against (sigmoid(z) - t) / N
and against central differences, and both against the reference on a batch and on logits as
large as +-800.
"""

from minseq.backend import xp
from minseq.nn.functional import sigmoid, softplus


def bce_with_logits(pred, target):
    """L = mean over all N entries of -[t log sigma(z) + (1 - t) log(1 - sigma(z))], the mean
    binary cross-entropy of logits z = pred against labels t = target in [0, 1], and dL/dz.

    pred, target: float arrays of the active backend (``xp``), of one shape.
    Returns (L as a 0-d array, dL/dpred shaped like pred). L must stay finite for any logit:
    log sigma(z) = -softplus(-z) and log(1 - sigma(z)) = -softplus(z), with
    softplus(x) = log(1 + e^x) computed without overflow.
    """
    # YOUR CODE HERE: each term from softplus, their mean, then the gradient of the mean.
    loss = xp.zeros((), dtype=pred.dtype)
    dpred = xp.zeros_like(pred)
    return loss, dpred
