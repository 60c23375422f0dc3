"""Lesson 04, exercise 2, worked solution: one GRU step, backward.

Grade it:  python lessons/04_gru.py --exercise 2 --solution
"""

from minseq.backend import xp


def gru_step_backward(params, dh, cache):
    """(dx, dh_prev, {"Wx", "Wh", "bx", "bh"}) from dh = dL/dh and the forward's cache."""
    x, h_prev, ah_n, r, z, n = cache
    dn = dh * (1 - z)                        # h = (1 - z) n + z h_prev
    dz = dh * (h_prev - n)
    da_n = dn * (1 - n ** 2)                 # tanh' = 1 - tanh^2
    dr = da_n * ah_n                         # n = tanh(ax_n + r ah_n)
    da_r = dr * r * (1 - r)                  # sigma' = sigma (1 - sigma)
    da_z = dz * z * (1 - z)
    # r and z see ax and ah alike; the candidate sees ah_n only through r
    dax = xp.concatenate([da_r, da_z, da_n], axis=-1)              # (B, 3H)
    dah = xp.concatenate([da_r, da_z, da_n * r], axis=-1)          # (B, 3H)
    dparams = {"Wx": x.T @ dax, "Wh": h_prev.T @ dah,
               "bx": dax.sum(axis=0), "bh": dah.sum(axis=0)}
    dh_prev = dh * z + dah @ params["Wh"].T  # the direct path z h_prev, and the one through ah
    return dax @ params["Wx"].T, dh_prev, dparams
