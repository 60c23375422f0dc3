"""Lesson 11, exercise 2, worked solution: the normalised adjacency.

Grade it:  python lessons/11_graph.py --exercise 2 --solution
"""

from minseq.backend import xp


def inverse_power(d, power):
    """d^-power where d > 0, and 0 where d == 0: a node with no edge gets no weight."""
    safe = xp.where(d > 0, d, 1.0)                   # never raise 0 to a negative power
    return xp.where(d > 0, safe ** -power, 0.0).astype(d.dtype)


def dense_operator(A, normalize):
    """A_hat (A's shape) of "none", "mean" or "sym" from A (N, N) or (B, N, N)."""
    d_in = A.sum(axis=-1)                            # (..., N): row v, what v receives
    d_out = A.sum(axis=-2)                           # (..., N): column u, what u sends
    if normalize == "mean":
        return A * inverse_power(d_in, 1.0)[..., :, None]          # divide each row
    if normalize == "sym":
        return (A * inverse_power(d_in, 0.5)[..., :, None]
                * inverse_power(d_out, 0.5)[..., None, :])         # rows and columns
    return A
