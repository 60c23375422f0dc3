"""Lesson 11, exercise 1: the sum of message passing, A_hat X, dense and over an edge list.

Fill in ``propagate``, then grade it:  python lessons/11_graph.py --exercise 1
The lesson puts your function inside its GraphConv and runs its own checks: the charger's new
features against G1 by hand, the headphones (no incoming edge) against tanh(b), both graph forms
against tanh(A H W + b) and each other, 'mean' edge weights, a batch of two graphs, and every
gradient against central differences (the backward pass calls you with transpose=True).
"""

from minseq.backend import xp


def propagate(graph, X, transpose=False):
    """The messages every node receives: A_hat X, or A_hat^T X when ``transpose`` is True.

    graph is one of two forms of the same (normalised) adjacency, A_hat[v, u] != 0 when u sends
    to v:
      ("dense", A_hat): A_hat (N, N), or (B, N, N) for a batch;
      ("edges", src, dst, w): three (E,) arrays, edge e sends from node src[e] to node dst[e]
        with weight w[e]. For a batch the nodes are numbered across graphs, b * N + u, so the
        edge form indexes the (B * N, F) rows of X. An edge may appear several times: each
        copy counts (xp.add.at sums repeats; fancy-index += keeps only one).
    X: (N, F), or (B, N, F) for a batch.

    Returns an array of X's shape: row v is sum_u A_hat[v, u] X[u] (with transpose, the sum
    over the nodes v that u sends to: sum_v A_hat[v, u] X[v]).
    """
    # YOUR CODE HERE: the dense form is a matrix product; the edge form gathers X[src],
    # weights it and scatter-adds it into the rows dst. The placeholder lets every node hear
    # only itself.
    return X
