"""Lesson 06, exercise 2, worked solution: multi-head attention, every head at once.

Grade it:  python lessons/06_multihead_positional.py --exercise 2 --solution
"""

import math

from minseq.nn.attention import masked_softmax


def multi_head_attention(params, x, num_heads, mask=None):
    """(out (B, T, d_model), weights (B, h, T, T)) of multi-head self-attention on x."""
    B, T, d_model = x.shape
    d_k = d_model // num_heads

    def split(a):
        # (B, T, d_model) -> (B, h, T, d_k): head i gets columns i*d_k .. (i+1)*d_k, and the
        # heads axis sits before T so that one batched matmul serves every head
        return a.reshape(B, T, num_heads, d_k).swapaxes(1, 2)

    q = split(x @ params["Wq"] + params["bq"])
    k = split(x @ params["Wk"] + params["bk"])
    v = split(x @ params["Wv"] + params["bv"])
    scores = q @ k.swapaxes(-1, -2) / math.sqrt(d_k)             # (B, h, T, T)
    weights = masked_softmax(scores, mask)                       # each row sums to 1
    heads = weights @ v                                          # (B, h, T, d_k)
    # Concat(head_1, ..., head_h) at each step (not the time steps: erratum E9)
    concat = heads.swapaxes(1, 2).reshape(B, T, d_model)
    return concat @ params["Wo"] + params["bo"], weights
