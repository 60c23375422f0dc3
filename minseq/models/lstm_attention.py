"""The LSTM + attention-pooling classifier: catalogue H2, with E3 done right.

    hs = LSTM(E[behaviour], mask)          (B, T, H), and h_n the state after the last real event
    s_t = h_n . h_t / sqrt(H)              query = the last state, keys = values = every state
    alpha = softmax_t(s) over the REAL steps only        (ONE softmax over time; E3 applies two)
    context = sum_t alpha_t h_t            a weighted SUM (E3 writes an elementwise product)
    logits = Dropout([context, h_n]) W + b     the head reads the pooled context beside the query

The document's FC reads the context alone; a weighted average of states blurs the last event,
which carries most of the signal for the next behaviour, so the head also sees h_n itself.

The attention is ``nn.ScaledDotProductAttention`` with q = h_n (B, 1, H), k = v = hs and the
padding mask (B, 1, T); its backward gives (dq, dk, dv), and the LSTM receives dk + dv at every
step and dq at its final state.
"""

from ..backend import xp
from ..nn.attention import ScaledDotProductAttention
from ..nn.dropout import Dropout
from ..nn.linear import Linear
from ..nn.lstm import LSTM
from .classifier import SequenceClassifier, TokenEmbedding


class LSTMAttentionClassifier(SequenceClassifier):
    """inputs (B, T) or (B, T, 2) int, mask (B, T) -> logits (B, n_classes).

    Sub-modules: ``embed``, ``lstm`` (width ``d_model``), ``pool`` (ScaledDotProductAttention),
    ``dropout``, ``head`` Linear(2 d_model, n_classes). ``attention_weights`` gives alpha (B, T) of
    the last forward (0 at padding), for plots.
    """

    def __init__(self, n_behaviours, n_classes, d_model=32, embed_dim=16, dropout=0.1,
                 n_categories=0):
        super().__init__(n_behaviours, n_classes, n_categories)
        self.embed = TokenEmbedding(n_behaviours, embed_dim, n_categories)
        self.lstm = LSTM(embed_dim, d_model)
        self.pool = ScaledDotProductAttention()
        self.dropout = Dropout(dropout)
        self.head = Linear(2 * d_model, n_classes)

    @property
    def attention_weights(self):
        """alpha (B, T) of the last forward."""
        w = self.pool.weights
        return None if w is None else w[:, 0]

    def forward(self, inputs, mask):
        self.check_inputs(inputs, mask)
        hs, (h_n, _) = self.lstm(self.embed(inputs), mask=mask)       # (B, T, H), (B, H)
        q = h_n[:, None, :]                                            # (B, 1, H)
        context = self.pool(q, hs, hs, mask=mask[:, None, :])          # (B, 1, H)
        pooled = xp.concatenate([context[:, 0], q[:, 0]], axis=1)     # (B, 2H)
        self.save_for_backward(q.shape[-1])
        return self.head(self.dropout(pooled))                         # (B, C)

    def backward(self, dlogits):
        (H,) = self.saved()
        dpooled = self.dropout.backward(self.head.backward(dlogits))   # (B, 2H)
        dq, dk, dv = self.pool.backward(dpooled[:, None, :H])          # (B,1,H), (B,T,H) x 2
        dh_n = dq[:, 0] + dpooled[:, H:]                               # query and head both
        dx, _, _ = self.lstm.backward(dk + dv, (dh_n, None))           # (B, T, E)
        self.embed.backward(dx)
