"""Lesson 04, exercise 1: one GRU step, forward (D9, PyTorch's formula, fused layout).

Fill in ``gru_step``, then grade it:  python lessons/04_gru.py --exercise 1
The lesson runs its own checks on your function: the gates r, z, n and h' against D9 by hand
with separate matrices, the GRU layer over a sequence against D9 step by step, and every
gradient of the cell and the layer (whose backward reads your cache) against central
differences.
"""

from minseq.backend import xp
from minseq.nn.functional import sigmoid
from minseq.nn.gru import GRUCache
from minseq.nn.recurrent import split_gates


def gru_step(params, x, h_prev):
    """One GRU step on a batch.

    params: {"Wx": (D, 3H), "Wh": (H, 3H), "bx": (3H,), "bh": (3H,)}, the three gate blocks
    side by side in PyTorch's order r, z, n (``split_gates(a, 3)`` cuts a (B, 3H) array into
    them); x (B, D), h_prev (B, H).

    Returns (h, cache), h (B, H) and cache = GRUCache(x, h_prev, ah_n, r, z, n) with
    ah_n = h_prev W_hn + b_hn (B, H), the hidden part of the candidate before r multiplies it:
    the backward pass reads it and the gates from the cache.
    """
    # YOUR CODE HERE: ax = x Wx + bx and ah = h_prev Wh + bh, each cut into its r, z, n blocks;
    # r, z, the candidate n (r multiplies ah_n only) and h = (1 - z) n + z h_prev.
    h = xp.zeros_like(h_prev)
    cache = GRUCache(x, h_prev, h, h, h, h)
    return h, cache
