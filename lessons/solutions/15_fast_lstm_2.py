"""Lesson 15, exercise 2, worked solution: one step's backward, act' read from act.

Grade it:  python lessons/15_fast_lstm.py --exercise 2 --solution
"""

from minseq.backend import xp
from minseq.nn.recurrent import split_gates


def lstm_state_backward(gates, c_prev, tanh_c, dh, dc, dc_prev, dgates):
    """Writes dc_prev, and dL/da over ``gates``; returns dL/da (B, 4H)."""
    i, f, g, o = split_gates(gates, 4)
    dc += dh * o * (1 - tanh_c ** 2)      # dc_t: directly, and through h_t = o tanh(c_t)
    xp.multiply(dc, f, out=dc_prev)
    di, df, dg, do = split_gates(dgates, 4)
    xp.multiply(dc, g, out=di)            # c_t = f c_prev + i g
    xp.multiply(dc, c_prev, out=df)
    xp.multiply(dc, i, out=dg)
    xp.multiply(dh, tanh_c, out=do)
    # the gates are read for the last time: turn each into its derivative, in place
    for s in (i, f, o):
        xp.multiply(s, 1 - s, out=s)      # sigma' = s (1 - s)
    xp.multiply(g, g, out=g)
    xp.subtract(1, g, out=g)              # tanh' = 1 - g^2
    gates *= dgates
    return gates
