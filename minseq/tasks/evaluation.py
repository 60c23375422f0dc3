"""The evaluation protocol for next-item recommenders (the SASRec protocol, plus full ranking).

Split (``data.leave_one_out``, time order): each user's last event is the test target, the
second last the validation target, the rest trains; users with fewer than 3 events only train.
The validation history is the training events; the test history adds the validation event.

Two protocols, both over every user with a held-out event:
(i)  sampled: the target against ``n_negatives`` (default 100) items drawn uniformly from those
     the user NEVER interacted with (``data.sample_negatives`` over the whole log, fixed seed);
     ``n_negatives=0`` leaves this protocol out;
(ii) full ranking: the target against every item of the catalogue. By default items already in
     the user's history are NOT excluded (the SASRec code's convention, and repeats are real next
     items in many logs): the model must rank them itself. ``exclude_seen=True`` (RecBole's
     default) drops every item of the user's history except the target from the ranking.

Each protocol reports, for each cutoff K of ``ks`` (default 10), the names RecBole uses:
``hit@K``, ``recall@K``, ``ndcg@K`` and ``mrr@K``. With one held-out item per user recall@K
equals hit@K (the one relevant item is found or not); both are listed so a table read beside
RecBole's has every column.

Ranks are 0-based and pessimistic: the number of other candidates scoring at least as high as
the target (``metrics.rank_of_target``), so a constant scorer ranks the target last.

    hit@K = recall@K = mean [rank < K],  NDCG@K = mean [rank < K] / log2(rank + 2),
    MRR@K = mean [rank < K] / (rank + 1)

Scoring is batched: ``model.score_last(histories (B, T), candidates (B, C) or None)``, one call
per batch of users, never a loop over items.
"""

from dataclasses import dataclass

import numpy as np

from .. import backend
from ..backend import xp
from ..data import leave_one_out, pad_sequences, sample_negatives
from ..data.tasks import NEXT_ITEM
from ..metrics import hit_rate_at_k, ndcg_at_k, rank_of_target, sampled_ranks
from ..parallel.comm import SingleProcess
from ..parallel.processes import shared_rows

K = 10  # the cutoff early stopping watches when it is among the cutoffs asked for


@dataclass
class Split:
    """One held-out event per user, as host arrays: left-padded histories (U, maxlen) int64,
    targets (U,), negatives (U, n) for the sampled protocol, the users (U,), and ``seen``: the
    (row, item) pairs of each user's whole history before the target, sorted by row (what
    ``exclude_seen`` drops from the full ranking)."""
    histories: object
    targets: object
    negatives: object
    users: object
    seen: object = None


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
        before = [full[u - 1][:-drop] for u in users]
        hist, _ = pad_sequences(before, self.maxlen, padding="pre")
        negatives = sample_negatives(self.table, n_negatives, seed, users=users)
        rows = np.repeat(np.arange(len(users)), [len(b) for b in before])
        items = np.concatenate(before) if before else np.zeros(0, np.int64)
        return Split(hist, held_out.item, negatives, users, np.stack([rows, items]))


def drop_seen(scores, split, lo, target):
    """Set to -inf the full-ranking scores (B, n_items) of rows lo.. of every item their user
    has seen, except the target itself."""
    rows, items = split.seen
    a, b = np.searchsorted(rows, [lo, lo + scores.shape[0]])
    r, i = backend.asarray(rows[a:b] - lo), backend.asarray(items[a:b])
    keep = i == target[r]
    scores[r[~keep], i[~keep] - 1] = -xp.inf
    return scores


def ranks(model, split, full, batch_size=512, exclude_seen=False, comm=None):
    """0-based pessimistic ranks of each target: among all items (full; without the user's
    other seen items with ``exclude_seen``) or among itself and its sampled negatives.
    ``model.score_last`` scores a batch of histories at once; the batches are dealt out to the
    processes of ``comm`` (minseq.parallel.processes.shared_rows)."""
    def rows(lo, hi):
        seq = backend.asarray(split.histories[lo:hi])
        target = backend.asarray(split.targets[lo:hi])
        if full:
            scores = model.score_last(seq)                              # (B, n_items)
            if exclude_seen:
                scores = drop_seen(xp.array(scores, dtype=xp.float64), split, lo, target)
            return backend.asarray(rank_of_target(scores, target - 1))
        cand = xp.concatenate([target[:, None], backend.asarray(split.negatives[lo:hi])],
                              axis=1)                                   # (B, 1 + n)
        scores = model.score_last(seq, cand)                            # (B, 1 + n)
        return backend.asarray(sampled_ranks(scores[:, 0], scores[:, 1:]))

    return shared_rows(comm or SingleProcess(), len(split.targets), batch_size, rows,
                       dtype=xp.int64)


def mrr_at_k(r, k=K):
    """MRR@K: mean of 1 / (rank + 1) over targets ranked in the top k, 0 for the others."""
    r = backend.asarray(r).astype(xp.float64)
    return float(xp.where(r < k, 1.0 / (r + 1.0), 0.0).mean())


def ranking_metrics(r, ks=(K,)):
    """{"hit@K", "recall@K", "ndcg@K", "mrr@K"} for each K of ``ks``, from 0-based ranks."""
    out = {}
    for k in ks:
        hit = hit_rate_at_k(r, k)
        out.update({f"hit@{k}": hit, f"recall@{k}": hit, f"ndcg@{k}": ndcg_at_k(r, k),
                    f"mrr@{k}": mrr_at_k(r, k)})
    return out


def sampled_metrics(model, split, ks=(K,), comm=None):
    """The metrics of the sampled protocol (i)."""
    return ranking_metrics(ranks(model, split, full=False, comm=comm), ks)


def full_metrics(model, split, ks=(K,), exclude_seen=False, comm=None):
    """The metrics of the full-ranking protocol (ii)."""
    return ranking_metrics(ranks(model, split, full=True, exclude_seen=exclude_seen,
                                 comm=comm), ks)


def monitored(ks, n_negatives):
    """The validation metric early stopping watches: the task's (NDCG) at cutoff 10 (or the
    largest one asked for), sampled unless there are no negatives."""
    return (f"{'sampled' if n_negatives else 'full'} "
            f"{NEXT_ITEM.metric(NEXT_ITEM.monitor, K if K in ks else max(ks))}")


def validation_metrics(model, split, ks=(K,), exclude_seen=False, comm=None):
    """The validation metrics after an epoch, named "sampled ndcg@10" or "full ndcg@10": the
    sampled protocol, or the full ranking when the split has no negatives."""
    sampled = split.negatives.shape[1] > 0
    metrics = sampled_metrics(model, split, ks, comm) if sampled else \
        full_metrics(model, split, ks, exclude_seen, comm)
    return {f"{'sampled' if sampled else 'full'} {k}": v for k, v in metrics.items()}


def evaluate(model, split, ks=(K,), exclude_seen=False, comm=None):
    """Both protocols, {"sampled": {...}, "full": {...}} ("full" only when the split has no
    negatives), in eval mode; ``comm``: the processes that share the work."""
    if hasattr(model, "eval"):
        model.eval()
    out = {"sampled": sampled_metrics(model, split, ks, comm)} if split.negatives.shape[1] \
        else {}
    return dict(out, full=full_metrics(model, split, ks, exclude_seen, comm))
