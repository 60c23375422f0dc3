"""Lesson 15, exercise 2: one step's backward of the fast LSTM, act' read from act.

Fill in ``lstm_state_backward``, then grade it:  python lessons/15_fast_lstm.py --exercise 2
The lesson checks dL/da and dc_prev on one step against the by-hand formulas of lesson 03,
then puts your function inside minseq.fast.LSTM and checks dx and every weight gradient
against the reference layer and central differences.
"""

from minseq.backend import xp
from minseq.nn.recurrent import split_gates


def lstm_state_backward(gates, c_prev, tanh_c, dh, dc, dc_prev, dgates):
    """Backward through one LSTM step, in the fast layer's buffers.

    gates (B, 4H): [i, f, g, o] of the forward step (exercise 1); c_prev, tanh_c = tanh(c_t)
    (B, H); dh = dL/dh_t and dc = dL/dc_t from later steps (B, H; dc may be overwritten);
    dgates (B, 4H): scratch space.
    ``split_gates(x, 4)`` gives the four (B, H) blocks of x as views (writing into a view
    writes into x).

    Write dc_prev = dL/dc_{t-1} into ``dc_prev``, then dL/da (B, 4H) over ``gates`` (the fast
    layer reads it from there), and return it. The derivative of each activation comes from
    the activation alone: s (1 - s) for s = sigma(a) (i, f, o) and 1 - g^2 for g = tanh(a).
    """
    # YOUR CODE HERE: dc_t = dc + dh o (1 - tanh_c^2); dc_prev = dc_t f;
    # dL/d[i, f, g, o] = [dc_t g, dc_t c_prev, dc_t i, dh tanh_c]; dL/da = that (.) act'.
    dc_prev[...] = 0
    gates[...] = 0
    return gates
