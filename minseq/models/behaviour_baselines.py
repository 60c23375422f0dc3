"""Baselines for the next-behaviour tasks, fitted by counting (no gradient):

    most popular:       P(y) = n(y) / N                           the class prior of training
    first-order Markov: P(y | b) = (n(b, y) + 1) / (n(b) + C)     b = the window's LAST behaviour
    recency (churn):    P(y | a) = (n(a, y) + 1) / (n(a) + C)     a = the LAST event's age bucket

(add-one smoothing; for the binary target C = 2 and the model keeps P(y = 1 | b)). Both return
logits like the trained classifiers (log-probabilities, or log-odds for C = 1), so evaluation
treats every model alike. The fitted table is a parameter, so a checkpoint stores it.
"""

from ..backend import xp
from ..nn.checks import check_range
from .classifier import SequenceClassifier, last_index, split_inputs


class _CountingBaseline(SequenceClassifier):
    """Shared: ``fit(inputs, targets, mask)`` fills ``params["P"]`` (rows, C) of
    probabilities; ``forward`` reads one row per window and returns logits (B, C)."""

    def __init__(self, n_behaviours, n_classes, n_categories=0):
        super().__init__(n_behaviours, n_classes, n_categories)
        self.add_param("P", xp.full((self.n_rows(), n_classes), 1.0 / max(n_classes, 2)))

    def n_rows(self):
        return 1

    def row(self, inputs, mask):
        return xp.zeros(inputs.shape[0], dtype=xp.int64)

    def fit(self, inputs, targets, mask):
        self.check_inputs(inputs, mask)
        n_rows, C = self.params["P"].shape
        n_targets = max(C, 2)                                          # 0/1 when C = 1
        check_range(self, "targets", targets, n_targets)
        rows = self.row(inputs, mask)
        if self.n_classes == 1:
            positive = xp.zeros(n_rows)
            xp.add.at(positive, rows, targets.astype(xp.float64))
            total = xp.bincount(rows, minlength=n_rows).astype(xp.float64)
            self.params["P"][:, 0] = (positive + 1) / (total + 2)
        else:
            n = xp.zeros((n_rows, C))
            xp.add.at(n, (rows, targets), 1.0)
            self.params["P"][...] = (n + 1) / (n.sum(axis=1, keepdims=True) + C)
        return self

    def forward(self, inputs, mask):
        self.check_inputs(inputs, mask)
        p = self.params["P"][self.row(inputs, mask)]                   # (B, C)
        if self.n_classes == 1:
            return xp.log(p) - xp.log1p(-p)                            # log-odds
        return xp.log(p)


class PopularClass(_CountingBaseline):
    """Always the training prior: the most frequent class wins every time."""


class MarkovBehaviour(_CountingBaseline):
    """P(next | last behaviour): one row of probabilities per behaviour 1..K (row 0 unused)."""

    def n_rows(self):
        return self.n_behaviours + 1

    def row(self, inputs, mask):
        behaviour, _ = split_inputs(inputs)
        return behaviour[xp.arange(behaviour.shape[0]), last_index(mask)]


class Recency(_CountingBaseline):
    """The churn baseline, days since the last event: P(churn | the last event's age bucket),
    one row per bucket 1..n_categories (row 0 unused). Inputs are churn windows, (B, T, 2)
    [behaviour, age bucket] (minseq.data.churn); only the last real event's age is read."""

    def __init__(self, n_behaviours, n_classes, n_categories):
        if n_categories < 1:
            raise ValueError(f"Recency: needs the age buckets as n_categories >= 1, got "
                             f"{n_categories}")
        super().__init__(n_behaviours, n_classes, n_categories)

    def n_rows(self):
        return self.n_categories + 1

    def row(self, inputs, mask):
        _, age = split_inputs(inputs)
        return age[xp.arange(age.shape[0]), last_index(mask)]
