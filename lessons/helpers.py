"""What several lessons share, kept beside them (it is lesson content, not framework):
the behaviour vocabulary of the lessons, its one-hot encoding, the one sigma and the one
softmax of the hand computations (on the active backend), and the 'cart pending' task on
which lessons 03 and 04 train a recurrent layer to read its gates.

A lesson runs as a script, so this folder is on its import path: ``from helpers import ...``.
"""

import numpy as np

from minseq import backend, nn, optim
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


def softmax(z, axis=-1):
    """e^z / sum e^z along ``axis``, the largest entry subtracted first (lesson 01's stable
    form), elementwise on the active backend."""
    e = xp.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def behaviour_batch(rng, B, T):
    """Random sessions (B, T) of event ids (browse most often, purchase least), their one-hot
    x (B, T, 4) in float32, and the target y_t = 1 while a cart waits for a purchase."""
    events = backend.asarray(rng.choice(len(EVENTS), size=(B, T), p=[0.5, 0.25, 0.15, 0.1]))
    y, pending = xp.zeros((B, T), dtype=xp.float32), xp.zeros(B, dtype=xp.float32)
    for t in range(T):
        pending = xp.where(events[:, t] == 2, 1, xp.where(events[:, t] == 3, 0, pending))
        y[:, t] = pending
    return xp.eye(len(EVENTS), dtype=xp.float32)[events], y, events


class Tagger(nn.Module):
    """A number per step: z_t = h_t W + b with hs = the recurrent layer's states (its final
    state is not used)."""

    def __init__(self, recurrent, head):
        super().__init__()
        self.recurrent, self.head = recurrent, head

    def forward(self, x):
        hs, _ = self.recurrent(x)
        return self.head(hs)

    def backward(self, dz):
        return self.recurrent.backward(self.head.backward(dz))[0]


def train_cart_pending(L, recurrent, hidden, steps, T):
    """Train Tagger(recurrent, Linear(hidden, 1)) on 'cart pending' (BCE with logits, Adam,
    batches of 32 sessions of 30 events), reporting the loss three times, then tag a new
    session of T events and check the tags. Returns (the session's one-hot x, targets y,
    event ids, predicted tags)."""
    model = Tagger(recurrent, nn.Linear(hidden, 1))
    opt, loss_fn = optim.Adam(model, lr=0.03), nn.BCEWithLogitsLoss()
    rng = backend.host_rng(11)
    for step in range(steps + 1):
        seq, y, _ = behaviour_batch(rng, 32, 30)
        loss = loss_fn(model(seq)[..., 0], y)
        model.backward(loss_fn.backward()[..., None])
        opt.step()
        if step % (steps // 3) == 0:
            L.say(f"step {step:3d}: loss {float(loss):.4f}")
    seq, y, events = behaviour_batch(backend.host_rng(12), 1, T)
    pred = model(seq)[0, :, 0] > 0
    accuracy = float((pred == (y[0] > 0.5)).mean())
    L.check(f"the trained {recurrent.name()} tracks 'cart pending' on a new sequence",
            accuracy > 0.95, f"accuracy {accuracy:.2f}")
    return seq, y, events, pred
