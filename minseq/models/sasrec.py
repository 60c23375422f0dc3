"""SASRec-style next-item model (Kang and McAuley, "Self-Attentive Sequential Recommendation",
ICDM 2018): causal self-attention over the item history.

    x_t = Dropout(sqrt(d) E[s_t] + P[t])        E (n_items + 1, d) row 0 = padding, P (maxlen, d)
    H = LayerNorm(Block_L(... Block_1(x)))      causal: position t attends to real positions <= t
    r(t, i) = H_t . E[i]                        the input table scores the output (shared)
    L = (1 / n) sum over real t of [ -log sigma(r(t, pos_t)) - log(1 - sigma(r(t, neg_t))) ]

with pos_t the next item, neg_t one item drawn uniformly from the catalogue minus pos_t, and n
the number of real (non-padding) positions. Adam with betas (0.9, 0.98) trains it (the paper's).

That BCE with one negative is the paper's loss, ``loss="bce"``. The others (minseq.nn.item_losses)
learn more from each position, because more items push back on the positive:

    "bce"         the paper's, with ``loss_negatives`` negatives per position (default 1)
    "gbce"        gSASRec's gBCE: the positive's sigma raised to beta = gbce_beta(gbce_t, K,
                  n_items), K = ``loss_negatives`` (default 256, gSASRec's; t 0.75)
    "sampled-ce"  softmax over the positive and K negatives (default 256), no logQ correction
                  (uniform negatives: it would shift every score alike)
    "ce"          softmax over the whole catalogue, in chunks of positions (bounded memory)

Negatives are drawn per position, uniformly over the catalogue minus the positive, with
replacement; the default K is capped at n_items - 1 on a tiny catalogue.

Each Block is a pre-LN Transformer encoder layer (``TransformerEncoderLayer(norm_first=True)``):
x + Dropout(Attn(LN(x))), then x + Dropout(FFN(LN(x))), FFN = ReLU with inner width d. The
official code is pre-LN too but adds the *normalised* query LN(x) in the attention residual and
attends from LN(x) to the raw x; here the block is the standard pre-LN one. Padding: the
attention mask is causal AND key-is-real (True = may attend), so padded positions are never
attended to; the official code instead zeroes padded positions after every block.
Embeddings start Xavier-normal, as the official PyTorch code initialises every weight.
"""

import math

from ..backend import xp
from ..nn import (CatalogueSoftmaxLoss, Dropout, GBCELoss, LayerNorm, LearnedPositionalEmbedding,
                  SampledSoftmaxLoss, TransformerEncoder, TransformerEncoderLayer, causal_mask,
                  gbce_beta, init)
from ..nn.random import RandomStream
from .recommender import ItemRecommender, check_ids, item_scores, item_scores_backward

BETAS = (0.9, 0.98)
#: the training losses (``loss``), and the negatives per position each draws unless told
LOSSES = ("bce", "ce", "sampled-ce", "gbce")
DEFAULT_NEGATIVES = {"bce": 1, "sampled-ce": 256, "gbce": 256}
GBCE_T = 0.75  # gSASRec's t


class SASRec(ItemRecommender):
    """forward(seq (B, T), candidates=None) -> scores (B, T, n_items), or (B, T, C) for
    candidates (C,) or (B, T, C) (see ItemRecommender); T <= maxlen.

    Sub-modules: ``item_emb`` (Embedding, padding 0), ``pos_emb`` (LearnedPositionalEmbedding
    (maxlen, d_model)), ``emb_dropout``, ``encoder`` (TransformerEncoder of ``num_layers`` pre-LN
    layers and a final LayerNorm ``encoder.norm``). Training: ``loss((inputs, targets, mask))``
    or ``loss((inputs, targets, mask, negatives))`` with (B, T) item ids (0 = padding) and
    negatives (B, T) or (B, T, K); without them, ``loss_negatives`` per position are drawn from
    the model's own seeded stream. ``loss``, ``loss_negatives``, ``gbce_t``: the training loss
    (module docstring).
    """

    def __init__(self, n_items, maxlen=50, d_model=50, num_layers=2, num_heads=1, dropout=0.2,
                 loss="bce", loss_negatives=None, gbce_t=GBCE_T, seed=0):
        super().__init__(n_items, d_model)
        self.loss_name, self.n_negatives, self.gbce_t = loss, _negatives(loss, loss_negatives,
                                                                         n_items), gbce_t
        self.criterion = _criterion(loss, self.n_negatives, gbce_t, n_items)
        self.maxlen, self.num_layers, self.num_heads, self.dropout_p = (maxlen, num_layers,
                                                                         num_heads, dropout)
        d = d_model
        xavier_std = math.sqrt(2.0 / (n_items + 1 + d))
        self.item_emb.params["W"][1:] = init.normal((n_items, d), xavier_std)
        self.pos_emb = LearnedPositionalEmbedding(maxlen, d)
        self.pos_emb.params["W"][...] = init.normal((maxlen, d), math.sqrt(2.0 / (maxlen + d)))
        self.emb_dropout = Dropout(dropout)
        self.encoder = TransformerEncoder(
            lambda: TransformerEncoderLayer(d, num_heads, d_ff=d, dropout=dropout,
                                            norm_first=True), num_layers, norm=LayerNorm(d, 1e-8))
        self.seed, self._rng, self._loss_cache = seed, RandomStream(seed), None

    def encode(self, seq):
        scale = math.sqrt(self.d_model)
        x = self.item_emb(seq) * scale                                  # (B, T, d)
        x = self.emb_dropout(self.pos_emb(x))
        real = seq != 0                                                 # (B, T)
        mask = causal_mask(seq.shape[1])[None] & real[:, None, :]      # (B, T, T) query, key
        self._scale = scale
        return self.encoder(x, mask=mask)                               # (B, T, d)

    def encode_backward(self, dh):
        dx = self.pos_emb.backward(self.emb_dropout.backward(self.encoder.backward(dh)))
        self.item_emb.backward(dx * dx.dtype.type(self._scale))

    @property
    def attention_weights(self):
        """Attention weights of each block's last forward, [(B, heads, T, T), ...], for plots."""
        return [layer.self_attn.weights for layer in self.encoder.layers]

    def negatives(self, targets):
        """``loss_negatives`` items per position, uniform over the catalogue minus the positive
        (targets.shape + (K,)): draw k from 1..n_items-1 and shift k >= target up by one, which skips it."""
        uniform = self._rng.generator.random(targets.shape + (self.n_negatives,))
        k = (uniform * (self.n_items - 1)).astype(targets.dtype) + 1
        return k + (k >= targets[..., None])

    def loss(self, batch):
        """The training loss (module docstring) over the real positions (targets > 0) only
        (``real_rows``: on Video.txt at maxlen 50, 88 % of a batch's positions are padding);
        the mean over them is the same as with the padding scored and weighted 0."""
        inputs, targets = batch[0], batch[1]
        self._loss_cache = None
        h, y = self.real_rows(inputs, targets)                          # (n, d), (n,)
        E = self.item_emb.params["W"]
        candidates = None
        if self.loss_name == "ce":
            value = self.criterion(h, E, y)
        else:
            neg = self.negatives(y) if len(batch) < 4 else \
                self._given(batch[3], targets)[self._real_rows[0]]     # (n, K)
            candidates = xp.concatenate([y[:, None], neg], axis=-1)     # (n, 1 + K)
            check_ids(self, "candidates", candidates, self.n_items)
            value = self.criterion(item_scores(h, E, candidates),
                                   xp.ones(len(y), dtype=bool))
        self._loss_cache = (h, candidates)
        return value

    def _given(self, negatives, targets):
        """Negatives handed in with the batch, (B, T) or (B, T, K), as (B T, K) rows."""
        if negatives.ndim not in (targets.ndim, targets.ndim + 1) or \
                negatives.shape[:targets.ndim] != targets.shape:
            raise ValueError(f"{self.name()}: negatives must have shape {targets.shape} or "
                             f"{targets.shape + ('K',)}, got {negatives.shape}")
        return negatives.reshape(targets.size, -1)

    def backward_loss(self):
        if self._loss_cache is None:
            raise RuntimeError(f"{self.name()}: backward_loss called without a loss before it")
        (h, candidates), self._loss_cache = self._loss_cache, None
        if candidates is None:
            dh, dE_scoring = self.criterion.backward()
        else:
            E = self.item_emb.params["W"]
            dE_scoring = xp.zeros_like(E)
            dh = item_scores_backward(self.criterion.backward(), h, E, dE_scoring, candidates)
        self.real_rows_backward(dh, dE_scoring)

    def extra_repr(self):
        return (f"n_items={self.n_items}, maxlen={self.maxlen}, d_model={self.d_model}, "
                f"num_layers={self.num_layers}, num_heads={self.num_heads}, "
                f"loss={self.loss_name}" + (f", loss_negatives={self.n_negatives}"
                                            if self.n_negatives else ""))


def _negatives(loss, given, n_items):
    """The negatives per position of ``loss`` (0 for "ce"): ``given``, or the loss's default
    capped at n_items - 1; a ValueError names a bad one."""
    if loss not in LOSSES:
        raise ValueError(f"SASRec: loss must be one of {', '.join(LOSSES)}, got {loss!r}")
    if loss == "ce":
        return 0
    if given is None:
        return max(1, min(DEFAULT_NEGATIVES[loss], n_items - 1))
    if not isinstance(given, int) or isinstance(given, bool) or given < 1:
        raise ValueError(f"SASRec: loss_negatives must be an integer >= 1, got {given}")
    if loss == "gbce" and given > n_items - 1:
        raise ValueError(f"SASRec: gbce draws at most n_items - 1 = {n_items - 1} negatives "
                         f"per position, got loss_negatives {given}")
    return given


def _criterion(loss, negatives, t, n_items):
    if loss == "ce":
        return CatalogueSoftmaxLoss()
    if loss == "sampled-ce":
        return SampledSoftmaxLoss()
    return GBCELoss(1.0 if loss == "bce" else gbce_beta(t, negatives, n_items))
