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

    Sub-modules: ``embed`` (width ``d_model``), ``positions``, ``dropout``, ``encoder``
    (``num_layers`` pre-LN TransformerEncoderLayers with ``num_heads`` heads, d_ff = 2 d_model,
    ReLU, and a final LayerNorm), ``head`` Linear(d_model, n_classes).
    """

    def __init__(self, n_behaviours, n_classes, d_model=32, num_heads=2, num_layers=2, maxlen=50,
                 dropout=0.1, n_categories=0):
        super().__init__(n_behaviours, n_classes, n_categories)
        self.embed = TokenEmbedding(n_behaviours, d_model, n_categories)
        self.positions = LearnedPositionalEmbedding(maxlen, d_model)
        self.dropout = Dropout(dropout)
        self.encoder = TransformerEncoder(
            lambda: TransformerEncoderLayer(d_model, num_heads, d_ff=2 * d_model, dropout=dropout,
                                            activation="relu", norm_first=True),
            num_layers, norm=LayerNorm(d_model))
        self.head = Linear(d_model, n_classes)

    def forward(self, inputs, mask):
        self.check_inputs(inputs, mask)
        x = self.dropout(self.positions(self.embed(inputs)))          # (B, T, d)
        z = self.encoder(x, mask=mask[:, None, :])                     # (B, T, d)
        rows, last = xp.arange(z.shape[0]), last_index(mask)           # (B,), (B,)
        self.save_for_backward(z.shape, rows, last)
        return self.head(z[rows, last])                                # (B, C)

    def backward(self, dlogits):
        shape, rows, last = self.saved()
        dz = xp.zeros(shape, dtype=dlogits.dtype)                      # (B, T, d)
        dz[rows, last] = self.head.backward(dlogits)                   # one position per row
        dx = self.dropout.backward(self.encoder.backward(dz))
        self.embed.backward(self.positions.backward(dx))
