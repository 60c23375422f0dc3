"""Lesson 13, exercise 2, worked solution: hit, recall, NDCG and MRR at K from ranks.

Grade it:  python lessons/13_next_item.py --exercise 2 --solution
"""

import numpy as np

from minseq import backend


def ranking_metrics(r, ks=(10,)):
    """{"hit@K", "recall@K", "ndcg@K", "mrr@K"} for each K of ks, from 0-based ranks r (U,)."""
    r = backend.to_numpy(r).astype(np.float64)       # metrics are host work: one copy
    out = {}
    for k in ks:
        top = r < k                                   # (U,) the target made the top K
        hit = float(top.mean())
        out[f"hit@{k}"] = out[f"recall@{k}"] = hit    # one relevant item: found or not
        # rank 0 is position 1, whose discount is 1 / log2(1 + 1) = 1
        out[f"ndcg@{k}"] = float(np.where(top, 1.0 / np.log2(r + 2.0), 0.0).mean())
        out[f"mrr@{k}"] = float(np.where(top, 1.0 / (r + 1.0), 0.0).mean())
    return out
