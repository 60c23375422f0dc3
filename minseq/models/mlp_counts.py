"""The MLP over counts of behaviours (the DNN of catalogue A1-A3): order-blind by design.

    n_k = sum_t [behaviour_t = k] [mask_t]      k = 1..K  (and, with categories, one count
                                                        per category after them)
    h = Dropout(ReLU(n W1 + b1))                      (A1, A2)
    logits = h W2 + b2                                (A3: softmax / sigmoid in the loss)

A window's counts say how often each behaviour happened but not in which order, so this model
cannot know the LAST behaviour: the baseline every order-aware model should beat.
"""

from ..backend import xp
from ..nn.activations import ReLU
from ..nn.dropout import Dropout
from ..nn.linear import Linear
from ..nn.module import Sequential
from .classifier import SequenceClassifier, split_inputs


def counts(ids, mask, n, dtype):
    """(B, n) float: how often each id 1..n occurs among the real events (padding-free)."""
    onehot = (ids[..., None] == xp.arange(1, n + 1)) & mask[..., None]   # (B, T, n)
    return onehot.sum(axis=1).astype(dtype)


class MLPCounts(SequenceClassifier):
    """inputs (B, T) or (B, T, 2) int, mask (B, T) -> logits (B, n_classes).

    Sub-modules: ``net`` = Sequential(Linear(K [+ n_categories], d_model), ReLU, Dropout,
    Linear(d_model, n_classes)). The counts are computed from integer ids, so backward only
    writes the MLP's gradients (and returns None).
    """

    def __init__(self, n_behaviours, n_classes, d_model=32, dropout=0.1, n_categories=0):
        super().__init__(n_behaviours, n_classes, n_categories)
        self.net = Sequential(Linear(n_behaviours + n_categories, d_model), ReLU(),
                              Dropout(dropout), Linear(d_model, n_classes))

    def features(self, inputs, mask):
        """(B, K [+ n_categories]) the counts the MLP reads."""
        behaviour, category = split_inputs(inputs)
        dtype = self.net[0].params["W"].dtype
        n = counts(behaviour, mask, self.n_behaviours, dtype)
        if self.n_categories:
            n = xp.concatenate([n, counts(category, mask, self.n_categories, dtype)], axis=1)
        return n

    def forward(self, inputs, mask):
        self.check_inputs(inputs, mask)
        self.save_for_backward(True)
        return self.net(self.features(inputs, mask))

    def backward(self, dlogits):
        self.saved()
        self.net.backward(dlogits)
