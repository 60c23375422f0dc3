"""What several lessons share, kept beside them (it is lesson content, not framework):
the behaviour vocabulary of the lessons, its one-hot encoding, and the one sigma of the hand
computations (the logistic sigmoid, on the active backend).

A lesson runs as a script, so this folder is on its import path: ``from helpers import ...``.
"""

import numpy as np

from minseq import backend
from minseq.backend import xp

#: The behaviour vocabulary the recurrent lessons encode one-hot.
EVENTS = ("browse", "click", "cart", "purchase")


def one_hot(names, vocab=EVENTS):
    """A behaviour sequence as one-hot rows on the active backend: (1, T, len(vocab))."""
    ids = np.array([vocab.index(name) for name in names])
    return backend.asarray(np.eye(len(vocab))[ids][None])


def sigma(z):
    """The logistic sigmoid 1 / (1 + e^-z), elementwise on the active backend: the gates'
    sigma of the documents (lessons 02 and 03 say where a document's generic sigma is read
    otherwise)."""
    return 1 / (1 + xp.exp(-z))
