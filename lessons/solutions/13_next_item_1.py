"""Lesson 13, exercise 1, worked solution: the scoring's backward into the shared table.

Grade it:  python lessons/13_next_item.py --exercise 1 --solution
"""

from minseq.backend import xp


def item_scores_backward(dscores, h, E, dE, candidates=None):
    """dh (h's shape); ADDS the scoring use of E into dE."""
    d = h.shape[-1]
    if candidates is not None and candidates.ndim > 1:          # per position: (..., C)
        table = E[candidates]                                    # (..., C, d)
        # d score[t, c] / d E[i] = h_t: one row per score, scattered onto its item
        xp.add.at(dE, candidates.reshape(-1),
                  (dscores[..., :, None] * h[..., None, :]).reshape(-1, d))
        return (dscores[..., :, None] * table).sum(axis=-2)      # (..., d)
    ids = xp.arange(1, len(E)) if candidates is None else candidates   # (C,) item ids
    ds = dscores.reshape(-1, dscores.shape[-1])                  # (N, C): every position a row
    xp.add.at(dE, ids, ds.T @ h.reshape(-1, d))                  # (C, d); a repeated id adds up
    return (ds @ E[ids]).reshape(h.shape)
