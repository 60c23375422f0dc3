"""Lesson 04, exercise 1, worked solution: one GRU step, forward.

Grade it:  python lessons/04_gru.py --exercise 1 --solution
"""

from minseq.backend import xp
from minseq.nn.functional import sigmoid
from minseq.nn.gru import GRUCache
from minseq.nn.recurrent import split_gates


def gru_step(params, x, h_prev):
    """One GRU step: (h, GRUCache) from x (B, D) and h_prev (B, H)."""
    ax = x @ params["Wx"] + params["bx"]            # (B, 3H): the input's part of every gate
    ah = h_prev @ params["Wh"] + params["bh"]       # (B, 3H): the state's part
    ax_r, ax_z, ax_n = split_gates(ax, 3)
    ah_r, ah_z, ah_n = split_gates(ah, 3)
    r = sigmoid(ax_r + ah_r)                        # reset gate: how much old state enters n
    z = sigmoid(ax_z + ah_z)                        # update gate: how much old state to keep
    n = xp.tanh(ax_n + r * ah_n)                    # r scales W_hn h + b_hn, after the product
    h = (1 - z) * n + z * h_prev                    # between the candidate and the old state
    return h, GRUCache(x, h_prev, ah_n, r, z, n)
