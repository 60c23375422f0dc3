"""Lesson 17, exercise 1, worked solution: the batch's gradient from unequal shards.

Grade it:  python lessons/17_data_parallel.py --exercise 1 --solution
"""


def combine_shard_gradients(grads, sizes):
    """{name: sum_k (n_k / B) dL_k/dname}: the batch-mean loss's gradient."""
    B = sum(sizes)
    out = {}
    for name in grads[0]:
        # a new array: the shards' gradients are the workers' and stay as they are
        out[name] = grads[0][name] * (sizes[0] / B)
        for g, n in zip(grads[1:], sizes[1:]):
            out[name] += g[name] * (n / B)
    return out
