"""What the next-behaviour classifiers share: inputs, the token embedding, the loss and predictions.

Every classifier reads the recent window of one user:

    inputs (B, T) int    behaviour ids 1..K (0 = padding), or
    inputs (B, T, 2) int [behaviour id, item category id] per event (category 0 = padding)
    mask   (B, T) bool   True = a real event (padding may sit on either side)

and returns logits (B, C): C = K classes for the next behaviour (class id = behaviour - 1,
cross-entropy) or C = 1 for "purchases within the next k events" (binary, BCE with logits).
``forward(inputs, mask) -> logits`` and ``backward(dlogits)`` (returns None: integer inputs have
no gradient); the trainer protocol ``loss(batch)`` / ``backward_loss()`` wraps them with the
loss, and ``predict_proba`` / ``predict`` serve evaluation.
"""

from .. import backend
from ..backend import xp
from ..nn import functional as F
from ..nn.checks import check_array, check_range, check_same_shape
from ..nn.embedding import Embedding
from ..nn.losses import BCEWithLogitsLoss, CrossEntropyLoss
from ..nn.module import Module


def split_inputs(inputs):
    """(behaviour (B, T), category (B, T) or None) from inputs (B, T) or (B, T, 2)."""
    if inputs.ndim == 3:
        return inputs[..., 0], inputs[..., 1]
    return inputs, None


def last_index(mask):
    """(B,) position of each row's last real event: T - 1 - (first True of the reversed row)."""
    T = mask.shape[1]
    return T - 1 - xp.argmax(mask[:, ::-1], axis=1)


class TokenEmbedding(Module):
    """x[b, t] = E_beh[behaviour[b, t]] (+ E_cat[category[b, t]]): one vector per event.

    inputs (B, T) or (B, T, 2) int -> x (B, T, dim). Row 0 of each table is padding (zero,
    never updated). Backward writes both tables' gradients (the same dx reaches each) and
    returns None.
    """

    def __init__(self, n_behaviours, dim, n_categories=0):
        super().__init__()
        self.behaviour = Embedding(n_behaviours + 1, dim, padding_idx=0)
        self.category = Embedding(n_categories + 1, dim, padding_idx=0) if n_categories else None

    def forward(self, inputs):
        behaviour, category = split_inputs(inputs)
        x = self.behaviour(behaviour)
        if self.category is not None:
            if category is None:
                raise ValueError(f"{self.name()}: built with categories, so inputs must be "
                                 f"(batch, time, 2) [behaviour, category], got {inputs.shape}")
            x = x + self.category(category)
        return x

    def backward(self, dx):
        self.behaviour.backward(dx)
        if self.category is not None:
            self.category.backward(dx)


class SequenceClassifier(Module):
    """Base of the classifiers: input checks, loss, trainer protocol and predictions.

    n_behaviours K (ids 1..K), n_classes C (K for the next behaviour, 1 for a binary target),
    n_categories (0: behaviours only). A subclass writes ``forward(inputs, mask)`` and
    ``backward(dlogits)``.
    """

    def __init__(self, n_behaviours, n_classes, n_categories=0):
        super().__init__()
        if n_behaviours < 1 or n_classes < 1 or n_categories < 0:
            raise ValueError(f"{self.name()}: need n_behaviours >= 1, n_classes >= 1 and "
                             f"n_categories >= 0, got {n_behaviours}, {n_classes}, "
                             f"{n_categories}")
        self.n_behaviours, self.n_classes, self.n_categories = n_behaviours, n_classes, n_categories
        self.criterion = CrossEntropyLoss() if n_classes > 1 else BCEWithLogitsLoss()

    def check_inputs(self, inputs, mask):
        """Integer inputs (B, T) [or (B, T, 2) with categories] with behaviour ids in [0, K]
        and category ids in [0, n_categories], mask (B, T) bool, and at least one real event
        per row (explicit host reads)."""
        check_array(self, "inputs", inputs, floating=False)
        if inputs.dtype.kind not in "iu":
            raise TypeError(f"{self.name()}: inputs must hold integer ids, got {inputs.dtype.name}")
        width = 3 if self.n_categories else 2
        if inputs.ndim != width or (width == 3 and inputs.shape[-1] != 2):
            want = "(batch, time, 2)" if self.n_categories else "(batch, time)"
            raise ValueError(f"{self.name()}: inputs must have shape {want}, got {inputs.shape}")
        check_array(self, "mask", mask, floating=False)
        if mask.dtype != xp.bool_:
            raise TypeError(f"{self.name()}: mask must be boolean (True = real event), "
                            f"got {mask.dtype.name}")
        check_same_shape(self, "mask (batch, time)", mask, inputs.shape[:2])
        if backend.checks_read_data() and not backend.read_for_check(mask.any(axis=1).all()):
            raise ValueError(f"{self.name()}: every row needs at least one real event")
        behaviour, category = split_inputs(inputs)
        # ids lie in [0, n] (0 = padding): a count or a table row never wraps or drops an
        # unknown id silently
        check_range(self, "behaviour ids", behaviour, self.n_behaviours, closed=True)
        if category is not None:
            check_range(self, "category ids", category, self.n_categories, closed=True)

    # -- the trainer protocol ---------------------------------------------------------------
    def loss(self, batch):
        """batch (inputs, targets, mask): targets (B,) class ids, or (B,) 0/1 for C = 1."""
        inputs, targets, mask = batch
        logits = self.forward(inputs, mask)
        if self.n_classes == 1:
            targets = targets.reshape(-1, 1).astype(logits.dtype)
        return self.criterion(logits, targets)

    def backward_loss(self):
        self.backward(self.criterion.backward())

    # -- evaluation -------------------------------------------------------------------------
    def predict_proba(self, inputs, mask):
        """(B, C) class probabilities (softmax), or (B,) P(positive) when C = 1."""
        logits = self.forward(inputs, mask)
        if self.n_classes == 1:
            return F.sigmoid(logits[:, 0])
        return F.softmax(logits)

    def predict(self, inputs, mask):
        """(B,) predicted class ids (argmax), or 0/1 labels (P > 0.5) when C = 1."""
        p = self.predict_proba(inputs, mask)
        if self.n_classes == 1:
            return (p > 0.5).astype(xp.int64)
        return xp.argmax(p, axis=1)

    def extra_repr(self):
        return (f"n_behaviours={self.n_behaviours}, n_classes={self.n_classes}, "
                f"n_categories={self.n_categories}")
