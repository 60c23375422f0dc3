"""Lesson 03, exercise 1, worked solution: one LSTM step, forward.

Grade it:  python lessons/03_lstm.py --exercise 1 --solution
"""

from minseq.backend import xp
from minseq.nn.functional import sigmoid
from minseq.nn.lstm import LSTMCache
from minseq.nn.recurrent import split_gates


def lstm_step(params, x, h_prev, c_prev):
    """One LSTM step: (h, c, LSTMCache) from x (B, D), h_prev and c_prev (B, H)."""
    a = x @ params["Wx"] + h_prev @ params["Wh"] + params["b"]     # (B, 4H)
    a_i, a_f, a_g, a_o = split_gates(a, 4)
    i = sigmoid(a_i)                     # input gate: how much of g to write
    f = sigmoid(a_f)                     # forget gate: how much of c_prev to keep
    g = xp.tanh(a_g)                     # candidate, in (-1, 1)
    o = sigmoid(a_o)                     # output gate
    c = f * c_prev + i * g
    tanh_c = xp.tanh(c)
    h = o * tanh_c
    return h, c, LSTMCache(x, h_prev, c_prev, i, f, g, o, tanh_c)
