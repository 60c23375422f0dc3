"""The LSTM classifier: catalogue H4 with its errata fixed.

H4 stacks LSTM(50) -> Dropout(0.2) -> LSTM(50) -> Dropout(0.2) -> Dense(1, sigmoid). Here the
window is a stretch of ONE user's time line (cut per user, after splitting, never shuffled across
time) and the target is the next action, not the next feature row:

    x_t = E[behaviour_t] (+ E_cat[category_t])
    hs^(1) = LSTM_1(x, mask);  hs^(l) = LSTM_l(Dropout(hs^(l-1)), mask)     l = 2 .. num_layers
    logits = Dropout(h_n^(L)) W + b          h_n: the state after the last REAL event

Padding is masked: the state is carried through padded steps, so h_n is the same whether the
window is padded or not.
"""

from ..backend import xp
from ..nn.dropout import Dropout
from ..nn.linear import Linear
from ..nn.lstm import LSTM
from .classifier import SequenceClassifier, TokenEmbedding


class LSTMClassifier(SequenceClassifier):
    """inputs (B, T) or (B, T, 2) int, mask (B, T) -> logits (B, n_classes).

    Sub-modules: ``embed`` (TokenEmbedding, dim ``embed_dim``), ``lstms`` (``num_layers`` LSTMs
    of width ``d_model``), ``dropouts`` (one after each LSTM), ``head`` Linear(d_model,
    n_classes).
    """

    def __init__(self, n_behaviours, n_classes, d_model=32, embed_dim=16, num_layers=1,
                 dropout=0.1, n_categories=0):
        super().__init__(n_behaviours, n_classes, n_categories)
        self.embed = TokenEmbedding(n_behaviours, embed_dim, n_categories)
        self.lstms = [LSTM(embed_dim if k == 0 else d_model, d_model) for k in range(num_layers)]
        self.dropouts = [Dropout(dropout) for _ in range(num_layers)]
        self.head = Linear(d_model, n_classes)

    def forward(self, inputs, mask):
        self.check_inputs(inputs, mask)
        x = self.embed(inputs)                                   # (B, T, E)
        for lstm, drop in zip(self.lstms[:-1], self.dropouts[:-1]):
            x = drop(lstm(x, mask=mask)[0])                      # (B, T, H)
        hs, (h_n, _) = self.lstms[-1](x, mask=mask)              # (B, T, H), (B, H)
        self.save_for_backward(hs.shape)
        return self.head(self.dropouts[-1](h_n))                 # (B, C)

    def backward(self, dlogits):
        (shape,) = self.saved()
        dh_n = self.dropouts[-1].backward(self.head.backward(dlogits))       # (B, H)
        # only the final state feeds the head: no gradient reaches the top layer's outputs
        dx = self.lstms[-1].backward(xp.zeros(shape, dtype=dh_n.dtype), (dh_n, None))[0]
        for lstm, drop in zip(reversed(self.lstms[:-1]), reversed(self.dropouts[:-1])):
            dx = lstm.backward(drop.backward(dx))[0]
        self.embed.backward(dx)
