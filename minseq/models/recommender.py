"""What next-item recommenders share: an item table used twice, for input and for scoring.

A next-item model encodes a history of item ids into one vector per position, h_t (d,), and
scores an item i by the dot product with the same table that embedded the input:

    score(t, i) = h_t . E[i]                 E (n_items + 1, d), row 0 = padding, never scored

``ItemRecommender`` holds ``item_emb`` (an Embedding with padding_idx 0) and the scoring; a
subclass writes ``encode(seq) -> h`` and ``encode_backward(dh)``, and its training loss.

Because E serves twice, its gradient is the sum of both uses: the input lookup (the Embedding's
backward writes dE from the encoder's gradient) plus the scoring,

    dE[i] += sum over (t, c) with candidate i of dscore[t, c] h_t        (candidates given)
    dE[1:] += dscore^T h                                                 (all items scored)

added with ``xp.add.at`` (an item can be a candidate at many positions). The padding row stays 0.

Item ids: histories are (B, T) integer arrays, 0 = padding (left padding puts each history's
latest item at the last position T-1, which is what ``score_last`` reads). Scores over "all
items" are (..., n_items) with column j for item j + 1.
"""

from .. import backend
from ..backend import xp
from ..nn import Embedding
from ..nn.checks import check_array, check_range, check_same_shape
from ..nn.module import Module


def item_scores(h, E, candidates=None):
    """h (..., d); E (n_items + 1, d); candidates: None (every item), (C,) item ids shared by
    every position, or (..., C) ids per position. Returns h E[1:]^T (..., n_items),
    h E[candidates]^T (..., C), or h . E[candidates] (..., C).
    Shared products run on the 2-D view (N, d): NumPy's stacked matmul leaves BLAS."""
    if candidates is not None and candidates.ndim > 1:
        return (E[candidates] * h[..., None, :]).sum(axis=-1)              # (..., C)
    table = E[1:] if candidates is None else E[candidates]                 # (C, d)
    return (h.reshape(-1, h.shape[-1]) @ table.T).reshape(h.shape[:-1] + (len(table),))


def item_scores_backward(dscores, h, E, dE, candidates=None):
    """The backward of ``item_scores``: ADDS the scoring use into dE and returns dh (..., d)."""
    d = h.shape[-1]
    if candidates is not None and candidates.ndim > 1:
        xp.add.at(dE, candidates.reshape(-1),
                  (dscores[..., :, None] * h[..., None, :]).reshape(-1, d))
        return (dscores[..., :, None] * E[candidates]).sum(axis=-2)        # (..., d)
    ds2 = dscores.reshape(-1, dscores.shape[-1])                           # (N, C)
    dtable = ds2.T @ h.reshape(-1, d)                                      # (C, d)
    if candidates is None:
        dE[1:] += dtable
        return (ds2 @ E[1:]).reshape(h.shape)
    xp.add.at(dE, candidates, dtable)
    return (ds2 @ E[candidates]).reshape(h.shape)


def check_ids(module, name, ids, n_items, ndim=None):
    """Raise unless ``ids`` is an integer array of the active backend (of rank ``ndim``) with
    every id in [0, n_items] (0 = padding): an id out of range would wrap (-1) or fail deep
    inside an indexing with no name. One explicit host read each for min and max."""
    check_array(module, name, ids, ndim=ndim, floating=False)
    if ids.dtype.kind not in "iu":
        raise TypeError(f"{module.name()}: {name} must hold integer item ids, "
                        f"got {ids.dtype.name}")
    return check_range(module, f"{name} ids", ids, n_items, closed=True)


def check_last_candidates(module, candidates, B, n_items):
    """``score_last``'s candidates: None, or (B, C) item ids, one row per history (a single
    row would broadcast silently over the batch)."""
    if candidates is None:
        return None
    check_ids(module, "candidates", candidates, n_items)
    if candidates.ndim != 2 or candidates.shape[0] != B:
        raise ValueError(f"{module.name()}: candidates must have shape ({B}, C), one row per "
                         f"history, got {candidates.shape}")
    return candidates


class ItemRecommender(Module):
    """Base of GRU4Rec and SASRec: forward(seq (B, T), candidates=None) -> scores.

    candidates (B, T, C): scores (B, T, C) = h_t . E[candidates[b, t, c]]; candidates (C,)
    shared by every position: (B, T, C); None: (B, T, n_items) against every item.
    backward(dscores) returns None (ids have no gradient) and writes every parameter's gradient,
    the shared table's as the sum of both uses.
    """

    def __init__(self, n_items, d_model):
        super().__init__()
        if n_items < 1 or d_model < 1:
            raise ValueError(f"{self.name()}: n_items and d_model must be positive, "
                             f"got {n_items}, {d_model}")
        self.n_items, self.d_model = n_items, d_model
        self.item_emb = Embedding(n_items + 1, d_model, padding_idx=0)
        self._real_rows = None                  # (rows, H's shape) of the last real_rows

    def encode(self, seq):
        raise NotImplementedError

    def encode_backward(self, dh):
        raise NotImplementedError

    def check_seq(self, seq):
        return check_ids(self, "seq", seq, self.n_items, ndim=2)

    def forward(self, seq, candidates=None):
        self.check_seq(seq)
        if candidates is not None:
            check_ids(self, "candidates", candidates, self.n_items)
            if candidates.ndim != 1 and (candidates.ndim != 3
                                         or candidates.shape[:2] != seq.shape):
                raise ValueError(f"{self.name()}: candidates must have shape (C,) or "
                                 f"{seq.shape + ('C',)} (batch, time, C), "
                                 f"got {candidates.shape}")
        h = self.encode(seq)                                       # (B, T, d)
        self.save_for_backward(h, candidates)
        return item_scores(h, self.item_emb.params["W"], candidates)

    def backward(self, dscores):
        h, candidates = self.saved()
        check_same_shape(self, "dscores", dscores, h.shape[:-1] + (
            self.n_items if candidates is None else candidates.shape[-1],))
        E = self.item_emb.params["W"]
        dE_scoring = xp.zeros_like(E)
        dh = item_scores_backward(dscores, h, E, dE_scoring, candidates)
        self.backward_both_uses(dh, dE_scoring)
        return None

    def backward_both_uses(self, dh, dE_scoring):
        """Backpropagate dL/dh (..., d) through the encoder, which writes the input use into
        the table's gradient, and add the scoring use ``dE_scoring`` (n_items + 1, d) to it; a
        loss that scores h against the table itself (the full softmax) hands both here."""
        self.encode_backward(dh)                # writes the input use into item_emb.grads["W"]
        dE = self.item_emb.grads["W"]
        dE += dE_scoring
        dE[0] = 0                               # padding: never learned

    def real_rows(self, inputs, targets):
        """The training loss's view of a batch: H = encode(inputs) (B, T, d) at its real
        positions only (targets > 0), so no score, negative or softmax is spent on padding:

            rows = the flat indices of the real positions     (one host read: how many)
            h = H[rows] (n, d),   y = targets[rows] (n,)

        Returns (h, y) and keeps what ``real_rows_backward`` needs."""
        self.check_seq(inputs)
        rows = xp.flatnonzero(targets > 0)
        H = self.encode(inputs)                                         # (B, T, d)
        self._real_rows = rows, H.shape
        return H.reshape(-1, H.shape[-1])[rows], targets.reshape(-1)[rows]

    def real_rows_backward(self, dh, dE_scoring):
        """Backpropagate dL/dh (n, d) of ``real_rows``'s h: the padding rows of dL/dH are 0."""
        rows, shape = self._real_rows
        self._real_rows = None
        dH = xp.zeros((shape[0] * shape[1], shape[2]), dtype=dh.dtype)
        dH[rows] = dh
        self.backward_both_uses(dH.reshape(shape), dE_scoring)

    def loss_terms(self, batch):
        """How many terms the training loss of ``batch`` (inputs, targets, ...) is a mean of:
        its real target positions (minseq.parallel.processes weighs each process's share by
        them). One read of the count."""
        return int(backend.to_numpy((batch[1] > 0).sum()))

    def score_last(self, seq, candidates=None):
        """Scores at the last position of each history (the next item after it).
        seq (B, T) left-padded; candidates (B, C) or None -> (B, C) or (B, n_items).
        Call in eval mode; nothing is kept for a backward."""
        self.check_seq(seq)
        check_last_candidates(self, candidates, seq.shape[0], self.n_items)
        h = self.encode(seq)[:, -1]                                # (B, d)
        return item_scores(h, self.item_emb.params["W"], candidates)
