"""Lesson 05, exercise 2: the backward of scaled dot-product attention (step 2 of the lesson,
as a function).

Fill in ``attention_backward``, then grade it:  python lessons/05_attention.py --exercise 2
The lesson makes your function the backward of its ScaledDotProductAttention and checks dq,
dk and dv against central differences (on step 2's shapes, with the masks step's mask, and on
a batch of two sequences with Tq != Tk and dv != d), then against the reference layer.
"""

from minseq.backend import xp


def attention_backward(dout, q, k, v, weights):
    """Backward through S = q k^T / sqrt(d), P = softmax(S) (masked keys: P = 0), out = P v.

    dout: (..., Tq, dv) = dL/dout; q (..., Tq, d), k (..., Tk, d), v (..., Tk, dv) and
    weights = P (..., Tq, Tk), as the forward saved them. The leading axes (a batch, heads)
    are the same for every array: transpose the last two axes with ``swapaxes(-1, -2)``,
    never ``.T``.

    Returns (dq, dk, dv), each the shape of q, k and v.
    """
    # YOUR CODE HERE: dv = P^T dout, dP = dout v^T, dS = P (.) (dP - rowsum(dP (.) P)),
    # dq = dS k / sqrt(d), dk = dS^T q / sqrt(d).
    return xp.zeros_like(q), xp.zeros_like(k), xp.zeros_like(v)
