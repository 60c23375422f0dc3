"""Lesson 04, exercise 2: one GRU step, backward (the lesson's 'D9 backward' step, as a
function).

Fill in ``gru_step_backward``, then grade it:  python lessons/04_gru.py --exercise 2
The lesson puts your function inside its GRUCell and its GRU (backpropagation through time)
and checks every gradient (dx, dh_prev, dWx, dWh, dbx, dbh) against central differences and
against the reference layer.
"""

from minseq.backend import xp


def gru_step_backward(params, dh, cache):
    """Backward through one GRU step.

    params: {"Wx": (D, 3H), "Wh": (H, 3H), "bx": (3H,), "bh": (3H,)}, blocks r, z, n;
    dh = dL/dh (B, H) for the step's output h; cache = GRUCache(x, h_prev, ah_n, r, z, n) from
    the forward step, where ah_n = h_prev W_hn + b_hn.

    Returns (dx, dh_prev, {"Wx": dWx, "Wh": dWh, "bx": dbx, "bh": dbh}), each the shape of what
    it is the gradient of (the bias gradients are summed over the batch).
    """
    x, h_prev, ah_n, r, z, n = cache
    # YOUR CODE HERE: dn, dz, da_n, dr, da_r, da_z; dax = [da_r da_z da_n] (B, 3H) and
    # dah = [da_r da_z da_n (.) r]; then the products. h_prev reaches h twice: through z h_prev
    # and through ah.
    dx = xp.zeros_like(x)
    dh_prev = xp.zeros_like(h_prev)
    dparams = {name: xp.zeros_like(value) for name, value in params.items()}
    return dx, dh_prev, dparams
