"""Lesson 02, exercise 2: one RNN step, backward (the lesson's 'D1 backward' step, as a
function).

Fill in ``rnn_step_backward``, then grade it:  python lessons/02_rnn.py --exercise 2
The lesson puts your function inside its RNNCell (tanh and relu) and its RNN
(backpropagation through time) and checks every gradient (dx, dh_prev, dWx, dWh, db) against
central differences and against the reference layer.
"""

from minseq.backend import xp


def rnn_step_backward(params, dh, cache, nonlinearity):
    """Backward through one RNN step h = act(a), a = x Wx + h_prev Wh + b.

    params: {"Wx": (D, H), "Wh": (H, H), "b": (H,)}; dh = dL/dh (B, H); cache =
    RNNCache(x, h_prev, a, h) from the forward step; nonlinearity: "tanh" or "relu".

    Returns (dx, dh_prev, {"Wx": dWx, "Wh": dWh, "b": db}), each the shape of what it is the
    gradient of (db summed over the batch).
    """
    x, h_prev, a, h = cache
    # YOUR CODE HERE: da = dh (.) act'(a), with tanh' = 1 - h^2 and relu' = [a > 0]; then
    # dWx = x^T da, dWh = h_prev^T da, db, dx = da Wx^T and dh_prev = da Wh^T.
    dx = xp.zeros_like(x)
    dh_prev = xp.zeros_like(h_prev)
    dparams = {name: xp.zeros_like(value) for name, value in params.items()}
    return dx, dh_prev, dparams
