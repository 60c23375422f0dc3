"""Lesson 13, exercise 2: the leave-one-out ranking metrics, from 0-based ranks.

Fill in ``ranking_metrics``, then grade it:  python lessons/13_next_item.py --exercise 2
The lesson runs its own checks on your function: six ranks against the formulas by hand at
cutoffs 5 and 10, then your function inside minseq's evaluation of a Markov baseline (sampled
and full ranking) against minseq's metrics, and sampled HR@10 against the full one.
"""

from minseq import backend


def ranking_metrics(r, ks=(10,)):
    """The metrics of one held-out target per user.

    r: (U,) 0-based ranks of the targets, an integer array of the active backend (rank 0 =
    first; ``backend.to_numpy(r)`` gives a NumPy copy); ks: the cutoffs K.

    Returns a dict of Python floats with, for each K of ks:
        "hit@K"    = mean of [rank < K]                     (the target is in the top K)
        "recall@K" = hit@K                                  (one relevant item per user)
        "ndcg@K"   = mean of [rank < K] / log2(rank + 2)    (1 for rank 0: the ideal DCG is 1)
        "mrr@K"    = mean of [rank < K] / (rank + 1)
    """
    # YOUR CODE HERE: one indicator [rank < K] per user, then the means. The placeholder
    # reports every metric as 0.
    return {f"{name}@{k}": 0.0 for k in ks for name in ("hit", "recall", "ndcg", "mrr")}
