"""Mini-batches on the active backend, and next-event training pairs from sequences."""

import numpy as np

from .. import backend
from .preprocess import pad_sequences


class Batches:
    """Iterate over (inputs, targets, mask) mini-batches, as arrays of the active backend.

    inputs (N, ...), targets (N, ...), mask (N, ...) or None: host arrays with one row per
    example. Each pass (epoch) shuffles the rows with a generator seeded once by ``seed``, so
    epochs differ and a seed repeats the whole run; ``shuffle=False`` keeps the order. The last
    batch is smaller unless ``drop_last``. A ``None`` mask is yielded as None.
    """

    def __init__(self, inputs, targets, mask=None, batch_size=32, shuffle=True, seed=0,
                 drop_last=False):
        n = len(inputs)
        for name, a in (("targets", targets), ("mask", mask)):
            if a is not None and len(a) != n:
                raise ValueError(f"Batches: {name} has {len(a)} rows, inputs has {n}")
        if batch_size < 1:
            raise ValueError(f"Batches: batch_size must be at least 1, got {batch_size}")
        self.inputs, self.targets, self.mask = inputs, targets, mask
        self.batch_size, self.shuffle, self.drop_last = batch_size, shuffle, drop_last
        self.rng = np.random.default_rng(seed)

    def __len__(self):
        n, b = len(self.inputs), self.batch_size
        return n // b if self.drop_last else -(-n // b)

    def __iter__(self):
        n = len(self.inputs)
        order = self.rng.permutation(n) if self.shuffle else np.arange(n)
        for k in range(len(self)):
            rows = order[k * self.batch_size:(k + 1) * self.batch_size]
            yield (backend.asarray(self.inputs[rows]), backend.asarray(self.targets[rows]),
                   None if self.mask is None else backend.asarray(self.mask[rows]))


def next_event_pairs(sequences, maxlen):
    """Inputs, targets and mask for next-event prediction at every position.

    For each sequence s (1-D ids, 0 = padding), inputs are s[:-1] and targets s[1:] (each
    position predicts the next event), the last ``maxlen`` steps kept and post-padded with 0.
    Sequences shorter than 2 give no pair and are left out. Returns host arrays
    (N, maxlen), (N, maxlen), (N, maxlen) bool.
    """
    sequences = [np.asarray(s) for s in sequences if len(s) >= 2]
    inputs, mask = pad_sequences([s[:-1] for s in sequences], maxlen)
    targets, _ = pad_sequences([s[1:] for s in sequences], maxlen)
    return inputs, targets, mask
