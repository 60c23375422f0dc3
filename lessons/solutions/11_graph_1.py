"""Lesson 11, exercise 1, worked solution: A_hat X, dense and over an edge list.

Grade it:  python lessons/11_graph.py --exercise 1 --solution
"""

from minseq.backend import xp


def propagate(graph, X, transpose=False):
    """A_hat X (or A_hat^T X) for graph ("dense", A_hat) or ("edges", src, dst, w); X's shape."""
    if graph[0] == "dense":
        A_hat = graph[1]
        if transpose:
            A_hat = xp.swapaxes(A_hat, -1, -2)       # the last two axes: a batch stays a batch
        return A_hat @ X
    _, src, dst, w = graph
    if transpose:
        src, dst = dst, src                          # A^T: every edge runs the other way
    rows = X.reshape(-1, X.shape[-1])                # (B * N, F): node ids run across graphs
    out = xp.zeros_like(rows)
    # each edge adds its weighted message into its receiver; add.at keeps repeated edges
    xp.add.at(out, dst, w[:, None] * rows[src])
    return out.reshape(X.shape)
