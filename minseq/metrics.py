"""Metrics (catalogue section B and ranking), host-side: every function accepts NumPy arrays or
arrays of the active backend (moved to the host first) and returns Python floats or NumPy arrays.

Classification (B5, B7): ``accuracy``, ``precision_recall_f1``, ``confusion_matrix``,
``threshold``. Ranking of scores (B6): ``roc_curve``, ``roc_auc``, and for rare positives
``average_precision`` (PR-AUC) and ``best_f1_threshold``. Regression (B1): ``mse``,
``rmse``, ``mae``. Recommendation: ``rank_of_target`` (full ranking) and ``sampled_ranks``
(target against sampled negatives) give 0-based ranks; ``hit_rate_at_k``, ``ndcg_at_k`` and
``mrr`` average over those ranks.
"""

import numpy as np

from .backend import to_numpy


def _host(*arrays):
    return [np.asarray(to_numpy(a)) for a in arrays]


def _pair(y_true, y_pred, where):
    y_true, y_pred = _host(y_true, y_pred)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"{where}: y_true has shape {y_true.shape}, y_pred {y_pred.shape}")
    if y_true.size == 0:
        raise ValueError(f"{where}: no examples")
    return y_true.ravel(), y_pred.ravel()


# -- classification --------------------------------------------------------------------------
def accuracy(y_true, y_pred):
    """B5: fraction of positions where the predicted label equals the true one."""
    y_true, y_pred = _pair(y_true, y_pred, "accuracy")
    return float(np.mean(y_true == y_pred))


def threshold(probabilities, t=0.5):
    """B7: predicted label 1 where p > t, else 0 (int64, same shape)."""
    return (_host(probabilities)[0] > t).astype(np.int64)


def confusion_matrix(y_true, y_pred, n_classes=None):
    """(K, K) int64 counts: row = true class, column = predicted class, classes 0..K-1
    (K = n_classes, or one more than the largest label seen)."""
    y_true, y_pred = _pair(y_true, y_pred, "confusion_matrix")
    y_true, y_pred = y_true.astype(np.int64), y_pred.astype(np.int64)
    k = int(max(y_true.max(), y_pred.max())) + 1 if n_classes is None else n_classes
    if min(y_true.min(), y_pred.min()) < 0 or max(y_true.max(), y_pred.max()) >= k:
        raise ValueError(f"confusion_matrix: labels must lie in 0..{k - 1}")
    return np.bincount(y_true * k + y_pred, minlength=k * k).reshape(k, k)


def precision_recall_f1(y_true, y_pred, average="binary", pos_label=1, n_classes=None):
    """B5: precision = TP/(TP+FP), recall = TP/(TP+FN), F1 = 2PR/(P+R).

    ``average="binary"``: of class ``pos_label`` (labels 0/1); ``"macro"``: the unweighted mean
    over classes 0..K-1 of each class's P, R and F1; ``None``: three (K,) arrays, one entry
    per class. A ratio whose denominator is 0 counts as 0. Returns (precision, recall, f1).
    """
    cm = confusion_matrix(y_true, y_pred, n_classes)
    tp = np.diag(cm).astype(np.float64)
    p = _ratio(tp, cm.sum(axis=0))
    r = _ratio(tp, cm.sum(axis=1))
    f1 = _ratio(2 * p * r, p + r)
    if average == "binary":
        if pos_label >= len(tp):
            return 0.0, 0.0, 0.0
        return float(p[pos_label]), float(r[pos_label]), float(f1[pos_label])
    if average == "macro":
        return float(p.mean()), float(r.mean()), float(f1.mean())
    if average is None:
        return p, r, f1
    raise ValueError(f"precision_recall_f1: average must be 'binary', 'macro' or None, "
                     f"got {average!r}")


def _ratio(num, den):
    return np.divide(num, den, out=np.zeros_like(num, dtype=np.float64), where=den > 0)


# -- ranking of scores: ROC ------------------------------------------------------------------
def _binary_scores(y_true, scores, where):
    y, s = _pair(y_true, scores, where)
    if not np.isin(y, (0, 1)).all():
        raise ValueError(f"{where}: y_true must hold 0/1 labels")
    if y.min() == y.max():
        raise ValueError(f"{where}: needs both positive and negative examples")
    return y.astype(np.int64), s.astype(np.float64)


def _tie_groups(y_true, scores, where):
    """Scores in descending order, one entry per distinct score: (tp, fp, score), the true and
    false positives of predicting positive where score >= that score."""
    y, s = _binary_scores(y_true, scores, where)
    order = np.argsort(-s, kind="stable")
    s, y = s[order], y[order]
    last = np.r_[np.flatnonzero(s[1:] != s[:-1]), len(s) - 1]  # end of each tie group
    tp = np.cumsum(y)[last]
    return tp, (last + 1) - tp, s[last]


def roc_curve(y_true, scores):
    """B6: (fpr, tpr, thresholds), one point per distinct score, from (0, 0) to (1, 1).

    Point j predicts positive where score >= thresholds[j] (thresholds descending; the first is
    +inf, nothing predicted positive). Tied scores move together, a diagonal step."""
    tp, fp, s = _tie_groups(y_true, scores, "roc_curve")
    return (np.r_[0.0, fp / fp[-1]], np.r_[0.0, tp / tp[-1]], np.r_[np.inf, s])


def average_precision(y_true, scores):
    """PR-AUC as average precision: sum over the distinct scores of (R_j - R_{j-1}) P_j, with
    precision P_j and recall R_j of predicting positive where score >= the j-th highest score.
    A random scorer gets about the positive rate; a perfect one 1."""
    tp, fp, _ = _tie_groups(y_true, scores, "average_precision")
    recall = tp / tp[-1]
    return float(np.sum(np.diff(np.r_[0.0, recall]) * tp / (tp + fp)))


def best_f1_threshold(y_true, scores):
    """(t, F1): the threshold whose labels ``threshold(scores, t)`` (score > t) have the highest
    F1, and that F1; t lies halfway between two distinct scores (below the lowest, when every
    example is best called positive). Choose it on validation data, apply it to the test."""
    tp, fp, s = _tie_groups(y_true, scores, "best_f1_threshold")
    f1 = 2 * tp / (2 * tp + fp + (tp[-1] - tp))
    j = int(np.argmax(f1))
    t = (s[j] + s[j + 1]) / 2 if j + 1 < len(s) else np.nextafter(s[j], -np.inf)
    return float(t), float(f1[j])


def roc_auc(y_true, scores):
    """B6 in rank form: the probability that a random positive scores above a random negative,
    ties counting one half: (sum of positives' ranks - P(P+1)/2) / (P N), ranks 1-based and
    averaged over ties. Equals the area under ``roc_curve``."""
    y, s = _binary_scores(y_true, scores, "roc_auc")
    ranks = _average_ranks(s)
    P = y.sum()
    N = len(y) - P
    return float((ranks[y == 1].sum() - P * (P + 1) / 2) / (P * N))


def _average_ranks(s):
    """1-based ranks in ascending order, tied values sharing their mean rank."""
    order = np.argsort(s, kind="stable")
    sorted_s = s[order]
    starts = np.r_[0, np.flatnonzero(sorted_s[1:] != sorted_s[:-1]) + 1]
    ends = np.r_[starts[1:], len(s)]
    ranks = np.empty(len(s))
    ranks[order] = np.repeat((starts + ends + 1) / 2.0, ends - starts)
    return ranks


# -- regression ------------------------------------------------------------------------------
def mse(y_true, y_pred):
    """B1: mean((y - yhat)^2)."""
    y, p = _pair(y_true, y_pred, "mse")
    return float(np.mean((y.astype(np.float64) - p) ** 2))


def rmse(y_true, y_pred):
    """B1: sqrt(MSE)."""
    return float(np.sqrt(mse(y_true, y_pred)))


def mae(y_true, y_pred):
    """B1: mean(|y - yhat|)."""
    y, p = _pair(y_true, y_pred, "mae")
    return float(np.mean(np.abs(y.astype(np.float64) - p)))


# -- recommendation: ranks and the metrics over them -----------------------------------------
def rank_of_target(scores, target_index):
    """0-based rank of the target among all candidates; ties pessimistic.

    scores (N,) with target_index an int, or (B, N) with target_index (B,). The rank is the
    number of OTHER candidates scoring at least as high as the target, so 0 = strictly first
    and a model that gives every item the same score ranks the target last, not first.
    Returns an int, or (B,) int64.
    """
    scores, idx = _host(scores, target_index)
    single = scores.ndim == 1
    scores, idx = np.atleast_2d(scores), np.atleast_1d(idx).astype(np.int64)
    if scores.ndim != 2 or idx.shape != (len(scores),):
        raise ValueError(f"rank_of_target: scores must be (N,) or (B, N) with target_index "
                         f"() or (B,), got {scores.shape} and {idx.shape}")
    if idx.min() < 0 or idx.max() >= scores.shape[1]:
        raise ValueError(f"rank_of_target: target_index must lie in 0..{scores.shape[1] - 1}")
    if np.isnan(scores).any():
        raise ValueError("rank_of_target: scores contain NaN")
    target = scores[np.arange(len(scores)), idx][:, None]
    ranks = (scores >= target).sum(axis=1) - 1
    return int(ranks[0]) if single else ranks


def sampled_ranks(target_scores, negative_scores):
    """0-based rank of each target among itself and its sampled negatives, ties pessimistic:
    the number of negatives scoring at least as high. target_scores (B,), negative_scores (B, n)
    (the scores of ``data.sample_negatives``' items). Returns (B,) int64."""
    t, neg = _host(target_scores, negative_scores)
    if neg.ndim != 2 or t.shape != (len(neg),):
        raise ValueError(f"sampled_ranks: target_scores (B,) and negative_scores (B, n) "
                         f"expected, got {t.shape} and {neg.shape}")
    return (neg >= t[:, None]).sum(axis=1)


def _ranks(ranks, where):
    ranks = _host(ranks)[0].ravel()
    if ranks.size == 0 or ranks.min() < 0:
        raise ValueError(f"{where}: ranks must be a non-empty array of 0-based ranks")
    return ranks


def hit_rate_at_k(ranks, k):
    """HR@K: the fraction of targets ranked in the top k (rank < k)."""
    return float(np.mean(_ranks(ranks, "hit_rate_at_k") < k))


def ndcg_at_k(ranks, k):
    """NDCG@K with one relevant item: mean of 1 / log2(rank + 2) where rank < k, else 0
    (the ideal DCG is 1, the target first)."""
    r = _ranks(ranks, "ndcg_at_k")
    return float(np.mean(np.where(r < k, 1.0 / np.log2(r + 2.0), 0.0)))


def mrr(ranks):
    """MRR: mean of 1 / (rank + 1)."""
    return float(np.mean(1.0 / (_ranks(ranks, "mrr") + 1.0)))
