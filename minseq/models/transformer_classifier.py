"""The Transformer-encoder classifier: event embeddings, learned positions, encoder layers,
and the output at the last real event.

    x = Dropout(E[behaviour] (+ E_cat[category]) + P[t])     P: one learned vector per slot
    z = LayerNorm(Encoder_L(... Encoder_1(x, mask)))         pre-LN layers, a final LayerNorm
    logits = z[b, last_b] W + b                              last_b: the last real event of row b

Every attention sees only real events (key-padding mask (B, 1, T), True = may attend); each
position attends both ways, so the last real position sums up the whole window.
"""

from ..backend import xp
from ..nn.dropout import Dropout
from ..nn.layernorm import LayerNorm
from ..nn.linear import Linear
from ..nn.positional import LearnedPositionalEmbedding
from ..nn.transformer import TransformerEncoder, TransformerEncoderLayer
from .classifier import SequenceClassifier, TokenEmbedding, last_index


class TransformerClassifier(SequenceClassifier):
    """inputs (B, T) or (B, T, 2) int with T <= maxlen, mask (B, T) -> logits (B, n_classes).

    Sub-modules: ``embed`` (width ``hidden``), ``positions``, ``dropout``, ``encoder``
    (``layers`` pre-LN TransformerEncoderLayers with ``heads`` heads, d_ff = 2 hidden, ReLU,
    and a final LayerNorm), ``head`` Linear(hidden, n_classes).
    """

    def __init__(self, n_behaviors, n_classes, hidden=32, heads=2, layers=2, maxlen=50,
                 dropout=0.1, n_categories=0):
        super().__init__(n_behaviors, n_classes, n_categories)
        self.kwargs = dict(n_behaviors=n_behaviors, n_classes=n_classes, hidden=hidden,
                           heads=heads, layers=layers, maxlen=maxlen, dropout=dropout,
                           n_categories=n_categories)
        self.embed = TokenEmbedding(n_behaviors, hidden, n_categories)
        self.positions = LearnedPositionalEmbedding(maxlen, hidden)
        self.dropout = Dropout(dropout)
        self.encoder = TransformerEncoder(
            lambda: TransformerEncoderLayer(hidden, heads, d_ff=2 * hidden, dropout=dropout,
                                            activation="relu", norm_first=True),
            layers, norm=LayerNorm(hidden))
        self.head = Linear(hidden, n_classes)

    def forward(self, inputs, mask):
        self.check_inputs(inputs, mask)
        x = self.dropout(self.positions(self.embed(inputs)))          # (B, T, d)
        z = self.encoder(x, mask=mask[:, None, :])                     # (B, T, d)
        rows, last = xp.arange(z.shape[0]), last_index(mask)           # (B,), (B,)
        self._save(z.shape, rows, last)
        return self.head(z[rows, last])                                # (B, C)

    def backward(self, dlogits):
        shape, rows, last = self._take()
        dz = xp.zeros(shape, dtype=dlogits.dtype)                      # (B, T, d)
        dz[rows, last] = self.head.backward(dlogits)                   # one position per row
        dx = self.dropout.backward(self.encoder.backward(dz))
        self.embed.backward(self.positions.backward(dx))
