"""What several lessons share, kept beside them (it is lesson content, not framework): the
behaviour vocabulary, the one synthetic behaviour log the lessons take their data from, one-hot
encoding, the one sigma and the one softmax of the hand computations (on the active backend),
and the 'cart pending' task on which lessons 03 and 04 train a recurrent layer to read its gates.

A lesson runs as a script, so this folder is on its import path: ``from helpers import ...``.
"""

from dataclasses import replace

import numpy as np

from minseq import backend, checkpoint, nn, optim
from minseq.backend import xp
from minseq.data import BEHAVIOURS, generate

#: The behaviour vocabulary of every lesson: minseq.data's, so the lessons, the generator and
#: the loaders name the same five behaviours. A log stores behaviour b as id b + 1 (0 pads).
EVENTS = BEHAVIOURS

#: The lessons' one behaviour log: generate(n_users=LOG_USERS, n_items=LOG_ITEMS, seed=LOG_SEED)
LOG_USERS, LOG_ITEMS, LOG_SEED = 2000, 300, 0

#: The user whose events the lessons follow by hand: user 13's first six events walk the whole
#: funnel (browse, browse, click, cart, purchase, browse), and it has 118 in all.
USER = 13


def behaviour_log(users=LOG_USERS):
    """The synthetic behaviour log of every lesson (``minseq.data.generate`` with the settings
    above: a first-order funnel browse -> click -> cart -> purchase, items in categories, users
    whose visits fade before they leave). One call with one seed, so user 13 of lesson 02 is
    user 13 of lesson 13, and each lesson builds on the last.

    ``users`` keeps the log's first users 1..users, with their item ids unchanged: a lesson
    that trains takes fewer under --fast. The generator numbers users in random order, so the
    first ones are a fair sample of all."""
    log = generate(n_users=LOG_USERS, n_items=LOG_ITEMS, seed=LOG_SEED)
    if users == LOG_USERS:
        return log
    fading = [u for u in log.meta["fading"] if u <= users]
    return replace(log.select(log.user <= users), user_vocab=log.user_vocab[:users + 1],
                   meta=dict(log.meta, fading=fading))


def first_events(log, user, n):
    """The names of ``user``'s first n behaviours in ``log``."""
    return [EVENTS[b - 1] for b in log.behaviour[log.user_events(user)][:n]]


def windows(log, rng, B, T, users):
    """B windows of T consecutive events of the log, each from a user drawn from ``users``
    (ids; those with fewer than T events are skipped), starting at a random event: (B, T)
    behaviour ids into EVENTS, on the host."""
    users = users[log.lengths()[users - 1] >= T]
    u = rng.choice(users, B)
    start = log.offsets[u - 1] + rng.integers(0, log.lengths()[u - 1] - T + 1)
    return log.behaviour[start[:, None] + np.arange(T)] - 1          # (B, T): id b + 1 -> b


def one_hot(names, vocab=EVENTS):
    """A behaviour sequence as one-hot rows on the active backend: (1, T, len(vocab))."""
    ids = np.array([vocab.index(name) for name in names])
    return backend.asarray(np.eye(len(vocab))[ids][None])


def behaviour_vectors(rng, d):
    """The stand-in for a trained embedding table of lessons 05-07: one d-vector per behaviour
    of EVENTS, (len(EVENTS), d), drawn from ``rng`` on the host and rounded to print."""
    return np.round(rng.normal(size=(len(EVENTS), d)), 2)


def embed(names, table):
    """Behaviour names as rows of ``table`` looked up by behaviour id, (len(names), d): an
    event's vector says which behaviour it is, so two 'browse' events get the same one."""
    return table[[EVENTS.index(name) for name in names]]


def check_embedding(L, names, X):
    """Check that the events ``names`` embedded as the rows of X are embedded by behaviour:
    equal behaviours have equal rows and different behaviours different rows."""
    rows = backend.to_numpy(X)
    same_name = np.array([[a == b for b in names] for a in names])
    same_row = (rows[:, None] == rows[None]).all(axis=-1)
    repeats = [f"{name!r} at events " + " and ".join(str(t + 1) for t in range(len(names))
                                                      if names[t] == name)
               for name in dict.fromkeys(names) if names.count(name) > 1]
    return L.check("equal behaviours get equal vectors, different behaviours different ones "
                   "(one row per behaviour, looked up by its id)",
                   bool((same_name == same_row).all()),
                   "; ".join(repeats) + (": one vector" if repeats else "no repeated behaviour"))


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


def cart_pending(events):
    """Sessions (B, T) of behaviour ids as one-hot x (B, T, len(EVENTS)) in float32 on the
    active backend, the target y (B, T): y_t = 1 while a cart waits for a purchase (a cart
    sets it, a purchase clears it, other behaviours keep it), and the ids on the backend."""
    events = backend.asarray(events)
    cart, purchase = EVENTS.index("cart"), EVENTS.index("purchase")
    y, pending = xp.zeros(events.shape, dtype=xp.float32), xp.zeros(len(events), xp.float32)
    for t in range(events.shape[1]):
        pending = xp.where(events[:, t] == cart, 1, xp.where(events[:, t] == purchase, 0,
                                                               pending))
        y[:, t] = pending
    return xp.eye(len(EVENTS), dtype=xp.float32)[events], y, events


#: The fewest steps the tagged span must hold 'cart pending' for the gates to show memory
MEMORY_STEPS = 5


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


def memory_span(events, T):
    """Where to read a trained tagger's gates in one user's events (ids, on the host): the
    longest 'cart pending' stretch that fits in T events with the event before its cart and
    the purchase that clears it, so the window shows the bit set, held and cleared. Returns
    (the window's first event, the stretch's length): the cart is the window's second event."""
    y = backend.to_numpy(cart_pending(events[None])[1][0])
    starts = np.flatnonzero(np.diff(np.concatenate([[0], y])) == 1)
    lengths = [int(np.argmin(np.append(y[s:], 0))) for s in starts]
    fits = [(n, s) for s, n in zip(starts, lengths)
            if n + 2 <= T and s + n < len(y) and s >= 1 and s - 1 + T <= len(y)]
    if not fits:
        raise ValueError(f"no 'cart pending' stretch with its purchase fits in {T} events")
    n, s = max(fits, key=lambda f: (f[0], -f[1]))
    return int(s) - 1, n


def train_cart_pending(L, recurrent, hidden, steps, T):
    """Train Tagger(recurrent, Linear(hidden, 1)) on 'cart pending' (BCE with logits, Adam,
    batches of 32 windows of 30 events of the behaviour log's users, USER left out), reporting
    the loss three times, then tag T of USER's events, a session it never trained on, chosen
    by ``memory_span`` so that the bit is held for several steps, and check the tags. Returns
    (the session's one-hot x, targets y, behaviour ids, predicted tags)."""
    model = Tagger(recurrent, nn.Linear(hidden, 1))
    opt, loss_fn = optim.Adam(model, lr=0.03), nn.BCEWithLogitsLoss()
    log, rng = behaviour_log(), backend.host_rng(11)
    others = np.setdiff1d(np.arange(1, log.n_users + 1), [USER])
    for step in range(steps + 1):
        seq, y, _ = cart_pending(windows(log, rng, 32, 30, others))
        loss = loss_fn(model(seq)[..., 0], y)
        model.backward(loss_fn.backward()[..., None])
        opt.step()
        if step % (steps // 3) == 0:
            L.say(f"step {step:3d}: loss {float(loss):.4f}")
    mine = log.behaviour[log.user_events(USER)] - 1
    start, held = memory_span(mine, T)
    L.say(f"User {USER}'s events {start + 1}-{start + T}: the cart at event "
          f"{start + 2} stays pending for {held} steps, until a purchase clears it.")
    L.check(f"the tagged span holds the bit for at least {MEMORY_STEPS} steps, so the gates "
            "have something to remember", held >= MEMORY_STEPS, f"{held} steps")
    seq, y, events = cart_pending(mine[None, start:start + T])
    pred = model(seq)[0, :, 0] > 0
    accuracy = float((pred == (y[0] > 0.5)).mean())
    L.check(f"the trained {recurrent.name()} tracks 'cart pending' on these {T} events of "
            f"user {USER} (held out of training)", accuracy > 0.95, f"accuracy {accuracy:.2f}")
    return seq, y, events, pred


def plot_tags(ax, y, pred, events):
    """The bottom panel of lessons 03 and 04's gate figures: the 'cart pending' target and the
    trained tagger's predictions over the tagged events, each step labelled with its event."""
    T = len(backend.to_numpy(events[0]))
    ax.step(range(T), backend.to_numpy(y[0]), where="mid", label="target: cart pending")
    ax.plot(range(T), backend.to_numpy(pred).astype(float), "o", ms=3, label="prediction")
    ax.set_ylabel("y_t")
    ax.legend(fontsize=7, loc="upper right")
    ax.set_xticks(range(T))
    ax.set_xticklabels([EVENTS[int(e)][:4] for e in backend.to_numpy(events[0])], rotation=90,
                       fontsize=7)
    ax.set_xlabel("event (time step)")


def run_probabilities(path, task, table, clock=None):
    """The class probabilities (on the host) that the run saved at ``path`` (a checkpoint of
    ``minseq.tasks.train``) gives ``table``'s windows for ``task``, cut with the run's own
    settings; ``clock``: churn's (first, last) time of the whole log."""
    from minseq.models.registry import MODELS
    from minseq.tasks import next_behaviour
    config = checkpoint.read(path)[2]
    net = MODELS[config["model"]].cls(**config["kwargs"])
    checkpoint.load(path, net)
    data = next_behaviour.windows(table, task, config["settings"], clock)
    return backend.to_numpy(next_behaviour.probabilities(net, data)), data
