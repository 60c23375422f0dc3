"""Lesson 05, exercise 2, worked solution: the backward of scaled dot-product attention.

Grade it:  python lessons/05_attention.py --exercise 2 --solution
"""

import math


def attention_backward(dout, q, k, v, weights):
    """(dq, dk, dv) from dout = dL/dout and the forward's q, k, v and P = weights."""
    scale = 1 / math.sqrt(q.shape[-1])
    dv = weights.swapaxes(-1, -2) @ dout                         # out = P v
    dP = dout @ v.swapaxes(-1, -2)                               # (..., Tq, Tk)
    # the softmax's Jacobian, row by row: dS_ij = P_ij (dP_ij - sum_l dP_il P_il);
    # a masked key has P = 0, so its dS is 0 too
    dS = weights * (dP - (dP * weights).sum(axis=-1, keepdims=True))
    dq = dS @ k * scale                                          # S = q k^T / sqrt(d)
    dk = dS.swapaxes(-1, -2) @ q * scale
    return dq, dk, dv
