"""Lesson 15, exercise 1: trick 3 forward, the four LSTM gates from one tanh.

Fill in ``lstm_gates``, then grade it:  python lessons/15_fast_lstm.py --exercise 1
The lesson checks your gates against sigma and tanh taken block by block (also at a = +-1000,
where e^-a overflows), checks that they were written into ``a``, then puts your function
inside minseq.fast.LSTM and checks its outputs and gradients against the reference layer and
central differences.
"""

from minseq.backend import xp


def lstm_gates(a, scale, shift):
    """In place: the pre-activations a (B, 4H) become the gates [i, f, g, o].

    a = x_t Wx + h_{t-1} Wh + b, the four blocks side by side in the order i, f, g, o;
    scale, shift (4H,): 1/2 and 1/2 on the columns of i, f and o, 1 and 0 on those of g, so that

        act(a) = scale (.) tanh(scale (.) a) + shift

    is sigma(a) = 0.5 tanh(a / 2) + 0.5 on i, f, o and tanh(a) on g.

    Overwrites ``a`` with the gates (the fast layer reads them from ``a``, and allocates no new
    (B, 4H) array per step) and returns ``a``. ``xp.tanh(a, out=a)`` and ``a *= ...`` work in
    place.
    """
    # YOUR CODE HERE: scale a, tanh it, scale again and shift, each step in place.
    return a
