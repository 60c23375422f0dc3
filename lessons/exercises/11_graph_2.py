"""Lesson 11, exercise 2: the normalised adjacency A_hat ('none', 'mean', 'sym').

Fill in ``dense_operator``, then grade it:  python lessons/11_graph.py --exercise 2
The lesson runs its own checks on your function: A_hat of the three normalisations against the
formulas by hand on the sessions' graph (the headphones receive nothing), the 'mean' row sums,
a batch of two graphs, and your A_hat inside GraphConv against the edge-list form, which
normalises its edge weights without your function.
"""

from minseq.backend import xp


def dense_operator(A, normalize):
    """A_hat from a dense adjacency.

    A: (N, N), or (B, N, N) for a batch of graphs; A[v, u] = weight of the edges u -> v.
    normalize: "none", "mean" or "sym". With d_in(v) = sum_u A[v, u] (the weight v receives)
    and d_out(u) = sum_v A[v, u] (the weight u sends):

        "none": A_hat = A
        "mean": A_hat[v, u] = A[v, u] / d_in(v)
        "sym":  A_hat[v, u] = A[v, u] / sqrt(d_in(v) d_out(u))

    A degree of 0 gives the factor 0, not a division by zero (a node that receives nothing
    keeps an empty row).

    Returns A_hat, A's shape and dtype.
    """
    # YOUR CODE HERE: the degrees are sums over the last two axes; scale the rows by the
    # receiver's factor and (for "sym") the columns by the sender's. The placeholder is "none".
    return A
