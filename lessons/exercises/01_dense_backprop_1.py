"""Lesson 01, exercise 1: softmax cross-entropy from the scores, and its gradient (B2, A4).

Fill in ``softmax_cross_entropy``, then grade it:  python lessons/01_dense_backprop.py --exercise 1
The lesson runs its own checks on your function: the loss against -log y_t^o by hand and
against nn.CrossEntropyLoss, the gradient against (y^o - t) / N, against the loss's backward
and against the numerical gradient of your own loss, then both at scores (1000, 0, -1000),
where the naive formula overflows.
"""

from minseq.backend import xp


def softmax_cross_entropy(scores, t):
    """The mean categorical cross-entropy of a batch, from its scores, and its gradient.

    scores: (N, C) output-layer scores x^o, one row per user; t: (N,) integer class ids, the
    action each user took next.

    Returns (loss, dscores): loss, a 0-d array, L = (1/N) sum_n -log softmax(x_n^o)_{t_n}
    computed from the scores as logsumexp(x_n^o) - x_n,t_n^o with the row's largest score
    subtracted first (finite at scores of 1000); dscores = dL/dx^o (N, C).
    """
    # YOUR CODE HERE: shift each row by its max; log softmax = shifted - log(sum(e^shifted));
    # L = the mean of -log softmax at the targets; dL/dx^o = (softmax - onehot(t)) / N.
    loss = xp.zeros((), dtype=scores.dtype)
    dscores = xp.zeros_like(scores)
    return loss, dscores
