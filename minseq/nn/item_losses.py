"""The training losses of a next-item model: the positive item's score against sampled negatives,
or against the whole catalogue.

At each position t a model has a vector h_t and scores item i by s(t, i) = h_t . E[i]
(minseq.models.recommender). The sampled losses take the scores of the candidates
[positive, negative_1 .. negative_K], ``scores`` (..., 1 + K) with the positive in column 0,
and ``real`` (...), True where the position has a next item (False: padding). The full softmax
takes h and E themselves and scores every item, a bounded number of positions at a time.

Every loss is the mean over the real positions, n = max(number of real positions, 1) (no real
position: L = 0 and a zero gradient). ``backward(grad_out=1.0)`` scales by an upstream gradient.

    GBCELoss(beta=1)          -log sigma(s+) - sum_k log(1 - sigma(s_k))    SASRec's BCE
    GBCELoss(beta)            -log sigma(s+)^beta - sum_k log(1 - sigma(s_k))    gSASRec's gBCE
    SampledSoftmaxLoss        -log softmax([s+, s_1 .. s_K])_0                sampled softmax
    CatalogueSoftmaxLoss      -log softmax(s(t, 1) .. s(t, n_items))_target   full softmax
"""

from ..backend import xp
from . import functional as F
from .checks import check_array, check_range, check_same_shape
from .losses import _Loss


def gbce_beta(t, negatives, n_items):
    """gSASRec's calibrated power of the positive (Petrov and Macdonald, RecSys 2023, eq. 8):

        alpha = negatives / (n_items - 1)          the negative sampling rate
        beta = alpha (t (1 - 1/alpha) + 1/alpha)   t in [0, 1]

    t = 0 gives beta = 1 (plain BCE); t = 1 gives beta = alpha, with which the model's
    sigma(s) is calibrated to the probabilities of the full catalogue."""
    if not 0 <= t <= 1:
        raise ValueError(f"gbce_beta: t must lie in [0, 1], got {t}")
    if not 1 <= negatives <= n_items - 1:
        raise ValueError(f"gbce_beta: negatives must lie in [1, n_items - 1 = {n_items - 1}], "
                         f"got {negatives}")
    alpha = negatives / (n_items - 1)
    return alpha * (t * (1 - 1 / alpha) + 1 / alpha)


def _check_sampled(loss, scores, real):
    check_array(loss, "scores", scores, min_ndim=2)
    if scores.shape[-1] < 2:
        raise ValueError(f"{loss.name()}: scores must hold the positive and at least one "
                         f"negative on the last axis, got shape {scores.shape}")
    check_array(loss, "real", real, floating=False)
    if real.dtype != bool:
        raise TypeError(f"{loss.name()}: real must be a boolean mask, got {real.dtype.name}")
    check_same_shape(loss, "real", real, scores.shape[:-1])
    # w_t = real_t / n: each real position's share of the mean; n stays on the device
    real = real.astype(scores.dtype)
    return real / xp.maximum(real.sum(), 1)


class GBCELoss(_Loss):
    """Binary cross-entropy of the positive against K sampled negatives, with the positive's
    probability raised to the power beta (gBCE, Petrov and Macdonald, "gSASRec", RecSys 2023):

        l_t = -log sigma(s_t0)^beta - sum_k log(1 - sigma(s_tk))
            = beta softplus(-s_t0) + sum_k softplus(s_tk)
        L = sum_t w_t l_t,                    w_t = real_t / n

        dL/ds_t0 = w_t beta (sigma(s_t0) - 1),   dL/ds_tk = w_t sigma(s_tk)

    beta = 1 is the BCE of SASRec (one negative in the paper); ``gbce_beta`` gives gSASRec's
    beta from its t. The negatives are summed per position, as in the paper's formula (the
    gSASRec code averages over all 1 + K logits instead: a constant factor 1 / (1 + K)).
    """

    def __init__(self, beta=1.0):
        super().__init__()
        if not beta > 0:
            raise ValueError(f"{self.name()}: beta must be > 0, got {beta}")
        self.beta = beta

    def forward(self, scores, real):
        w = _check_sampled(self, scores, real)
        beta = scores.dtype.type(self.beta)
        l = beta * F.softplus(-scores[..., 0]) + F.softplus(scores[..., 1:]).sum(axis=-1)
        self.save_for_backward(scores, w)
        return (w * l).sum()

    def _gradient(self, scores, w):
        sigma = F.sigmoid(scores)
        ds = sigma * w[..., None]
        ds[..., 0] = w * scores.dtype.type(self.beta) * (sigma[..., 0] - 1)
        return ds

    def extra_repr(self):
        return f"beta={self.beta:g}"


class SampledSoftmaxLoss(_Loss):
    """Softmax cross-entropy of the positive among itself and K sampled negatives (a sampled
    softmax, Jean et al. 2015):

        l_t = -log softmax(s_t)_0 = logsumexp_j(s_tj) - s_t0          j = 0 .. K
        L = sum_t w_t l_t,                    w_t = real_t / n

        dL/ds_tj = w_t (softmax(s_t)_j - [j = 0])

    No logQ correction, on purpose: the correction subtracts log Q(j), the log of item j's
    sampling probability, from every candidate's score. minseq draws negatives uniformly, so
    Q(j) is the same for every item; the same constant subtracted from every score leaves the
    softmax unchanged. (It matters for non-uniform samplers, e.g. in-batch negatives drawn in
    proportion to popularity.)
    """

    def forward(self, scores, real):
        w = _check_sampled(self, scores, real)
        logp = F.log_softmax(scores)                   # (..., 1 + K)
        self.save_for_backward(logp, w)
        return -(w * logp[..., 0]).sum()

    def _gradient(self, logp, w):
        ds = xp.exp(logp)                              # softmax(s_t)
        ds[..., 0] -= 1
        return ds * w[..., None]


class CatalogueSoftmaxLoss(_Loss):
    """Softmax cross-entropy of the next item over every item of the catalogue, scored from
    the positions' vectors h (..., d) and the item table E (n_items + 1, d), row 0 = padding:

        s_t = h_t E[1:]^T                             (n_items,) every item's score
        l_t = logsumexp(s_t) - s_t[y_t - 1]           y_t in 1..n_items the next item
        L = sum_t w_t l_t,                            w_t = [y_t > 0] / n   (0 = padding)

        dL/ds_t = w_t (softmax(s_t) - onehot(y_t - 1))
        dL/dh_t = dL/ds_t E[1:],   dL/dE[1:] = sum_t (dL/ds_t)^T h_t,   dL/dE[0] = 0

    ``forward(h, E, targets)`` returns L; ``backward()`` returns (dL/dh, dL/dE).

    Memory bound: all positions at once would hold N x n_items scores (batch 128 x 50
    positions over 23,715 items: 152 M, 0.6 GB in float32, as much again for their
    gradient). The sum over t is taken ``chunk = max(1, max_scores // n_items)`` positions at
    a time, so beyond the inputs and outputs at most 2 x chunk x n_items values are alive
    (the scores and their exponentials): 2 x 2^22 by default, 32 MB in float32. Forward keeps
    only logsumexp(s_t) per position; backward computes each chunk's scores again from h and
    E (one more product than keeping them, the price of the bound).
    """

    def __init__(self, max_scores=2 ** 22):
        super().__init__()
        if not isinstance(max_scores, int) or max_scores < 1:
            raise ValueError(f"{self.name()}: max_scores must be an integer >= 1, "
                             f"got {max_scores}")
        self.max_scores = max_scores

    def __call__(self, h, E, targets):
        return self.forward(h, E, targets)

    def forward(self, h, E, targets):
        check_array(self, "h", h, min_ndim=1)
        check_array(self, "E", E, ndim=2, last_dim=h.shape[-1], dtype=h.dtype)
        check_array(self, "targets", targets, floating=False)
        if targets.dtype.kind not in "iu":
            raise TypeError(f"{self.name()}: targets must hold integer item ids, "
                            f"got {targets.dtype.name}")
        check_same_shape(self, "targets", targets, h.shape[:-1])
        n_items = E.shape[0] - 1
        check_range(self, "targets", targets, n_items, closed=True)
        hs, y = h.reshape(-1, h.shape[-1]), targets.reshape(-1)      # (N, d), (N,)
        real = (y > 0).astype(h.dtype)
        w = real / xp.maximum(real.sum(), 1)
        col = xp.where(y > 0, y - 1, 0)                               # column of y_t in s_t
        lse = xp.zeros(len(y), dtype=h.dtype)
        s_target = xp.zeros(len(y), dtype=h.dtype)
        for rows in self._chunks(len(y), n_items):
            s = hs[rows] @ E[1:].T                                    # (chunk, n_items)
            lse[rows] = F.logsumexp(s)
            s_target[rows] = s[xp.arange(s.shape[0]), col[rows]]
        self.save_for_backward(hs, E, col, w, lse, h.shape)
        return (w * (lse - s_target)).sum()

    def backward(self, grad_out=1.0):
        hs, E, col, w, lse, shape = self.saved()
        w = w * (grad_out.astype(w.dtype) if isinstance(grad_out, xp.ndarray)
                 else w.dtype.type(grad_out))
        dh = xp.zeros_like(hs)
        dE = xp.zeros_like(E)
        for rows in self._chunks(len(col), E.shape[0] - 1):
            ds = xp.exp(hs[rows] @ E[1:].T - lse[rows, None])         # softmax(s_t)
            ds[xp.arange(ds.shape[0]), col[rows]] -= 1
            ds *= w[rows, None]
            dh[rows] = ds @ E[1:]
            dE[1:] += ds.T @ hs[rows]
        return dh.reshape(shape), dE

    def _chunks(self, N, n_items):
        chunk = max(1, self.max_scores // max(n_items, 1))
        return [slice(lo, lo + chunk) for lo in range(0, N, chunk)]

    def extra_repr(self):
        return f"max_scores={self.max_scores}"
