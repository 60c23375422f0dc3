"""Lesson 02, exercise 2, worked solution: one RNN step, backward.

Grade it:  python lessons/02_rnn.py --exercise 2 --solution
"""


def rnn_step_backward(params, dh, cache, nonlinearity):
    """(dx, dh_prev, {"Wx": dWx, "Wh": dWh, "b": db}) from dh = dL/dh and the forward's cache."""
    x, h_prev, a, h = cache
    # through the nonlinearity: tanh' = 1 - tanh^2 (from h), relu' = 1 where a > 0 (from a)
    da = dh * (1 - h ** 2) if nonlinearity == "tanh" else dh * (a > 0)
    dparams = {"Wx": x.T @ da,               # each row of the batch adds its outer product
               "Wh": h_prev.T @ da,
               "b": da.sum(axis=0)}          # b is shared by the batch: sum its rows
    return da @ params["Wx"].T, da @ params["Wh"].T, dparams
