# %%
"""Losses and metrics: MSE, a cross-entropy that ignores its label, precision, ROC/AUC, HR and NDCG.

Catalogue section B (B1, B3-B7) and the ranking metrics of next-item recommendation, each computed
by hand on a few numbers and checked against ``minseq.metrics`` and ``minseq.losses``. The hand
computations run on the active backend (``xp``); ``minseq.metrics`` is host-side and takes either.
"""

from unittest import mock

import matplotlib.pyplot as plt
import numpy as np

from minseq import backend, metrics as M
from minseq.backend import xp
from minseq.gradcheck import numerical_gradient
from minseq.lesson import Exercise, Lesson
from minseq.lessons_support.notebook import conclude
from minseq.nn import BCEWithLogitsLoss, MSELoss

from helpers import sigma

#: B3: predicted purchase probabilities of four sessions, and what happened
P_PURCHASE = np.array([0.9, 0.6, 0.2, 0.7])
T_PURCHASE = np.array([1.0, 0.0, 0.0, 1.0])
#: B5-B7: eight true labels and their scores (one tie, 0.3, between a positive and a negative)
Y_TRUE = np.array([1, 0, 1, 1, 0, 0, 1, 0])
SCORES = np.array([0.95, 0.8, 0.7, 0.45, 0.4, 0.3, 0.3, 0.1])
#: ranking: three users' scores of six items, their target items, and the targets' ranks by hand
ITEM_SCORES = np.array([[0.1, 0.9, 0.3, 0.5, 0.2, 0.0],   # user A, target item 3
                        [0.7, 0.1, 0.7, 0.2, 0.6, 0.4],   # user B, target item 2
                        [0.2, 0.3, 0.1, 0.4, 0.5, 0.6]])  # user C, target item 0
TARGET = np.array([3, 2, 0])
RANKS_BY_HAND = np.array([1, 1, 4])  # A: 0.9 beats it; B: a tie counts against it


def pairs_won(y_true, scores):
    """(positives, negatives): 1 where the positive scores above the negative, 1/2 for a tie."""
    pos, neg = scores[y_true == 1], scores[y_true == 0]
    return (pos[:, None] > neg[None, :]) + 0.5 * (pos[:, None] == neg[None, :])


def ranking_metrics(ranks, k=3):
    """[HR@k, NDCG@k, MRR] of 0-based ranks, from the step's formulas, on the active backend."""
    ranks = backend.asarray(ranks)
    hit = ranks < k
    return xp.stack([hit.mean(), xp.where(hit, 1 / xp.log2(ranks + 2), 0).mean(),
                     (1 / (ranks + 1)).mean()])


def loss_forward_with(bce_with_logits):
    """BCEWithLogitsLoss.forward with the student's function inside: its loss forward, and the
    gradient it returns kept for backward."""
    def forward(self, pred, target):
        loss, dpred = bce_with_logits(pred, target)
        self.save_for_backward(dpred)
        return loss
    return forward


def saved_gradient(self, dpred):
    """BCEWithLogitsLoss's gradient when its forward kept dL/dpred itself."""
    return dpred


def grade_bce_with_logits(L, bce_with_logits):
    """Exercise 1: the student's loss and gradient inside minseq's BCEWithLogitsLoss; against
    the step's standard BCE (true and flipped labels) and (sigmoid(z) - t) / N, central
    differences, logits of +-800, and the reference loss on a batch."""
    p, t = backend.asarray(P_PURCHASE), backend.asarray(T_PURCHASE)
    z = xp.log(p / (1 - p))                                          # logits whose sigmoid is p
    rng = backend.host_rng(3)
    z_batch = backend.asarray(3 * rng.standard_normal((3, 4)))
    t_batch = backend.asarray((rng.random((3, 4)) < 0.5).astype(float))
    z_far = backend.asarray([-800.0, -30.0, 0.0, 30.0, 800.0])
    t_far = backend.asarray([0.0, 1.0, 1.0, 0.0, 1.0])
    reference = BCEWithLogitsLoss()
    expected = [(reference(a, b), reference.backward()) for a, b in
                ((z_batch, t_batch), (z_far, t_far))]
    with mock.patch.object(BCEWithLogitsLoss, "forward", loss_forward_with(bce_with_logits)), \
            mock.patch.object(BCEWithLogitsLoss, "_gradient", saved_gradient):
        bce = BCEWithLogitsLoss()
        L.check_close("the loss equals the standard BCE -mean[t log p + (1 - t) log(1 - p)]",
                      bce(z, t), _bce(p, t))
        L.check_close("every label flipped: the standard BCE of the flipped labels",
                      bce(z, 1 - t), _bce(p, 1 - t))
        bce(z, t)
        L.check_close("dBCE/dz = (sigmoid(z) - t) / 4", bce.backward(), (p - t) / 4)
        L.check_gradients(bce, z, t, grad_inputs=["pred"])
        for (a, b), (loss, dz), label in zip(((z_batch, t_batch), (z_far, t_far)), expected,
                                             ("a (3, 4) batch", "logits -800 .. 800")):
            L.check_close(f"{label}: the loss equals BCEWithLogitsLoss's", bce(a, b), loss)
            L.check_close(f"{label}: the gradient equals BCEWithLogitsLoss's",
                          bce.backward(), dz)


def grade_roc_auc(L, roc_auc):
    """Exercise 2: the student's AUC against the step's pairs and ROC area, a monotone
    transform, minseq's roc_auc on many ties, and the perfect, reversed and constant scorers."""
    auc_pairs = pairs_won(Y_TRUE, SCORES).mean()
    fpr, tpr, _ = M.roc_curve(Y_TRUE, SCORES)
    L.check_close("AUC equals the pairs won by the positive, ties 1/2 (the step's formula)",
                  roc_auc(Y_TRUE, SCORES), auc_pairs)
    L.check_close("AUC equals the area under the ROC curve",
                  roc_auc(Y_TRUE, SCORES), np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2))
    L.check_close("AUC is unchanged by a monotone transform of the scores (log)",
                  roc_auc(Y_TRUE, np.log(SCORES)), auc_pairs)
    rng = np.random.default_rng(4)
    y = rng.integers(0, 2, 300)
    s = rng.integers(0, 6, 300) + y * rng.integers(0, 3, 300)      # few distinct scores: ties
    L.check_close("300 examples, 8 distinct scores: equals metrics.roc_auc", roc_auc(y, s),
                  M.roc_auc(y, s))
    L.check_close("a perfect ranking scores 1, its reverse 0",
                  [roc_auc(y, y), roc_auc(y, -y)], [1.0, 0.0])
    L.check_close("a constant score: 1/2, every pair a tie", roc_auc(y, np.zeros(300)), 0.5)


def grade_rank_of_target(L, rank_of_target):
    """Exercise 3: the student's ranks against the step's by hand, the constant model, the
    ranking metrics over them, minseq's rank_of_target on many ties, and sampled ranking."""
    ranks = rank_of_target(ITEM_SCORES, TARGET)
    L.check("the step's ranks by hand, ties pessimistic: [1, 1, 4]",
            np.array_equal(ranks, RANKS_BY_HAND), f"got {ranks}")
    L.check("a model scoring everything equal ranks every target last (5), not first",
            np.array_equal(rank_of_target(np.zeros((3, 6)), TARGET), [5, 5, 5]))
    L.check_close("HR@3, NDCG@3 and MRR of your ranks equal the step's",
                  [M.hit_rate_at_k(ranks, 3), M.ndcg_at_k(ranks, 3), M.mrr(ranks)],
                  ranking_metrics(RANKS_BY_HAND))
    rng = np.random.default_rng(5)
    scores, target = rng.integers(0, 5, (50, 20)).astype(float), rng.integers(0, 20, 50)
    L.check("50 users, 20 items, 5 distinct scores: equals metrics.rank_of_target",
            np.array_equal(rank_of_target(scores, target), M.rank_of_target(scores, target)))
    rows = np.arange(len(target))
    negatives = scores[np.arange(20) != target[:, None]].reshape(50, 19)
    L.check("the target against the other items (sampled_ranks) gives your ranks",
            np.array_equal(M.sampled_ranks(scores[rows, target], negatives),
                           rank_of_target(scores, target)))


EXERCISES = [
    Exercise("bce_with_logits", "Write binary cross-entropy on logits, the standard form of "
             "B3, and its gradient: finite for any logit, and reading the label.",
             grade_bce_with_logits,
             reference=["minseq.nn.losses.BCEWithLogitsLoss.forward",
                        "minseq.nn.losses._Loss.backward"]),
    Exercise("roc_auc", "Write the area under the ROC curve (B6) as the probability that a "
             "random positive scores above a random negative, ties counting one half.",
             grade_roc_auc,
             reference=["minseq.metrics.roc_auc", "minseq.metrics.roc_curve"]),
    Exercise("rank_of_target", "Write the 0-based rank of each user's target item among all "
             "items, ties counted against the model (the last step of this lesson).",
             grade_rank_of_target,
             reference=["minseq.metrics.rank_of_target", "minseq.metrics.sampled_ranks"])]


def _literal_bce(y):
    """B3 as printed: the prediction y on both sides; no label appears in it."""
    return -(y * xp.log(y) + (1 - y) * xp.log(1 - y)).mean()


def _bce(y, t):
    """Standard binary cross-entropy of predictions y against labels t."""
    return -(t * xp.log(y) + (1 - t) * xp.log(1 - y)).mean()


# %%
L = Lesson(__file__, "Losses and metrics for behaviour prediction",
           ids=["B1", "B3", "B4", "B5", "B6", "B7"], goals=[
               "compute MSE, RMSE and MAE, and the MSE gradient, by hand",
               "see why the documents' cross-entropy cannot train (it ignores the label)",
               "count TP, FP and FN into precision, recall, F1, also macro-averaged",
               "draw a ROC curve and read AUC as a probability over pairs",
               "rank a target item and score it with HR@K, NDCG@K and MRR"])
if L.args.exercise:
    conclude(L.grade(EXERCISES))


# %% [markdown]
# ### B1: regression metrics
#
# $$ \mathrm{MSE} = \operatorname{mean}((y - yhat)^2), \quad \mathrm{RMSE} = \sqrt{MSE}, \quad \mathrm{MAE} = \operatorname{mean}(|y - yhat|) $$

# %%
with L.step("B1: regression metrics", formula="MSE = mean((y - yhat)^2),  "
            "RMSE = sqrt(MSE),  MAE = mean(|y - yhat|)"):
    y = backend.asarray([3.0, 1.0, 4.0, 1.5])
    yhat = backend.asarray([2.5, 1.0, 5.0, 3.5])
    L.show("y - yhat", y - yhat)
    L.show("squared", (y - yhat) ** 2)
    mse = ((y - yhat) ** 2).sum() / 4
    L.show("MSE = (0.25 + 0 + 1 + 4) / 4", mse)
    L.check_close("metrics.mse, rmse, mae", [M.mse(y, yhat), M.rmse(y, yhat), M.mae(y, yhat)],
                  xp.stack([mse, xp.sqrt(mse), xp.abs(y - yhat).mean()]))
    loss = MSELoss()
    L.check_close("MSELoss forward", loss(yhat, y), mse)
    analytic = loss.backward()
    L.show("dMSE/dyhat = 2 (yhat - y) / 4", analytic)
    L.check_close("MSELoss backward is 2 (yhat - y) / 4", analytic, 2 * (yhat - y) / 4)
    L.check_gradients(loss, yhat, y, grad_inputs=["pred"])

p, t = backend.asarray(P_PURCHASE), backend.asarray(T_PURCHASE)  # predictions, outcomes


# %% [markdown]
# ### B3: binary cross-entropy, as printed
#
# $$ \mathrm{Loss} = -1/T \sum_{t} [ y_t \log(y_t) + (1 - y_t) \log(1 - y_t) ] $$

# %%
with L.step("B3: binary cross-entropy, as printed", formula="Loss = -1/T sum_t "
            "[ y_t log(y_t) + (1 - y_t) log(1 - y_t) ]"):
    literal, standard, flipped = _literal_bce(p), _bce(p, t), _bce(p, 1 - t)
    L.show("p (predictions)", p)
    L.show("t (labels)", t)
    L.show("literal loss (no label in it)", literal)
    L.show("standard BCE, true labels", standard)
    L.show("standard BCE, every label flipped", flipped)
    L.check("the standard BCE changes when the labels flip", bool(standard != flipped),
            f"{float(standard):.4f} -> {float(flipped):.4f}")
    q = p.copy()                                  # the predictions the differences move
    g_literal = numerical_gradient(lambda: _literal_bce(q), q)
    g_standard = numerical_gradient(lambda: _bce(q, t), q)
    L.show("dLiteral/dp (central differences)", g_literal)
    L.show("dBCE/dp     (central differences)", g_standard)
    wrong = (p > 0.5) != (t > 0.5)
    L.check("a descent step on the literal loss moves every prediction towards its nearer "
            "end, 0 or 1, so a wrong one away from its label; the standard step moves it "
            "towards its label",
            bool((xp.sign(-g_literal) == xp.sign(p - 0.5)).all())
            and bool((xp.sign(-g_standard[wrong]) == xp.sign(t - p)[wrong]).all()),
            f"wrong prediction(s) {backend.to_numpy(p[wrong])}, labels "
            f"{backend.to_numpy(t[wrong])}")
    z = xp.log(p / (1 - p))  # logits whose sigmoid is p
    L.check_close("standard BCE equals minseq's BCEWithLogitsLoss",
                  BCEWithLogitsLoss()(z, t), standard)
    bce = BCEWithLogitsLoss()
    bce(z, t)
    dz = bce.backward()
    L.show("dBCE/dz = (sigmoid(z) - t) / 4", dz)
    L.check_close("BCEWithLogitsLoss backward is (sigmoid(z) - t) / 4", dz, (p - t) / 4)
    L.check_gradients(bce, z, t, grad_inputs=["pred"])
L.erratum("B3",
          literal="-1/T sum [ y log y + (1 - y) log(1 - y) ]  (prediction y on "
          "both sides)", standard="-1/T sum [ t log yhat + (1 - t) log(1 - yhat) ]",
          demo=f"the literal value {float(literal):.4f} is the entropy of the predictions: it "
          f"does not change when the labels flip, while the standard loss goes "
          f"{float(standard):.4f} -> {float(flipped):.4f}. Minimising it pushes every "
          "prediction to 0 or 1, right or wrong.",
          source="document 004 sections 4.1, 4.2, 4.3")


# %% [markdown]
# ### B4: a ReLU output fed to cross-entropy
#
# $$ y_t = \mathrm{ReLU}(W_y h_t + b_y) $$

# %%
with L.step("B4: a ReLU output fed to cross-entropy", formula="y_t = ReLU(W_y h_t + b_y)"):
    a = backend.asarray([1.7, 0.0, 0.4, -0.3])  # W_y h_t + b_y for four steps
    relu, sig = xp.maximum(a, 0), sigma(a)
    L.show("ReLU(a)", relu)
    L.show("sigmoid(a)", sig)
    with np.errstate(divide="ignore", invalid="ignore"):    # NumPy warns, CuPy does not
        bce_relu = -(xp.log(relu) + xp.log(1 - relu))
    L.show("-log y - log(1 - y) with the ReLU output", bce_relu)
    L.check("ReLU gives values outside (0, 1), so the log blows up",
            not bool(xp.isfinite(bce_relu).all()) and float(relu.max()) > 1)
    L.check("sigmoid stays inside (0, 1)", bool(((sig > 0) & (sig < 1)).all()))
L.erratum("B4",
          literal="output y_t = ReLU(W_y h_t + b_y) fed to binary cross-entropy",
          standard="y_t = sigmoid(W_y h_t + b_y), or BCE with logits on W_y h_t + b_y",
          demo="ReLU(1.7) = 1.7 is no probability and log(1 - 1.7) is undefined; ReLU(0) = "
          "0 gives log(0) = -inf.",
          source="document 004 section 4.1")

y_true, scores = backend.asarray(Y_TRUE), backend.asarray(SCORES)


# %% [markdown]
# ### B7: a 0.5 threshold on sigmoid outputs
#
# $$ label = 1 if p > 0.5 $$

# %%
with L.step("B7: a 0.5 threshold on sigmoid outputs", formula="label = 1 if p > 0.5"):
    y_pred = (scores > 0.5).astype(y_true.dtype)
    L.show("scores", scores)
    L.show("predicted", y_pred)
    L.show("true labels", y_true)
    outcome = {(1, 1): "TP", (1, 0): "FP", (0, 1): "FN", (0, 0): "TN"}
    pairs = zip(backend.to_numpy(y_pred).tolist(), backend.to_numpy(y_true).tolist())
    print("    " + "  ".join(outcome[pair] for pair in pairs)
          + "   (predicted, true): TP = 1 and 1, FP = 1 and 0, FN = 0 and 1, TN = 0 and 0")
    L.check("metrics.threshold agrees",
            bool(xp.array_equal(backend.asarray(M.threshold(scores)), y_pred)))


# %% [markdown]
# ### B5: accuracy, precision, recall, F1
#
# $$ P = TP/(TP+FP), R = TP/(TP+FN), F1 = 2PR/(P+R) $$

# %%
with L.step("B5: accuracy, precision, recall, F1", formula="P = TP/(TP+FP), R = TP/(TP+FN), "
            "F1 = 2PR/(P+R)"):
    tp = ((y_pred == 1) & (y_true == 1)).sum()
    fp = ((y_pred == 1) & (y_true == 0)).sum()
    fn = ((y_pred == 0) & (y_true == 1)).sum()
    P, R = tp / (tp + fp), tp / (tp + fn)
    tp, fp, fn = int(tp), int(fp), int(fn)                  # host numbers, to print
    L.say(f"TP = {tp}, FP = {fp}, FN = {fn}: P = {tp}/{tp + fp}, R = {tp}/{tp + fn}.")
    L.check_close("accuracy, P, R, F1 by hand equal minseq.metrics",
                  [M.accuracy(y_true, y_pred), *M.precision_recall_f1(y_true, y_pred)],
                  xp.stack([(y_true == y_pred).mean(), P, R, 2 * P * R / (P + R)]))
    yc = backend.asarray([0, 0, 1, 1, 2, 2, 2, 1])  # three behaviours: browse, cart, purchase
    pc = backend.asarray([0, 1, 1, 1, 2, 0, 2, 2])
    cm = xp.zeros((3, 3), dtype=xp.int32)
    xp.add.at(cm, (yc, pc), 1)                 # one count per (true, predicted) pair
    L.show("confusion matrix (rows true, columns predicted)", cm)
    L.check_close("counted by hand equals metrics.confusion_matrix",
                  M.confusion_matrix(yc, pc), cm)
    per_p = xp.diag(cm) / cm.sum(axis=0)
    per_r = xp.diag(cm) / cm.sum(axis=1)
    L.show("per-class precision", per_p)
    L.show("per-class recall", per_r)
    L.check_close("macro average = the plain mean over classes",
                  M.precision_recall_f1(yc, pc, average="macro")[:2],
                  xp.stack([per_p.mean(), per_r.mean()]))


# %% [markdown]
# ### B6: ROC curve and AUC
#
# $$ AUC = P(score of a random positive > score of a random negative), ties count 1/2 $$

# %%
with L.step("B6: ROC curve and AUC", formula="AUC = P(score of a random positive > score "
            "of a random negative), ties count 1/2"):
    wins = pairs_won(y_true, scores)
    L.show("pairs won by the positive (rows positives, columns negatives)", wins)
    auc_pairs = wins.mean()
    fpr, tpr, thr = M.roc_curve(y_true, scores)             # host arrays, for the plot
    f, r = backend.asarray(fpr), backend.asarray(tpr)
    area = (xp.diff(f) * (r[1:] + r[:-1]) / 2).sum()       # trapezoids under the curve
    L.show("AUC over pairs", auc_pairs)
    L.check_close("roc_auc (rank form) = pairs", M.roc_auc(y_true, scores), auc_pairs)
    L.check_close("the area under the ROC curve = pairs", area, auc_pairs)
    L.check_close("AUC is unchanged by a monotone transform of the scores",
                  M.roc_auc(y_true, xp.log(scores)), auc_pairs)
    fig, ax = plt.subplots(figsize=(4.6, 4.2))
    ax.plot(fpr, tpr, marker="o", label=f"model (AUC {float(auc_pairs):.3f})")
    ax.plot([0, 1], [0, 1], ls="--", color="grey", label="chance (AUC 0.5)")
    ax.set(title="ROC curve of the purchase scores", xlabel="false positive rate",
           ylabel="true positive rate")
    ax.legend(loc="lower right")
    L.savefig(fig, "roc_curve")


# %% [markdown]
# ### HR@K, NDCG@K, MRR: ranking a target item
#
# $$ \mathrm{rank} = \#\{\text{other items scoring} \geq \text{the target}\}; \quad \mathrm{HR@}K = \operatorname{mean} [\mathrm{rank} < K]; \quad \mathrm{NDCG@}K = \operatorname{mean}\left( \frac{[\mathrm{rank} < K]}{\log_2(\mathrm{rank} + 2)} \right); \quad \mathrm{MRR} = \operatorname{mean} \frac{1}{\mathrm{rank} + 1} $$

# %%
with L.step("HR@K, NDCG@K, MRR: ranking a target item", formula="rank = #other items "
            "scoring >= the target;  HR@K = mean [rank < K];  NDCG@K = mean( [rank < K] / "
            "log2(rank + 2) );  MRR = mean 1/(rank + 1)"):
    item_scores, target, ranks_by_hand = (backend.asarray(a) for a in
                                          (ITEM_SCORES, TARGET, RANKS_BY_HAND))
    L.show("scores of six items", item_scores)
    ranks = M.rank_of_target(item_scores, target)
    L.show("ranks (0 = first)", ranks)
    L.check("ranks by hand, ties pessimistic",
            bool(xp.array_equal(backend.asarray(ranks), ranks_by_hand)))
    by_hand = ranking_metrics(ranks_by_hand)                # HR@3, NDCG@3, MRR
    hr, ndcg = float(by_hand[0]), float(by_hand[1])
    L.say(f"HR@3 = 2/3 = {hr:.4f};  NDCG@3 = (1/log2(3) + 1/log2(3) + 0) / 3 = {ndcg:.4f}")
    L.check_close("hit_rate_at_k, ndcg_at_k, mrr",
                  [M.hit_rate_at_k(ranks, 3), M.ndcg_at_k(ranks, 3), M.mrr(ranks)], by_hand)
    L.check("a model scoring everything equal gets rank 5 (last), not 0",
            (M.rank_of_target(xp.zeros((3, 6)), target) == 5).all())
    users = xp.arange(3)
    is_negative = xp.ones(item_scores.shape, dtype=bool)
    is_negative[users, target] = False                     # every item but the target
    neg_scores = item_scores[is_negative].reshape(3, 5)
    L.check("sampled ranking: the target against its negatives gives the same ranks",
            np.array_equal(M.sampled_ranks(item_scores[users, target], neg_scores), ranks))
    L.check("metrics take host arrays too", np.array_equal(
        M.rank_of_target(backend.to_numpy(item_scores), backend.to_numpy(target)), ranks))

# %%
conclude(L.finish(summary=[
    "B1: MSE squares errors (large ones dominate), MAE does not; RMSE is in the data's unit.",
    "B3 as printed is the entropy of the predictions: no label appears, so it cannot train.",
    "B4: the output of a binary classifier must be a probability: sigmoid, not ReLU.",
    "Precision, recall and F1 count errors of each kind; AUC looks at the ranking of scores, "
    "so it ignores the 0.5 threshold and any monotone rescaling.",
    "Recommenders are judged by the target's rank: HR@K asks whether it is in the top K, "
    "NDCG@K rewards higher places, MRR averages 1/(rank + 1). Ties must count against the "
    "model."],
    exercises=EXERCISES + [
    "Move the threshold from 0.5 to 0.35: which of P and R rises, and where does the new "
    "point lie on the ROC curve?",
    "Show that for one relevant item NDCG@K is never larger than HR@K.",
    "Rank user B's target optimistically (ties count for the model). How much do HR@1 "
    "and MRR change, and why would a constant model look perfect?"]))
