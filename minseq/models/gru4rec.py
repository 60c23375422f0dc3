"""GRU4Rec-style next-item model (Hidasi et al. 2016, with the cross-entropy of Hidasi and
Karatzoglou 2018): a GRU over the item history, scored against the item embeddings.

    x_t = Dropout(E[s_t])                      E (n_items + 1, d), row 0 = padding
    h_t = GRU(x_1 .. x_t)                      masked: padded steps carry the state unchanged
    score(t, i) = Dropout(h_t) . E[i]          the input table also scores (tied weights)
    L = mean over real positions t of  -log softmax_i(score(t, i))[target_t]

Cross-entropy over every item (``n_sampled=None``) or, for a large catalogue, over a sampled
set: the batch's own targets plus ``n_sampled`` uniform items, shared by the whole batch
(a sampled softmax without correction; the targets of other positions act as negatives).
Differs from the original GRU4Rec: whole padded histories in mini-batches instead of
session-parallel batches, and tied input/output embeddings (hidden size = embedding size).
"""

from ..backend import xp
from ..nn import GRU, CrossEntropyLoss, Dropout, init
from ..nn.random import RandomStream
from .recommender import ItemRecommender, check_ids, item_scores, item_scores_backward


class GRU4Rec(ItemRecommender):
    """forward(seq (B, T), candidates=None) -> scores (B, T, n_items), or (B, T, C) for
    candidates (C,) or (B, T, C) (see ItemRecommender).

    Sub-modules: ``item_emb`` (Embedding, padding 0), ``emb_dropout``, ``gru`` (GRU d_model ->
    d_model), ``out_dropout``. Training: ``loss((inputs, targets, mask))`` with inputs and
    targets (B, T) item ids (0 = padding), then ``backward_loss()``.
    """

    def __init__(self, n_items, d_model=64, dropout=0.2, n_sampled=None, seed=0):
        super().__init__(n_items, d_model)
        d = d_model
        self.item_emb.params["W"][1:] = init.normal((n_items, d), std=d ** -0.5)  # rows of norm ~1
        self.emb_dropout = Dropout(dropout)
        self.gru = GRU(d, d)
        self.out_dropout = Dropout(dropout)
        self.criterion = CrossEntropyLoss()
        self.n_sampled, self.seed = n_sampled, seed
        self._rng, self._loss_cache = RandomStream(seed), None

    def encode(self, seq):
        x = self.emb_dropout(self.item_emb(seq))                        # (B, T, d)
        hs, _ = self.gru(x, mask=seq != 0)                              # (B, T, d)
        return self.out_dropout(hs)

    def encode_backward(self, dh):
        dx, _ = self.gru.backward(self.out_dropout.backward(dh))
        self.item_emb.backward(self.emb_dropout.backward(dx))

    def sampled_items(self, targets):
        """The candidate set of a sampled softmax: the real positions' targets and
        ``n_sampled`` uniform items, sorted (C = targets.size + n_sampled,); ``targets`` index
        it by ``searchsorted``, which finds the first of equal ids. ``loss`` masks out the
        repeats instead of reading them on the host (``unique`` would be a sync every step)."""
        uniform = self._rng.generator.random(self.n_sampled)
        drawn = (uniform * self.n_items).astype(targets.dtype) + 1
        return xp.sort(xp.concatenate([targets.reshape(-1), drawn]))

    def loss(self, batch):
        """Mean cross-entropy of the next item over the real positions of ``batch``, scored at
        those positions only (``real_rows``)."""
        h, y = self.real_rows(batch[0], batch[1])                       # (n, d), (n,)
        E = self.item_emb.params["W"]
        if self.n_sampled is None or self.n_sampled >= self.n_items:
            items, classes = None, y - 1
            scores = item_scores(h, E)                                  # (n, n_items)
        else:
            items = check_ids(self, "candidates", self.sampled_items(y), self.n_items)
            classes = xp.searchsorted(items, y)
            # each item once: a repeat of its left neighbour scores -1e30, so it has softmax
            # weight exactly 0 and gets no gradient
            repeat = xp.concatenate([xp.zeros(1, dtype=bool), items[1:] == items[:-1]])
            scores = xp.where(repeat, -1e30, item_scores(h, E, items))  # (n, C)
        self._loss_cache = (h, items)
        return self.criterion(scores, classes)

    def backward_loss(self):
        if self._loss_cache is None:
            raise RuntimeError(f"{self.name()}: backward_loss called without a loss before it")
        (h, items), self._loss_cache = self._loss_cache, None
        E = self.item_emb.params["W"]
        dE_scoring = xp.zeros_like(E)
        dh = item_scores_backward(self.criterion.backward(), h, E, dE_scoring, items)
        self.real_rows_backward(dh, dE_scoring)

    def extra_repr(self):
        return f"n_items={self.n_items}, d_model={self.d_model}, n_sampled={self.n_sampled}"
