"""Lesson 07, exercise 1: LayerNorm's backward (step 3 of the lesson, as a function).

Fill in ``layer_norm_backward``, then grade it:  python lessons/07_transformer.py --exercise 1
The lesson puts your function inside minseq's LayerNorm, compares dx, dgamma and dbeta with the
step's formulas, and checks every gradient against central differences: of the LayerNorm alone
and of whole encoder and decoder layers, whose every LayerNorm then runs your backward.
"""

from minseq.backend import xp


def layer_norm_backward(dy, xhat, std, gamma):
    """Backward through y = gamma (.) xhat + beta, xhat = (x - mu) / std, with mu and the
    variance over the last axis of each row and std = sqrt(var + eps).

    dy, xhat (..., d): the upstream gradient and the forward's normalised input, any number of
    leading axes (a batch of sequences is (B, T, d)); std (..., 1); gamma (d,).

    Returns (dx (..., d), dgamma (d,), dbeta (d,)): dgamma and dbeta sum over every row.
    """
    d = gamma.shape[0]
    # YOUR CODE HERE: dgamma and dbeta sum over the rows of the (-1, d) views; dxhat = dy (.)
    # gamma; then dx = (dxhat - mean(dxhat) - xhat (.) mean(dxhat (.) xhat)) / std, the means
    # over the last axis (keepdims=True).
    dx = xp.zeros_like(dy)
    dgamma = xp.zeros(d, dtype=dy.dtype)
    dbeta = xp.zeros(d, dtype=dy.dtype)
    return dx, dgamma, dbeta
