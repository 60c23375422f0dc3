"""Lesson 13, exercise 1: the backward of the item scoring, into the shared item table.

Fill in ``item_scores_backward``, then grade it:  python lessons/13_next_item.py --exercise 1
The lesson puts your function inside its tiny SASRec and GRU4Rec and checks every gradient
against central differences (candidates per position, every item, shared candidates), then
your dh and dE against a loop over the scores by hand.
"""

from minseq.backend import xp


def item_scores_backward(dscores, h, E, dE, candidates=None):
    """Backward of score = h . E[i], the item table E scoring the states h.

    h (..., d): one state per position (e.g. (B, T, d)); E (n_items + 1, d): the item table,
    row 0 = padding; dscores: dL/dscores, in the forward's shape:
      candidates None:     scores (..., n_items), column j for item j + 1 (every item but 0);
      candidates (C,):     scores (..., C), column c for item candidates[c], at every position;
      candidates (..., C): scores (..., C), item candidates[..., c] for that position alone.
    dE (n_items + 1, d): the table's gradient so far (the input lookup's). ADD the scoring
    use's gradient into it, in place: dE[i] += sum over the scores of item i of
    dscore * h_(its position). An item can be scored many times (shared, or at many
    positions): xp.add.at sums every one, where dE[ids] += keeps only one per repeated id.

    Returns dh (..., d), h's shape: dh_t = sum over the scores of position t of dscore * E[i].
    """
    # YOUR CODE HERE: for the shared forms the scores are one matrix product h E[ids]^T, so
    # dh and dE are products too; per position, gather E[candidates] (..., C, d) instead.
    # The placeholder sends no gradient anywhere.
    return xp.zeros_like(h)
