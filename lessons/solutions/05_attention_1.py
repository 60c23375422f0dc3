"""Lesson 05, exercise 1, worked solution: the masked softmax.

Grade it:  python lessons/05_attention.py --exercise 1 --solution
"""

from minseq.backend import xp


def masked_softmax(scores, mask=None):
    """Softmax of scores (..., Tq, Tk) over the keys that mask (True = may attend) allows."""
    if mask is None:
        mask = xp.ones(scores.shape, dtype=bool)
    # the shift must be the largest allowed score: a larger masked one would make every
    # allowed e^ underflow to 0, and the row 0 / 0
    lowest = scores.min(axis=-1, keepdims=True)
    row_max = xp.where(mask, scores, lowest).max(axis=-1, keepdims=True)
    # exponentiate only allowed entries (a masked S - max may be huge), then zero the rest
    E = xp.exp(xp.where(mask, scores - row_max, 0)) * mask
    total = E.sum(axis=-1, keepdims=True)
    return E / xp.where(total > 0, total, 1)            # a row with no allowed key stays 0
