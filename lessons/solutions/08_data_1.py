"""Lesson 08, exercise 1, worked solution: pad and truncate with a mask.

Grade it:  python lessons/08_data.py --exercise 1 --solution
"""

import numpy as np


def pad_sequences(sequences, maxlen=None, padding="post", truncating="pre", value=0,
                  dtype=np.int64):
    """(padded (N, maxlen), mask (N, maxlen) bool) of N 1-D sequences."""
    if maxlen is None:
        maxlen = max(len(s) for s in sequences)
    padded = np.full((len(sequences), maxlen), value, dtype=dtype)
    mask = np.zeros((len(sequences), maxlen), dtype=bool)
    for row, seq in enumerate(sequences):
        # "pre" truncating keeps the newest events: those nearest the one to predict
        kept = seq[-maxlen:] if truncating == "pre" else seq[:maxlen]
        start = 0 if padding == "post" else maxlen - len(kept)
        padded[row, start:start + len(kept)] = kept
        mask[row, start:start + len(kept)] = True      # losses and attention skip the rest
    return padded, mask
