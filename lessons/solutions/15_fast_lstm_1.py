"""Lesson 15, exercise 1, worked solution: the four gates, in place.

Grade it:  python lessons/15_fast_lstm.py --exercise 1 --solution
"""

from minseq.backend import xp


def sigmoid_in_place(v):
    """v <- sigma(v) = 0.5 tanh(v / 2) + 0.5: exact, never overflows."""
    v *= 0.5
    xp.tanh(v, out=v)
    v *= 0.5
    v += 0.5


def lstm_gates(a):
    """a (B, 4H) pre-activations -> the gates [i, f, g, o], written over a; returns a."""
    H = a.shape[-1] // 4
    sigmoid_in_place(a[:, :2 * H])        # i and f, side by side: one block
    g = a[:, 2 * H:3 * H]
    xp.tanh(g, out=g)
    sigmoid_in_place(a[:, 3 * H:])        # o
    return a
