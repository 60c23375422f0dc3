"""Lesson 15, exercise 1: the fast LSTM's gates, written in place.

Fill in ``lstm_gates``, then grade it:  python lessons/15_fast_lstm.py --exercise 1
The lesson checks your gates against sigma and tanh taken block by block (also at a = +-1000,
where e^-a overflows), checks that they were written into ``a``, then puts your function
inside minseq.fast.LSTM and checks its outputs and gradients against the reference layer and
central differences.
"""

from minseq.backend import xp


def lstm_gates(a):
    """In place: the pre-activations a (B, 4H) become the gates [i, f, g, o].

    a = x_t Wx + h_{t-1} Wh + b, the four blocks side by side in the order i, f, g, o:

        i, f, o = sigma(a_i), sigma(a_f), sigma(a_o),   g = tanh(a_g)

    with sigma(a) = 0.5 tanh(a / 2) + 0.5 (exact, and it never overflows where e^-a does).

    Overwrites ``a`` with the gates (the fast layer reads them from ``a``, and allocates no new
    (B, 4H) array per step) and returns ``a``. A slice such as ``a[:, :2 * H]`` is a view:
    ``xp.tanh(v, out=v)`` and ``v *= ...`` on it work in place on ``a``.
    """
    # YOUR CODE HERE: sigma on the blocks of i, f and o, tanh on g's, each in place.
    return a
