"""Lesson 06, exercise 1, worked solution: the sinusoidal positional encoding table.

Grade it:  python lessons/06_multihead_positional.py --exercise 1 --solution
"""

from minseq.backend import xp


def sinusoidal_table(max_len, d_model):
    """PE (max_len, d_model), float64: sin in the even columns, cos in the odd ones."""
    pos = xp.arange(max_len, dtype=xp.float64)[:, None]          # (max_len, 1)
    two_i = xp.arange(0, d_model, 2, dtype=xp.float64)           # (d_model / 2,): 0, 2, 4, ...
    angle = pos / 10000.0 ** (two_i / d_model)                   # one frequency per pair
    pe = xp.empty((max_len, d_model), dtype=xp.float64)
    pe[:, 0::2] = xp.sin(angle)
    pe[:, 1::2] = xp.cos(angle)          # same angle: each pair is a point on the unit circle
    return pe
