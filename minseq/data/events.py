"""The event table: one behaviour log, shared by the generator, every loader and every split.

An ``EventTable`` is parallel NumPy arrays, one entry per event, sorted by user and then by time
(ties keep file order):

    user       (E,) int64   dense user id, 1..n_users
    item       (E,) int64   dense item id, 1..n_items
    category   (E,) int64   dense category id, 1..n_categories, or None when the source has none
    behaviour   (E,) int64   dense behaviour id, 1..n_behaviours (names in ``behaviour_names``)
    timestamp  (E,) int64   time in the source's unit (``meta["time_unit"]``)
    value      (E,) float64 a number attached to each event (MovieLens rating), or None

Id 0 is reserved for padding in every id column, so the ids feed an embedding table directly.
The vocabularies map back: ``user_vocab[u]`` is the original id of dense user ``u``
(``user_vocab[0]`` is a placeholder), likewise ``item_vocab``, ``category_vocab``;
``behaviour_names[b]`` names behaviour ``b`` (``behaviour_names[0] == "<pad>"``). A classifier
over behaviours uses ``behaviour - 1`` as its class id (0..n_behaviours-1).

Per-user sequences: ``offsets`` (n_users + 1,) so that user ``u``'s events are
``offsets[u-1]:offsets[u]``; ``sequences("item")`` returns the list of per-user arrays.
"""

from dataclasses import dataclass, field, replace
from typing import Optional

import numpy as np

PAD = 0
BEHAVIOURS = ("browse", "click", "cart", "favourite", "purchase")


def behaviour_vocab(names):
    """The behaviour vocabulary of a table: ("<pad>", *names)."""
    return ("<pad>",) + tuple(names)


@dataclass
class EventTable:
    user: np.ndarray
    item: np.ndarray
    category: Optional[np.ndarray]
    behaviour: np.ndarray
    timestamp: np.ndarray
    user_vocab: np.ndarray
    item_vocab: np.ndarray
    category_vocab: Optional[np.ndarray]
    behaviour_names: tuple
    value: Optional[np.ndarray] = None
    meta: dict = field(default_factory=dict)

    def __post_init__(self):
        n = len(self.user)
        for name in ("item", "category", "behaviour", "timestamp", "value"):
            col = getattr(self, name)
            if col is not None and len(col) != n:
                raise ValueError(f"EventTable: column {name!r} has {len(col)} entries, "
                                 f"expected {n} (one per event)")
        self.offsets = np.searchsorted(self.user, np.arange(1, self.n_users + 2))
        self.offsets[0] = 0

    # -- sizes ----------------------------------------------------------------------------
    def __len__(self):
        return len(self.user)

    @property
    def n_users(self):
        """Size of the user vocabulary without padding (embedding tables need n_users + 1)."""
        return len(self.user_vocab) - 1

    @property
    def n_items(self):
        return len(self.item_vocab) - 1

    @property
    def n_categories(self):
        return 0 if self.category_vocab is None else len(self.category_vocab) - 1

    @property
    def n_behaviours(self):
        return len(self.behaviour_names) - 1

    def lengths(self):
        """(n_users,) number of events of each user 1..n_users (0 for a user split away)."""
        return np.diff(self.offsets)

    def counts(self):
        """Counts of what is present: events, users, items, categories and each behaviour."""
        present = np.bincount(self.behaviour, minlength=self.n_behaviours + 1)
        return {
            "events": len(self),
            "users": int(np.count_nonzero(self.lengths())),
            "items": len(np.unique(self.item)),
            "categories": 0 if self.category is None else len(np.unique(self.category)),
            "behaviours": {name: int(present[b])
                          for b, name in enumerate(self.behaviour_names) if b},
        }

    # -- per-user views -------------------------------------------------------------------
    def sequences(self, column="item"):
        """List of n_users arrays: entry u-1 holds user u's values of ``column`` in time order."""
        return np.split(getattr(self, column), self.offsets[1:-1])

    def user_events(self, u):
        """Slice of the rows of dense user ``u``."""
        return slice(self.offsets[u - 1], self.offsets[u])

    def position(self):
        """(E,) index of each event within its user's sequence (0 = first)."""
        return np.arange(len(self)) - self.offsets[self.user - 1]

    def select(self, mask):
        """The events where ``mask`` is True, with the same ids and vocabularies."""
        cols = {name: None if getattr(self, name) is None else getattr(self, name)[mask]
                for name in ("user", "item", "category", "behaviour", "timestamp", "value")}
        return replace(self, **cols, meta=dict(self.meta))

    def reindexed(self):
        """The same events with dense ids over what is present (vocabularies shrink to match)."""
        user, user_vocab = _densify(self.user, self.user_vocab)
        item, item_vocab = _densify(self.item, self.item_vocab)
        category, category_vocab = (None, None) if self.category is None else \
            _densify(self.category, self.category_vocab)
        return replace(self, user=user, item=item, category=category, user_vocab=user_vocab,
                       item_vocab=item_vocab, category_vocab=category_vocab,
                       meta=dict(self.meta))

    def summary(self):
        """A few printed lines: sizes, behaviour mix, events per user, time span."""
        c = self.counts()
        lengths = self.lengths()[self.lengths() > 0]
        mix = ", ".join(f"{k} {v} ({v / max(len(self), 1):.1%})"
                        for k, v in c["behaviours"].items())
        lines = [f"events      {c['events']}",
                 f"users       {c['users']}   items {c['items']}   categories {c['categories']}",
                 f"behaviours  {mix}"]
        if len(lengths):
            lines.append(f"per user    min {lengths.min()}  median {int(np.median(lengths))}  "
                         f"mean {lengths.mean():.1f}  max {lengths.max()}")
            unit = self.meta.get("time_unit", "")
            lines.append(f"time        {self.timestamp.min()} .. {self.timestamp.max()} {unit}")
        return "\n".join(lines)


def _densify(ids, vocab):
    """Renumber the present ids 1..k in order; return (new ids, new vocabulary)."""
    present = np.unique(ids)
    return np.searchsorted(present, ids) + 1, np.concatenate([vocab[:1], vocab[present]])


def from_columns(user, item, behaviour, timestamp, behaviour_names, category=None, value=None,
                 meta=None):
    """Build a table from raw columns: original ids (any sortable dtype), behaviour ids 1..K.

    Users, items and categories are renumbered densely from 1 in the order of their original ids
    (0 stays padding), and the events are sorted by user then time, stably.
    """
    user_vocab, user = np.unique(np.asarray(user), return_inverse=True)
    item_vocab, item = np.unique(np.asarray(item), return_inverse=True)
    timestamp = np.asarray(timestamp, dtype=np.int64)
    order = np.lexsort((timestamp, user))
    pad_of = lambda v: np.concatenate([np.zeros(1, v.dtype), v])  # noqa: E731
    cols = dict(user=user[order] + 1, item=item[order] + 1,
                behaviour=np.asarray(behaviour, dtype=np.int64)[order], timestamp=timestamp[order],
                user_vocab=pad_of(user_vocab), item_vocab=pad_of(item_vocab),
                category=None, category_vocab=None)
    if category is not None:
        category_vocab, category = np.unique(np.asarray(category), return_inverse=True)
        cols.update(category=category[order] + 1, category_vocab=pad_of(category_vocab))
    return EventTable(**cols, behaviour_names=tuple(behaviour_names),
                      value=None if value is None else np.asarray(value, np.float64)[order],
                      meta=dict(meta or {}))
