"""Lesson 06, exercise 2: multi-head attention, every head at once (E6).

Fill in ``multi_head_attention``, then grade it:
    python lessons/06_multihead_positional.py --exercise 2
The lesson runs your function on the parameters of minseq's MultiHeadAttention and checks the
output and weights against the layer (with and without a causal mask, with 2 and with 4 heads),
against the lesson's head-by-head formula, and that shuffling the events shuffles the outputs.
"""

import math

from minseq.backend import xp
from minseq.nn.attention import masked_softmax


def multi_head_attention(params, x, num_heads, mask=None):
    """Multi-head self-attention on a batch, with no loop over heads:

        q = x W_Q + b_Q,  k = x W_K + b_K,  v = x W_V + b_V           (B, T, d_model)
        split each into (B, h, T, d_k): head i owns columns i*d_k .. (i+1)*d_k
        weights = softmax(q k^T / sqrt(d_k)) over the allowed keys     (B, h, T, T)
        heads = weights v  (B, h, T, d_k);  concat them per step       (B, T, d_model)
        out = concat W_O + b_O

    params: {"Wq", "Wk", "Wv", "Wo": (d_model, d_model), "bq", "bk", "bv", "bo": (d_model,)};
    x (B, T, d_model); d_k = d_model / num_heads. mask: None, or boolean, broadcastable to
    (B, h, T, T), True = may attend (``causal_mask(T)``, (T, T), broadcasts);
    ``masked_softmax(scores, mask)`` is the softmax over the allowed keys.

    Returns (out (B, T, d_model), weights (B, h, T, T)).
    """
    B, T, d_model = x.shape
    # YOUR CODE HERE: the three projections, reshape (B, T, h, d_k) and swap axes 1 and 2,
    # the scaled scores, the weights, the heads, then swap back, reshape and project with W_O.
    out = xp.zeros_like(x)
    weights = xp.full((B, num_heads, T, T), 1.0 / T)
    return out, weights
