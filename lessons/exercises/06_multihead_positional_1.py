"""Lesson 06, exercise 1: the sinusoidal positional encoding table (E7).

Fill in ``sinusoidal_table``, then grade it:  python lessons/06_multihead_positional.py --exercise 1
The lesson builds minseq's SinusoidalPositionalEncoding on your table and checks it against the
formula below and minseq's own table, that each (sin, cos) pair lies on the unit circle, that
PE[p] . PE[p+k] depends on the offset k only, and that with PE added attention sees order.
"""

from minseq.backend import xp


def sinusoidal_table(max_len, d_model):
    """The table PE (max_len, d_model) of catalogue E7, for an even d_model:

        PE[pos, 2i]   = sin(pos / 10000^(2i / d_model))
        PE[pos, 2i+1] = cos(pos / 10000^(2i / d_model))

    Row pos is the vector added to the input at position pos = 0 .. max_len - 1; columns 2i and
    2i+1 share one frequency. Returns a float64 array of the active backend (``xp``).
    """
    # YOUR CODE HERE: the positions as a column (max_len, 1), the exponents 2i = 0, 2, 4, ...
    # as a row (d_model / 2,), their angles by broadcasting, then sin into the even columns
    # (pe[:, 0::2]) and cos into the odd ones.
    return xp.zeros((max_len, d_model), dtype=xp.float64)
