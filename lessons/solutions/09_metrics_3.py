"""Lesson 09, exercise 3, worked solution: the target's rank, ties against the model.

Grade it:  python lessons/09_metrics.py --exercise 3 --solution
"""

import numpy as np


def rank_of_target(scores, target_index):
    """(B,) int64: how many other items score at least as high as each user's target."""
    scores, target_index = np.asarray(scores), np.asarray(target_index)
    target = scores[np.arange(len(scores)), target_index][:, None]    # (B, 1)
    # >= counts the ties too, so a tie ranks the target below the other item; the target
    # itself satisfies >=, hence the - 1
    return (scores >= target).sum(axis=1) - 1
