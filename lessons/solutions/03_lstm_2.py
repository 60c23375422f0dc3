"""Lesson 03, exercise 2, worked solution: one LSTM step, backward.

Grade it:  python lessons/03_lstm.py --exercise 2 --solution
"""

from minseq.backend import xp


def lstm_step_backward(params, dh, dc_next, cache):
    """(dx, dh_prev, dc_prev, {"Wx": dWx, "Wh": dWh, "b": db}) from dh, dc_next and the cache."""
    x, h_prev, c_prev, i, f, g, o, tanh_c = cache
    dc = dc_next + dh * o * (1 - tanh_c ** 2)    # c reaches L directly and through h = o tanh(c)
    do = dh * tanh_c
    di = dc * g
    df = dc * c_prev
    dg = dc * i
    dc_prev = dc * f
    da_i = di * i * (1 - i)                      # sigma' = sigma (1 - sigma)
    da_f = df * f * (1 - f)
    da_g = dg * (1 - g ** 2)                     # tanh' = 1 - tanh^2
    da_o = do * o * (1 - o)
    da = xp.concatenate([da_i, da_f, da_g, da_o], axis=-1)     # (B, 4H)
    dparams = {"Wx": x.T @ da, "Wh": h_prev.T @ da, "b": da.sum(axis=0)}
    return da @ params["Wx"].T, da @ params["Wh"].T, dc_prev, dparams
