"""Top-k recommendations from a next-item checkpoint, in raw ids.

    model = Recommender("out/train/sasrec/run-1/best.npz")
    model.top_k(model.history_of(table, "42"), k=10)      # [(raw item id, score), ...]
    model.top_k(model.items_of(["B0001", "B0007"]), k=5, include_seen=True)

The checkpoint's vocabularies map raw ids to the dense ids the model was trained on and back:
``score_last``'s column j scores dense item j + 1, whose raw id is ``vocab["item"][j + 1]``.
The items of the history are left out unless ``include_seen``.
"""

import numpy as np

from .. import backend, checkpoint
from ..data import pad_sequences
from ..data.tasks import NEXT_ITEM
from ..models.registry import MODELS


class Recommender:
    """A next-item model rebuilt from its checkpoint, with its vocabularies."""

    def __init__(self, path):
        self.path = path
        self.config = checkpoint.read(path)[2]
        spec = MODELS.get(self.config.get("model"))
        if spec is None or spec.task != NEXT_ITEM:
            known = ", ".join(m for m, s in MODELS.items() if s.task == NEXT_ITEM)
            raise checkpoint.CheckpointError(
                f"checkpoint {path} holds a {self.config.get('model')!r} model; recommend "
                f"needs a next-item model ({known})")
        self.vocab = checkpoint.vocabularies(path)
        if "item" not in self.vocab:
            raise checkpoint.CheckpointError(f"checkpoint {path} holds no item vocabulary "
                                             "(written before checkpoints kept one)")
        self.model = spec.cls(**self.config["kwargs"])
        checkpoint.load(path, self.model)
        self.model.eval()
        self.item_index = {str(v): i for i, v in enumerate(self.vocab["item"]) if i}

    def items_of(self, raw_items):
        """Dense ids of raw item ids; an id the model never saw is a ValueError naming it."""
        unknown = [r for r in raw_items if str(r) not in self.item_index]
        if unknown:
            raise ValueError(f"item(s) {', '.join(map(str, unknown[:5]))} not in the "
                             f"checkpoint's vocabulary of {len(self.item_index)} items")
        return np.array([self.item_index[str(r)] for r in raw_items], dtype=np.int64)

    def history_of(self, table, user):
        """Dense item ids of raw ``user``'s events in ``table`` (the checkpoint's data)."""
        users = {str(v): u for u, v in enumerate(table.user_vocab) if u}
        if str(user) not in users:
            raise ValueError(f"user {user} is not in {table.meta.get('source', 'the data')}")
        return table.item[table.user_events(users[str(user)])]

    def top_k(self, history, k=10, include_seen=False):
        """[(raw item id, score), ...] best first, for dense item ids ``history``."""
        seq, _ = pad_sequences([history], self.config["maxlen"], padding="pre")
        scores = backend.to_numpy(self.model.score_last(backend.asarray(seq)))[0]
        scores = scores.astype(np.float64)
        if not include_seen:
            scores[np.asarray(history) - 1] = -np.inf
        order = np.argsort(-scores, kind="stable")[:k]
        order = order[np.isfinite(scores[order])]
        return [(self.vocab["item"][j + 1].item(), float(scores[j])) for j in order]
