"""Lesson 08, exercise 1: pad and truncate sequences to one length, with their mask (C5).

Fill in ``pad_sequences``, then grade it:  python lessons/08_data.py --exercise 1
The lesson runs your function on its behaviour log (the mask's counts, the padding's zeros, the
events a long sequence keeps), compares it with minseq's pad_sequences for every padding and
truncating, and builds minseq's next-event training pairs (next_event_pairs) on it.
"""

import numpy as np


def pad_sequences(sequences, maxlen=None, padding="post", truncating="pre", value=0,
                  dtype=np.int64):
    """A list of N 1-D sequences (of item ids, say) as one (N, maxlen) array and its mask.

    maxlen: the common length; None = the longest sequence's length.
    truncating: which events a sequence longer than maxlen keeps: "pre" drops the OLDEST
        events and keeps its last maxlen; "post" keeps its first maxlen.
    padding: where a shorter sequence's filler goes: "post" after its events, "pre" before.
    value: the filler (0, the padding id); dtype: the padded array's dtype.

    Returns (padded (N, maxlen) of ``dtype``, mask (N, maxlen) bool, True at the real events).
    """
    # YOUR CODE HERE: an array full of value and an all-False mask, then per sequence: cut it
    # to maxlen as truncating says, and write it (and True in the mask) where padding says.
    n = len(sequences)
    width = max(len(s) for s in sequences) if maxlen is None else maxlen
    return np.full((n, width), value, dtype=dtype), np.zeros((n, width), dtype=bool)
