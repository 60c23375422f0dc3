"""Lesson 02, exercise 1: one RNN step, forward (D1 on a batch of row vectors).

Fill in ``rnn_step``, then grade it:  python lessons/02_rnn.py --exercise 1
The lesson runs its own checks on your function: h_t against D1 by hand (column vectors,
W_h h + W_x x + b_h) for tanh and for relu, the RNN layer over the lesson's sequence against D1
step by step, and every gradient of the cells and the layer (whose backward reads your cache)
against central differences.
"""

from minseq.backend import xp
from minseq.nn.rnn import RNNCache


def rnn_step(params, x, h_prev, nonlinearity):
    """One RNN step on a batch.

    params: {"Wx": (D, H), "Wh": (H, H), "b": (H,)}, minseq's rows layout (Wx = W_x^T and
    Wh = W_h^T of the document's column form); x (B, D), h_prev (B, H); nonlinearity: "tanh"
    or "relu".

    Returns (h, cache), h (B, H) and cache = RNNCache(x, h_prev, a, h) with a (B, H) the
    pre-activation: the backward pass reads h (tanh' = 1 - h^2) or a (relu' = [a > 0]).
    """
    # YOUR CODE HERE: a = x Wx + h_prev Wh + b, then h = tanh(a) or relu(a) = max(a, 0).
    a = xp.zeros_like(h_prev)
    h = xp.zeros_like(h_prev)
    return h, RNNCache(x, h_prev, a, h)
