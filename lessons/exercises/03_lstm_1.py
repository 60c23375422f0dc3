"""Lesson 03, exercise 1: one LSTM step, forward (D3, D5, D8 in PyTorch's fused layout).

Fill in ``lstm_step``, then grade it:  python lessons/03_lstm.py --exercise 1
The lesson runs its own checks on your function: h_t and c_t against the document's separate
matrices (D3), and every gradient of the cell (which reads your cache) against central
differences.
"""

from minseq.backend import xp
from minseq.nn.functional import sigmoid
from minseq.nn.lstm import LSTMCache
from minseq.nn.recurrent import split_gates


def lstm_step(params, x, h_prev, c_prev):
    """One LSTM step on a batch.

    params: {"Wx": (D, 4H), "Wh": (H, 4H), "b": (4H,)}, the four gate blocks side by side in
    PyTorch's order i, f, g, o (``split_gates(a, 4)`` cuts a (B, 4H) array into them);
    x (B, D), h_prev (B, H), c_prev (B, H).

    Returns (h, c, cache) with cache = LSTMCache(x, h_prev, c_prev, i, f, g, o, tanh_c): the
    backward pass reads the gates and tanh(c) from it.
    """
    # YOUR CODE HERE: a = x Wx + h_prev Wh + b; the four gates; c; tanh(c); h.
    h = xp.zeros_like(h_prev)
    c = xp.zeros_like(c_prev)
    cache = LSTMCache(x, h_prev, c_prev, h, h, h, h, h)
    return h, c, cache
