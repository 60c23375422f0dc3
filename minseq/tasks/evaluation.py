"""The evaluation protocol for next-item recommenders (the SASRec protocol, plus full ranking).

Split (``data.leave_one_out``, time order): each user's last event is the test target, the
second last the validation target, the rest trains; users with fewer than 3 events only train.
The validation history is the training events; the test history adds the validation event.

Two protocols, both over every user with a held-out event:
(i)  sampled: the target against 100 items drawn uniformly from those the user NEVER interacted
     with (``data.sample_negatives`` over the whole log, fixed seed): HR@10, NDCG@10;
(ii) full ranking: the target against every item of the catalogue: HR@10, NDCG@10, MRR@10.
     Items already in the user's history are NOT excluded (the SASRec code's convention, and
     repeats are real next items in many logs): the model must rank them itself.

Ranks are 0-based and pessimistic: the number of other candidates scoring at least as high as
the target (``metrics.rank_of_target``), so a constant scorer ranks the target last.

    HR@K = mean [rank < K],  NDCG@K = mean [rank < K] / log2(rank + 2),
    MRR@K = mean [rank < K] / (rank + 1)

Scoring is batched: ``model.score_last(histories (B, T), candidates (B, C) or None)``, one call
per batch of users, never a loop over items.
"""

from dataclasses import dataclass

from .. import backend
from ..backend import xp
from ..data import leave_one_out, pad_sequences, sample_negatives
from ..metrics import hit_rate_at_k, ndcg_at_k, rank_of_target, sampled_ranks

K = 10


@dataclass
class Split:
    """One held-out event per user, as host arrays: left-padded histories (U, maxlen) int64,
    targets (U,), negatives (U, n) for the sampled protocol, and the users (U,)."""
    histories: object
    targets: object
    negatives: object
    users: object


def fewest_unseen(table, users):
    """The smallest number of items that one of ``users`` never interacted with."""
    if len(users) == 0:
        return table.n_items
    N = table.n_items
    pairs = xp.unique(backend.asarray(table.user * (N + 1) + table.item))  # distinct (u, i)
    seen = xp.bincount(pairs // (N + 1), minlength=table.n_users + 1)      # (n_users + 1,)
    return N - int(seen[backend.asarray(users)].max())


class Protocol:
    """The leave-one-out split of ``table`` and everything its two evaluations need.

    ``n_negatives`` (100) shrinks on a catalogue so small that some user has fewer unseen
    items; ``self.n_negatives`` is the number used (reported with the metrics).

    ``train_sequences``: per-user training histories (list of arrays, some empty);
    ``valid`` and ``test``: Split; histories keep the last ``maxlen`` items.
    """

    def __init__(self, table, maxlen, n_negatives=100, seed=0):
        self.table, self.maxlen = table, maxlen
        split = leave_one_out(table)
        self.n_negatives = min(n_negatives, fewest_unseen(table, split.test.user))
        self.train_sequences = split.train.sequences("item")
        full = table.sequences("item")
        # a held-out user has >= 3 events: validation sees all but the last two, test all but one
        self.valid = self._split(split.valid, full, 2, self.n_negatives, seed + 1)
        self.test = self._split(split.test, full, 1, self.n_negatives, seed)

    def _split(self, held_out, full, drop, n_negatives, seed):
        users = held_out.user
        hist, _ = pad_sequences([full[u - 1][:-drop] for u in users], self.maxlen, padding="pre")
        negatives = sample_negatives(self.table, n_negatives, seed, users=users)
        return Split(hist, held_out.item, negatives, users)


def ranks(model, split, full, batch_size=512):
    """0-based pessimistic ranks of each target: among all items (full) or among itself and
    its sampled negatives. ``model.score_last`` scores a batch of histories at once."""
    out = []
    for lo in range(0, len(split.targets), batch_size):
        rows = slice(lo, lo + batch_size)
        seq = backend.asarray(split.histories[rows])
        target = backend.asarray(split.targets[rows])
        if full:
            scores = model.score_last(seq)                              # (B, n_items)
            out.append(rank_of_target(scores, target - 1))
        else:
            cand = xp.concatenate([target[:, None], backend.asarray(split.negatives[rows])],
                                  axis=1)                               # (B, 1 + n)
            scores = model.score_last(seq, cand)                        # (B, 1 + n)
            out.append(sampled_ranks(scores[:, 0], scores[:, 1:]))
    return xp.concatenate([backend.asarray(r) for r in out])


def mrr_at_k(r, k=K):
    """MRR@K: mean of 1 / (rank + 1) over targets ranked in the top k, 0 for the others."""
    r = backend.asarray(r).astype(xp.float64)
    return float(xp.where(r < k, 1.0 / (r + 1.0), 0.0).mean())


def sampled_metrics(model, split):
    """{"hr@10", "ndcg@10"} of the sampled protocol (i)."""
    r = ranks(model, split, full=False)
    return {f"hr@{K}": hit_rate_at_k(r, K), f"ndcg@{K}": ndcg_at_k(r, K)}


def full_metrics(model, split):
    """{"hr@10", "ndcg@10", "mrr@10"} of the full-ranking protocol (ii)."""
    r = ranks(model, split, full=True)
    return {f"hr@{K}": hit_rate_at_k(r, K), f"ndcg@{K}": ndcg_at_k(r, K), f"mrr@{K}": mrr_at_k(r)}


def evaluate(model, split):
    """Both protocols: {"sampled": {...}, "full": {...}}, in eval mode."""
    if hasattr(model, "eval"):
        model.eval()
    return {"sampled": sampled_metrics(model, split), "full": full_metrics(model, split)}
