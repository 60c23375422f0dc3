"""Lesson 05, exercise 1: the masked softmax of attention scores (the lesson's masks step).

Fill in ``masked_softmax``, then grade it:  python lessons/05_attention.py --exercise 1
The lesson runs its own checks on your function: without a mask against the lesson's softmax;
at scores (1000, 0, -1000); with the masks step's mask against the softmax over each query's
allowed keys by hand, also when a masked key's score is 1e4; then inside
ScaledDotProductAttention, step 1's context by hand and the masked layer's gradients (its
backward reads your weights) against central differences.
"""

from minseq.backend import xp


def masked_softmax(scores, mask=None):
    """Softmax over the last axis, over the allowed keys only.

    scores: (..., Tq, Tk) attention scores S; mask: None (every key allowed) or a boolean array
    that broadcasts to scores' shape, True = this query may attend to this key.

    Returns P, the shape of scores: in each row, e^(S_ij - m_i) / sum over allowed j, with m_i
    the largest ALLOWED score of row i (so no e^ overflows, whatever the masked scores are);
    exactly 0 at masked keys; a row with no allowed key is all 0, never NaN. Use no -inf and
    no -1e9 fill.
    """
    # YOUR CODE HERE: without a mask the stable softmax; with one, the row maximum over the
    # allowed keys (xp.where), e^(S - max) times the mask, then divide by a row sum that is
    # 0 only for a row with no allowed key.
    return xp.zeros_like(scores)
