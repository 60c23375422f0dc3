"""Lesson 02, exercise 1, worked solution: one RNN step, forward.

Grade it:  python lessons/02_rnn.py --exercise 1 --solution
"""

from minseq.backend import xp
from minseq.nn.rnn import RNNCache


def rnn_step(params, x, h_prev, nonlinearity):
    """(h, RNNCache) from x (B, D) and h_prev (B, H); nonlinearity "tanh" or "relu"."""
    # rows: x Wx is the document's W_x x_t transposed, one row per sequence of the batch
    a = x @ params["Wx"] + h_prev @ params["Wh"] + params["b"]        # (B, H)
    h = xp.tanh(a) if nonlinearity == "tanh" else xp.maximum(a, 0)
    return h, RNNCache(x, h_prev, a, h)
