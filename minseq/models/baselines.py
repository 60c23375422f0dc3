"""Next-item baselines fitted by counting: most popular, and first-order Markov.

    Pop:     score(i) = c_i + ...            c_i = how often item i occurs in training
    Markov:  score(i | last = j) = n_ji + c_i / (max c + 1)
             n_ji = how often item i directly follows item j in a training history

The Markov scores back off to popularity: the popularity term lies in [0, 1), so it orders the
items after j without changing the order given by the transition counts, and ranks the items
never seen after j by popularity (instead of one big pessimistic tie). Both are Modules so
checkpoints save their counts, but they learn nothing by gradient (``fit`` counts).
"""

from .. import backend
from ..backend import xp
from ..nn.module import Module
from .recommender import check_ids, check_last_candidates


def _flatten(model, sequences):
    """Every item id of the histories, and every (previous, next) pair, as backend arrays."""
    seqs = [backend.asarray(s) for s in sequences if len(s)]
    if not seqs:
        raise ValueError(f"{model.name()}: baseline fit: no training histories")
    cat = xp.concatenate
    items = check_ids(model, "item", cat(seqs), model.n_items)
    return (items, cat([s[:-1] for s in seqs]), cat([s[1:] for s in seqs]))


def _as_scores(table, candidates):
    """(B, n_items + 1) scores of every item id -> (B, n_items), or (B, C) of candidates (B, C)."""
    if candidates is None:
        return table[:, 1:]
    return xp.take_along_axis(table, candidates, axis=1)


class Pop(Module):
    """Most popular: the same ranking for everyone. ``counts`` (n_items + 1,), counts[0] = 0."""

    def __init__(self, n_items):
        super().__init__()
        self.n_items = n_items
        self.add_param("counts", xp.zeros(n_items + 1))

    def fit(self, sequences):
        """sequences: a list of 1-D arrays of item ids (training histories)."""
        items, _, _ = _flatten(self, sequences)
        c = self.params["counts"]
        c[...] = xp.bincount(items, minlength=self.n_items + 1)
        c[0] = 0
        return self

    def score_last(self, seq, candidates=None):
        """seq (B, T) histories (ignored), candidates (B, C) or None -> (B, C) or (B, n_items)."""
        check_ids(self, "seq", seq, self.n_items, ndim=2)
        check_last_candidates(self, candidates, seq.shape[0], self.n_items)
        table = xp.broadcast_to(self.params["counts"], (seq.shape[0], self.n_items + 1))
        return _as_scores(table, candidates)


class Markov(Module):
    """First-order Markov chain over items: the next item given the last one, backed off to
    popularity. ``transitions`` (n_items + 1, n_items + 1): row j counts the items after j."""

    def __init__(self, n_items):
        super().__init__()
        self.n_items = n_items
        self.add_param("transitions", xp.zeros((n_items + 1, n_items + 1)))
        self.add_param("counts", xp.zeros(n_items + 1))

    def fit(self, sequences):
        """sequences: a list of 1-D arrays of item ids (training histories)."""
        items, prev, nxt = _flatten(self, sequences)
        n, c = self.params["transitions"], self.params["counts"]
        c[...] = xp.bincount(items, minlength=self.n_items + 1)
        c[0] = 0
        n[...] = 0
        xp.add.at(n, (prev, nxt), 1.0)
        return self

    def score_last(self, seq, candidates=None):
        """seq (B, T) left-padded histories (the last column is the last item),
        candidates (B, C) or None -> (B, C) or (B, n_items)."""
        check_ids(self, "seq", seq, self.n_items, ndim=2)
        check_last_candidates(self, candidates, seq.shape[0], self.n_items)
        c = self.params["counts"]
        table = self.params["transitions"][seq[:, -1]] + c / (c.max() + 1)
        return _as_scores(table, candidates)
