"""Lesson 17, exercise 1: the batch's gradient from the gradients of unequal shards.

Fill in ``combine_shard_gradients``, then grade it:  python lessons/17_data_parallel.py --exercise 1
The lesson computes each shard's gradient of its own mean loss with a Linear(3, 2) classifier
and checks your combination against the gradient of the whole batch's mean loss: on the step's
shards of 3 and 2 rows, on 12 rows in shards of 1, 6 and 5, and on three equal shards. The
shards' gradients must come back unchanged.
"""

from minseq.backend import xp


def combine_shard_gradients(grads, sizes):
    """The gradient of the batch-mean loss L = (1/B) sum_b l_b from the shards' gradients.

    grads: one dict per shard, {parameter name: dL_k/dparameter}, where L_k is the mean loss
        over shard k's rows (arrays of the active backend, ``xp``);
    sizes: the shards' row counts n_k, B = sum of them.
    Returns {name: dL/dname}. Since L = sum_k (n_k / B) L_k, each shard's gradient counts by
    its share of the rows, not 1/N: a plain mean is wrong when the shards differ in size.
    """
    # YOUR CODE HERE: sum over the shards of n_k / B times the shard's gradient, per name.
    return {name: xp.zeros_like(g) for name, g in grads[0].items()}
