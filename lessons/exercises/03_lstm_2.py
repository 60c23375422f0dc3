"""Lesson 03, exercise 2: one LSTM step, backward (step 3 of the lesson, as a function).

Fill in ``lstm_step_backward``, then grade it:  python lessons/03_lstm.py --exercise 2
The lesson puts your function inside its LSTMCell and checks every gradient (dx, dh_prev,
dc_prev, dWx, dWh, db) against central differences and against the reference layer.
"""

from minseq.backend import xp


def lstm_step_backward(params, dh, dc_next, cache):
    """Backward through one LSTM step.

    params: {"Wx": (D, 4H), "Wh": (H, 4H), "b": (4H,)}; dh = dL/dh_t and dc_next = dL/dc_t from
    later steps, each (B, H); cache = LSTMCache(x, h_prev, c_prev, i, f, g, o, tanh_c) from the
    forward step.

    Returns (dx, dh_prev, dc_prev, {"Wx": dWx, "Wh": dWh, "b": db}), each the shape of what it
    is the gradient of.
    """
    x, h_prev, c_prev, i, f, g, o, tanh_c = cache
    # YOUR CODE HERE: dc (the total dL/dc_t), do, di, df, dg, dc_prev, the four da blocks,
    # then da = [da_i da_f da_g da_o] (B, 4H) and the products.
    dx = xp.zeros_like(x)
    dh_prev = xp.zeros_like(h_prev)
    dc_prev = xp.zeros_like(c_prev)
    dparams = {name: xp.zeros_like(value) for name, value in params.items()}
    return dx, dh_prev, dc_prev, dparams
