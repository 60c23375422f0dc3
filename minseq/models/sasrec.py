"""SASRec-style next-item model (Kang and McAuley, "Self-Attentive Sequential Recommendation",
ICDM 2018): causal self-attention over the item history.

    x_t = Dropout(sqrt(d) E[s_t] + P[t])        E (n_items + 1, d) row 0 = padding, P (maxlen, d)
    H = LayerNorm(Block_L(... Block_1(x)))      causal: position t attends to real positions <= t
    r(t, i) = H_t . E[i]                        the input table scores the output (shared)
    L = (1 / n) sum over real t of [ -log sigma(r(t, pos_t)) - log(1 - sigma(r(t, neg_t))) ]

with pos_t the next item, neg_t one item drawn uniformly from the catalogue minus pos_t, and n
the number of real (non-padding) positions. Adam with betas (0.9, 0.98) trains it (the paper's).

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
from ..nn import (Dropout, LayerNorm, LearnedPositionalEmbedding, TransformerEncoder,
                  TransformerEncoderLayer, causal_mask, init)
from ..nn import functional as F
from ..nn.random import RandomStream
from .recommender import ItemRecommender

BETAS = (0.9, 0.98)


class SASRec(ItemRecommender):
    """forward(seq (B, T), candidates=None) -> scores (B, T, n_items), or (B, T, C) for
    candidates (C,) or (B, T, C) (see ItemRecommender); T <= maxlen.

    Sub-modules: ``item_emb`` (Embedding, padding 0), ``pos_emb`` (LearnedPositionalEmbedding
    (maxlen, d_model)), ``emb_dropout``, ``encoder`` (TransformerEncoder of ``num_layers`` pre-LN
    layers and a final LayerNorm ``encoder.norm``). Training: ``loss((inputs, targets, mask))``
    or ``loss((inputs, targets, mask, negatives))`` with (B, T) item ids (0 = padding); without
    negatives, one per position is drawn from the model's own seeded stream.
    """

    def __init__(self, n_items, maxlen=50, d_model=50, num_layers=2, num_heads=1, dropout=0.2,
                 seed=0):
        super().__init__(n_items, d_model)
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
        """One item per position, uniform over the catalogue minus the positive (B, T):
        draw k from 1..n_items-1 and shift k >= target up by one, which skips the target."""
        uniform = self._rng.generator.random(targets.shape)
        k = (uniform * (self.n_items - 1)).astype(targets.dtype) + 1
        return k + (k >= targets)

    def loss(self, batch):
        """The BCE of the module docstring over the real positions (targets > 0) of ``batch``."""
        inputs, targets = batch[0], batch[1]
        neg = batch[3] if len(batch) > 3 else self.negatives(targets)
        scores = self.forward(inputs, xp.stack([targets, neg], axis=-1))  # (B, T, 2)
        real = (targets > 0).astype(scores.dtype)                        # (B, T)
        n = xp.maximum(real.sum(), 1)
        self._loss_cache = (scores, real, n)
        terms = F.softplus(-scores[..., 0]) + F.softplus(scores[..., 1])   # -log s(p) - log(1-s(q))
        return (terms * real).sum() / n

    def backward_loss(self):
        if self._loss_cache is None:
            raise RuntimeError(f"{self.name()}: backward_loss called without a loss before it")
        scores, real, n = self._loss_cache
        self._loss_cache = None
        dscores = xp.stack([F.sigmoid(scores[..., 0]) - 1, F.sigmoid(scores[..., 1])], axis=-1)
        dscores *= (real / n)[..., None]
        self.backward(dscores)

    def extra_repr(self):
        return (f"n_items={self.n_items}, maxlen={self.maxlen}, d_model={self.d_model}, "
                f"num_layers={self.num_layers}, num_heads={self.num_heads}")
