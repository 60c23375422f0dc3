"""Lesson 09, exercise 3: the rank of each user's target item, ties against the model.

Fill in ``rank_of_target``, then grade it:  python lessons/09_metrics.py --exercise 3
The lesson checks your ranks against the step's by hand, ranks a model that scores every item
equally, scores HR@3, NDCG@3 and MRR over your ranks, and compares with minseq's
rank_of_target and sampled_ranks on scores full of ties.
"""

import numpy as np


def rank_of_target(scores, target_index):
    """0-based rank of each user's target among all N candidate items, ties pessimistic.

    scores (B, N): each user's score of every item; target_index (B,): the item each user
    actually chose. NumPy arrays. The rank is the number of OTHER items scoring at least as
    high as the target: 0 = strictly first, and a model that scores every item the same ranks
    the target last (N - 1), not first.
    Returns (B,) int64.
    """
    scores, target_index = np.asarray(scores), np.asarray(target_index)
    # YOUR CODE HERE: each user's target score as a column (B, 1), then count per row.
    return np.zeros(len(scores), dtype=np.int64)
