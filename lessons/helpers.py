"""What several lessons share, kept beside them (it is lesson content, not framework):
the behaviour vocabulary of the recurrent lessons and its one-hot encoding.

A lesson runs as a script, so this folder is on its import path: ``from helpers import ...``.
"""

import numpy as np

from minseq import backend

#: The behaviour vocabulary the recurrent lessons encode one-hot.
EVENTS = ("browse", "click", "cart", "purchase")


def one_hot(names, vocab=EVENTS):
    """A behaviour sequence as one-hot rows on the active backend: (1, T, len(vocab))."""
    ids = np.array([vocab.index(name) for name in names])
    return backend.asarray(np.eye(len(vocab))[ids][None])
