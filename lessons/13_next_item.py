# %%
"""Next-item recommendation: GRU4Rec-style vs SASRec-style vs pop and Markov, and how to evaluate.

Builds on the GRU (D9), attention and Transformer blocks (E1, E6, E8) and cross-entropy (B2):
scores of an item are dot products with the same item table that embeds the input, the SASRec
loss is a binary cross-entropy with one sampled negative, and the models are compared under
leave-one-out with sampled (1 + 100 candidates) and full-ranking metrics.
"""

import math
from unittest import mock

import matplotlib.pyplot as plt
import numpy as np

import minseq
import minseq.models.recommender as recommender_module
from minseq import backend, checkpoint, nn, tasks
from minseq.lesson import Exercise, Lesson
from minseq.lessons_support import graph_diagram
from minseq.lessons_support.notebook import conclude
from minseq.lessons_support.worked import work_element
from minseq.models.baselines import Markov
from minseq.models.gru4rec import GRU4Rec
from minseq.models.sasrec import SASRec
from minseq.tasks import evaluation

from helpers import behaviour_log, sigma, softmax


def run(table, model, out, **settings):
    """``minseq train`` as a function, on the plain layers (lessons run the reference tier)."""
    return tasks.train(table, model, settings=settings, out=out, quiet=True, reference=True)


def tiny_batch():
    """The tiny models' batch: a left-padded history (1, 4), the next item at each step, one
    sampled negative each, and the candidates (1, 4, 2) = [next, negative] of every step."""
    seq = backend.asarray(np.array([[0, 2, 5, 3]]))
    pos = backend.asarray(np.array([[0, 5, 3, 1]]))
    neg = backend.asarray(np.array([[0, 4, 6, 2]]))
    return seq, pos, neg, backend.xp.stack([pos, neg], axis=-1)


def tiny_sasrec():
    """SASRec over 6 items, d = 4, one block and head, no dropout, float64, eval mode."""
    minseq.manual_seed(0)
    model = SASRec(6, maxlen=4, d_model=4, num_layers=1, num_heads=1, dropout=0.0)
    return model.astype(backend.xp.float64).eval()


def tiny_gru4rec():
    """GRU4Rec over 6 items, d = 4, no dropout, float64, eval mode."""
    minseq.manual_seed(0)
    return GRU4Rec(6, d_model=4, dropout=0.0).astype(backend.xp.float64).eval()


def scoring_backward_by_hand(dscores, h, E, candidates):
    """dh and the scoring use's dE by a loop over the scores, score(t, c) = h_t . E[i] with
    i = c + 1 (every item), candidates[c] (shared) or candidates[t, c] (per position)."""
    dh, dE = np.zeros_like(h), np.zeros_like(E)
    for index in np.ndindex(*dscores.shape):
        t, c = index[:-1], index[-1]
        i = c + 1 if candidates is None else candidates[index if candidates.ndim > 1 else c]
        dh[t] += dscores[index] * E[i]                     # d score / d h_t = E[i]
        dE[i] += dscores[index] * h[t]                     # d score / d E[i] = h_t
    return dh, dE


def grade_scores_backward(L, item_scores_backward):
    """Exercise 1: the student's backward of the scoring inside SASRec and GRU4Rec, every
    gradient against central differences for the three kinds of candidates; then dh and dE
    against the loop by hand, dE added to what the input use wrote before."""
    seq, _, _, cand = tiny_batch()
    with mock.patch.object(recommender_module, "item_scores_backward", item_scores_backward):
        L.check_gradients(tiny_sasrec().train(), seq, cand, tol=1e-5,
                          label="SASRec, candidates per position (B, T, C)")
        L.check_gradients(tiny_gru4rec(), seq, label="GRU4Rec, every item")
        L.check_gradients(tiny_gru4rec(), seq, backend.asarray(np.array([1, 3, 5])),
                          label="GRU4Rec, shared candidates (C,)")
    rng = backend.host_rng(2)
    h, E, dE_input = (rng.standard_normal(shape) for shape in ((2, 3, 4), (7, 4), (7, 4)))
    for name, candidates in (("every item", None), ("shared (C,), item 2 twice",
                                                    np.array([2, 5, 2])),
                             ("per position (B, T, C)", rng.integers(1, 7, (2, 3, 2)))):
        n_scores = 6 if candidates is None else candidates.shape[-1]
        dscores = rng.standard_normal((2, 3, n_scores))
        dE = backend.asarray(dE_input.copy())               # the input use's part, already in
        dh = item_scores_backward(*(backend.asarray(a) for a in (dscores, h, E)), dE,
                                  None if candidates is None else backend.asarray(candidates))
        dh_hand, dE_hand = scoring_backward_by_hand(dscores, h, E, candidates)
        L.check_close(f"{name}: dh equals the loop by hand", dh, dh_hand)
        L.check_close(f"{name}: dE = the input use's + the scoring use's by hand", dE,
                      dE_input + dE_hand)


def grade_ranking_metrics(L, ranking_metrics):
    """Exercise 2: the student's metrics of six ranks against the formulas by hand at two
    cutoffs; then inside the evaluation of a Markov baseline (both protocols) against minseq's
    metrics."""
    ranks = [0, 1, 4, 9, 10, 57]
    mine = ranking_metrics(backend.asarray(np.array(ranks)), ks=(5, 10))
    for k in (5, 10):
        top = [r for r in ranks if r < k]
        by_hand = {f"hit@{k}": len(top) / len(ranks), f"recall@{k}": len(top) / len(ranks),
                   f"ndcg@{k}": sum(1 / math.log2(r + 2) for r in top) / len(ranks),
                   f"mrr@{k}": sum(1 / (r + 1) for r in top) / len(ranks)}
        print(f"  ranks {ranks}, k = {k}: by hand " + ", ".join(f"{key} {value:.4f}"
                                                               for key, value in by_hand.items()))
        for key, value in by_hand.items():
            L.check_close(f"{key} equals the formula by hand", mine.get(key, float("nan")), value)
    log = behaviour_log(100)
    p = evaluation.Protocol(log, maxlen=10, seed=0)
    markov = Markov(log.n_items).fit(p.train_sequences)
    reference = evaluation.evaluate(markov, p.test)
    with mock.patch.object(evaluation, "ranking_metrics", ranking_metrics):
        results = evaluation.evaluate(markov, p.test)
    for proto in ("sampled", "full"):
        for key, value in reference[proto].items():
            L.check_close(f"Markov, {proto} ranking: {key} equals minseq's",
                          results[proto].get(key, float("nan")), value)


EXERCISES = [
    Exercise("item_scores_backward", "Write the backward of the scoring h_t . E[i]: dh, and the "
             "scoring use's gradient ADDED into the shared table's dE (a scatter-add: an item "
             "can be scored at many positions), for every item, shared candidates or "
             "candidates per position.", grade_scores_backward,
             reference=["minseq.models.recommender.item_scores_backward"]),
    Exercise("ranking_metrics", "Write the leave-one-out metrics from 0-based ranks: hit@K = "
             "recall@K, NDCG@K = mean [rank < K] / log2(rank + 2) and MRR@K = mean [rank < K] / "
             "(rank + 1), for every cutoff K.", grade_ranking_metrics,
             reference=["minseq.metrics.hit_rate_at_k", "minseq.metrics.ndcg_at_k",
                        "minseq.metrics.mrr"])]


#: GRU4Rec's forward, one operation a line in its names: its graph diagram
GRAPH = [("x", "E[s] (embedding)", ["s", "E"]), ("h", "GRU", ["x", "GRU weights"]),
         ("score", "h_t . E[i], every item", ["h", "E"]),
         ("loss", "mean_t -log softmax(score)[target]", ["score", "target"])]


# %%
L = Lesson(__file__, "Next-item recommendation: GRU4Rec, SASRec and their evaluation",
           ids=["D9", "E1", "E6", "E8", "B2"], goals=[
               "score items by a dot product with the shared item table, and see why its "
               "gradient is the sum of two uses",
               "compute SASRec's loss (BCE with one sampled negative) and GRU4Rec's "
               "(cross-entropy over every item) by hand",
               "evaluate by leave-one-out: sampled HR@10 / NDCG@10 and full ranking",
               "read the attention weights of one user's history",
               "explain why sampled metrics are never below full-ranking ones"])
if L.args.exercise:
    conclude(L.grade(EXERCISES))
xp = backend.xp
n_users = 150 if L.fast else 1500 if L.full else 400
epochs = 2 if L.fast else 20 if L.full else 5


# %% [markdown]
# ### A tiny SASRec, by hand
#
# $$ x_t = \sqrt{d} E[s_t] + P[t]; \quad H = \mathrm{LayerNorm}(blocks(x)); \quad r(t, i) = H_t . E[i] $$
# $$ L = \operatorname{mean} over real t of [ -\log \sigma(r(t, pos_t)) - \log(1 - \sigma(r(t, neg_t))) ] $$

# %%
with L.step("A tiny SASRec, by hand", formula="x_t = sqrt(d) E[s_t] + P[t];  "
            "H = LayerNorm(blocks(x));  r(t, i) = H_t . E[i]\n"
            "L = mean over real t of "
            "[ -log sigma(r(t, pos_t)) - log(1 - sigma(r(t, neg_t))) ]"):
    m = tiny_sasrec()
    seq, pos, neg, cand = tiny_batch()       # history, next items, negatives, both
    E, P = m.item_emb.params["W"], m.pos_emb.params["W"]
    x = E[seq] * 2.0 + P[:4]                                  # sqrt(4) = 2
    print(f"    ids {tuple(seq.shape)} -> E[s] {tuple(E[seq].shape)} (a row of E per id) "
          f"+ P[:4] {tuple(P[:4].shape)} -> x {tuple(x.shape)}")
    L.show("x = 2 E[s] + P (row 0 is padding: only P)", x[0])
    H = m.encoder(x, mask=minseq.nn.causal_mask(4)[None] & (seq != 0)[:, None, :])
    r_pos = (H * E[pos]).sum(-1)
    r_neg = (H * E[neg]).sum(-1)
    print(f"    H {tuple(H.shape)} (.) E[pos] {tuple(E[pos].shape)}, summed over d -> "
          f"r {tuple(r_pos.shape)}: one score per step")
    L.show("r(t, pos_t)", r_pos[0])
    L.show("r(t, neg_t)", r_neg[0])
    terms = -xp.log(sigma(r_pos)) - xp.log(1 - sigma(r_neg))
    by_hand = terms[0, 1:].mean()                             # positions 1..3 are real
    L.show("loss by hand (mean over the 3 real positions)", by_hand)
    L.check_close("SASRec.loss equals the hand computation",
                  m.loss((seq, pos, None, neg)), by_hand, rtol=1e-10)
    L.say("Every parameter's gradient against central differences; the shared table E "
          "(item_emb.W) gets its gradient from the input use and the scoring use:")
    L.check_gradients(m.train(), seq, cand, tol=1e-5)


# %% [markdown]
# ### A tiny GRU4Rec, by hand
#
# $$ h_t = GRU(E[s_1..s_t]); \quad score(t, i) = h_t . E[i]; \quad L = \operatorname{mean}_t -\log \mathrm{softmax}(score(t, .))[target_t] $$

# %%
with L.step("A tiny GRU4Rec, by hand", formula="h_t = GRU(E[s_1..s_t]);  "
            "score(t, i) = h_t . E[i];  L = mean_t -log softmax(score(t, .))[target_t]"):
    g = tiny_gru4rec()
    scores = g(seq)[0]                                        # (T, 6 items)
    print(f"    ids {tuple(seq.shape)} -> E[s] (1, 4, 4) -> GRU states (1, 4, 4) -> "
          f"@ E[1:]^T -> scores {tuple(scores.shape)} (steps, items)")
    L.show("scores of items 1..6 at each step", scores)
    logp = scores - xp.log(xp.exp(scores).sum(-1, keepdims=True))
    by_hand = -logp[xp.arange(1, 4), pos[0, 1:] - 1].mean()    # item i is column i - 1
    L.show("cross-entropy by hand", by_hand)
    L.check_close("GRU4Rec.loss equals the hand computation", g.loss((seq, pos, None)),
                  by_hand, rtol=1e-10)
    g.loss((seq, pos, None))
    g.backward_loss()
    hs = g.encode(seq)[0]                                      # (T, d): the states h_t
    steps = list(range(1, seq.shape[1]))                       # position 0 has no target
    dscore = softmax(scores) - xp.eye(scores.shape[1])[pos[0] - 1]
    item = next(i for i in range(1, 7) if i not in backend.to_numpy(seq))
    L.say(f"E is used twice: to embed the inputs and to score every item. Item {item} is "
          "never an input, so its row of dE is the scoring use's alone: dE[i] = sum_t "
          f"dscore(t, i) h_t, with dscore = (softmax(score) - onehot(target)) / {len(steps)}.")
    work_element(L, f"dE[{item}, 0]",
                 [[(f"dscore({t}, {item})", dscore[t, item - 1] / len(steps)),
                   (f"h_{t}[0]", hs[t, 0])] for t in steps],
                 g.item_emb.grads["W"][item, 0])
    L.savefig(graph_diagram.draw(GRAPH, "GRU4Rec, the item table used twice",
                                 constants=["s", "target"]), "graph")
    L.check_gradients(g, seq, cand)

table = behaviour_log(n_users)


# %% [markdown]
# ### Leave-one-out, and the four models trained
#
# $$ last event = test, second last = validation, the rest trains (users with < 3 events: train only) $$

# %%
with L.step("Leave-one-out, and the four models trained", formula="last event = test, "
            "second last = validation, the rest trains (users with < 3 events: train only)"):
    L.say(f"The behaviour log of the earlier lessons (helpers.behaviour_log), its first "
          f"{n_users} users (--fast takes 150, --full 1500), {table.n_items} items.")
    p = evaluation.Protocol(table, maxlen=20, seed=0)
    u = 0
    L.say(f"user {p.test.users[u]}: history (last 8) {p.test.histories[u][-8:]}, "
          f"validation target {p.valid.targets[u]}, test target {p.test.targets[u]}, "
          f"first 5 of its 100 negatives {p.test.negatives[u][:5]}")
    settings = dict(epochs=epochs, batch_size=32, maxlen=20)
    results = {"pop": run(table, "pop", L.out / "pop", maxlen=20),
               "markov": run(table, "markov", L.out / "markov", maxlen=20),
               "gru4rec": run(table, "gru4rec", L.out / "gru4rec", lr=0.01, **settings),
               "sasrec": run(table, "sasrec", L.out / "sasrec", lr=0.005, d_model=32,
                             **settings)}
    print(f"  {'model':<9}{'HR@10 s':>9}{'NDCG@10 s':>11}{'HR@10 f':>9}{'NDCG@10 f':>11}"
          f"{'MRR@10 f':>10}{'s/epoch':>9}")
    for k, r in results.items():
        s, f = r["metrics"]["sampled"], r["metrics"]["full"]
        print(f"  {k:<9}{s['hit@10']:9.3f}{s['ndcg@10']:11.3f}{f['hit@10']:9.3f}"
              f"{f['ndcg@10']:11.3f}{f['mrr@10']:10.3f}{r['seconds_per_epoch']:9.2f}")
    pop = results["pop"]["metrics"]["sampled"]["ndcg@10"]
    for k in ("gru4rec", "sasrec"):
        L.check(f"{k} beats popularity (sampled NDCG@10)",
                results[k]["metrics"]["sampled"]["ndcg@10"] > pop)


# %% [markdown]
# ### Sampled vs full ranking, with numbers
#
# $$ \text{sampled rank} = \#\{\text{negatives scoring} \geq \text{target}\} \leq \text{full rank} = \#\{\text{items scoring} \geq \text{target}\} $$

# %%
with L.step("Sampled vs full ranking, with numbers", formula="sampled rank = #negatives "
            "scoring >= target <= full rank = #items scoring >= target"):
    path = results["sasrec"]["checkpoint"]
    model = SASRec(**checkpoint.read(path)[2]["kwargs"])     # rebuilt from the file alone
    checkpoint.load(path, model)
    model.eval()
    full = backend.to_numpy(evaluation.ranks(model, p.test, full=True))
    sampled = backend.to_numpy(evaluation.ranks(model, p.test, full=False))
    L.show("SASRec full ranks of the first 10 users", full[:10])
    L.show("their sampled ranks (vs 100 negatives)", sampled[:10])
    scores = backend.to_numpy(model.score_last(backend.asarray(p.test.histories)))
    users = np.arange(len(scores))[:, None]
    target = scores[users[:, 0], p.test.targets - 1][:, None]
    negative = scores[users, p.test.negatives - 1]             # (U, 100): from the full scores
    tol = 1e-5 * np.abs(scores).max()                          # two code paths, float rounding
    low, high = ((negative >= target + tol).sum(1), (negative >= target - tol).sum(1))
    L.check("each sampled rank is the number of its user's 100 negatives that score at "
            "least the target in the full ranking, so it can never exceed the full rank",
            bool(((low <= sampled) & (sampled <= high)).all()),
            f"{len(sampled)} users, largest full - sampled rank {int((full - sampled).max())}")
    N = table.n_items
    inflated = ((full >= 10) & (sampled < 10)).mean()
    L.say(f"{N} items, 100 negatives: an item at full rank r beats each negative with "
          f"probability about 1 - r/{N - 1}, so its expected sampled rank is about "
          f"r x 100/{N - 1} = r / {(N - 1) / 100:.1f}. A target at full rank 25 expects "
          f"sampled rank {25 * 100 / (N - 1):.1f}: a 'hit' under the sampled protocol. "
          f"Here {inflated:.0%} of the users are sampled hits but full-ranking misses.")
    ratio = np.mean(sampled[full > 0]) / np.mean(full[full > 0])
    L.show("mean sampled rank / mean full rank (users with full rank > 0)", ratio)
    L.check("the ratio is near 100 / (N - 1)", abs(ratio - 100 / (N - 1)) < 0.15,
            f"{ratio:.3f} vs {100 / (N - 1):.3f}")
    L.say("HR@10, sampled / full: " + ", ".join(
        f"{k} {r['metrics']['sampled']['hit@10']:.3f} / {r['metrics']['full']['hit@10']:.3f}"
        for k, r in results.items()))
    fig, ax = plt.subplots(figsize=(6.4, 3.8))
    names = list(results)
    xs = np.arange(len(names))
    for off, proto in ((-0.2, "sampled"), (0.2, "full")):
        ax.bar(xs + off, [results[k]["metrics"][proto]["ndcg@10"] for k in names], 0.4,
               label=f"NDCG@10 {proto}")
    ax.set_xticks(xs, names)
    ax.set(title="Next item on the synthetic log: sampled vs full ranking",
           xlabel="model", ylabel="NDCG@10 on the test events")
    ax.legend()
    L.savefig(fig, "sampled_vs_full")


# %% [markdown]
# ### Attention weights of one user's history
#
# $$ P = \mathrm{softmax}(Q K^\top / \sqrt{d_k}), causal and key-is-real mask: row t sums to 1 over positions <= t $$

# %%
with L.step("Attention weights of one user's history", formula="P = softmax(Q K^T / "
            "sqrt(d_k)), causal and key-is-real mask: row t sums to 1 over positions <= t"):
    last = p.test.histories[:, -12:]
    distinct = np.array([len(set(h[h > 0])) for h in last])
    user = int(np.argmax(distinct * ((last > 0).sum(1) == 12)))   # the most varied full one
    row = p.test.histories[user][None]
    L.say(f"User {p.test.users[user]}: {distinct[user]} distinct items among the last 12 "
          "(a user repeating one item would make every key look alike).")
    model.score_last(backend.asarray(row))
    weights = [backend.to_numpy(w)[0, 0] for w in model.attention_weights]  # (T, T) each
    W = weights[-1][-12:, -12:]
    L.show("last block, the last 4 queries x last 4 keys", W[-4:, -4:])
    real = (row[0] > 0)
    L.check_close("each real query's weights sum to 1", weights[-1][real].sum(-1),
                  np.ones(real.sum()))
    L.check("no weight on a later position (causal)", np.allclose(np.triu(weights[-1], 1), 0))
    fig, axes = plt.subplots(1, len(weights), figsize=(5.2 * len(weights), 4.6))
    top = max(float(w[-12:, -12:].max()) for w in weights)      # one colour scale for all
    for b, (ax, w) in enumerate(zip(np.atleast_1d(axes), weights)):
        im = ax.imshow(w[-12:, -12:], cmap="viridis", vmin=0, vmax=top)
        labels = [str(i) for i in row[0, -12:]]
        ax.set_xticks(range(12), labels, rotation=90)
        ax.set_yticks(range(12), labels)
        ax.set(title=f"SASRec block {b + 1}: attention of one user's last 12 items",
               xlabel="key: item attended to (older -> newer)", ylabel="query: item at step t")
        fig.colorbar(im, ax=ax, shrink=0.8)
    L.savefig(fig, "attention_heatmap")

# %% [markdown]
# ### Why one negative and BCE learn slowly; what sampled metrics hide
#
# The positive's gradient under BCE with one negative, a sampled softmax and the full softmax
# on 8 items; two models that sampled and full NDCG@10 rank in opposite orders.

# %%
def losses_and_what_sampled_metrics_hide(L, results):
    """The last step: the positive's gradient under the three next-item losses on a tiny
    catalogue, and two models that the sampled and the full protocol rank in opposite orders."""
    xp = backend.xp
    with L.step("Why one negative and BCE learn slowly; what sampled metrics hide",
                formula="dL/ds+:  BCE, one negative  sigma(s+) - 1\n"
                        "         sampled softmax    softmax([s+, s_1..s_K])_0 - 1\n"
                        "         full softmax (CE)  softmax(s_1..s_N)_+ - 1\n"
                        "sampled NDCG@10 ranks the target among 1 + 100 items, full among all"):
        # one position, 8 items: the positive (item 1) scores 2.0, items 2 and 3 outscore it
        s = backend.asarray(np.array([2.0, 3.0, 2.5, -1.0, -1.5, -2.0, -0.5, -1.2]))
        L.show("scores of items 1..8 (item 1 is the next item)", s)
        bce = sigma(s[0]) - 1                                    # whichever negative is drawn
        drawn = backend.asarray(np.array([0, 4, 2, 6]))          # item 1, then 3 negatives
        p_sampled = softmax(s[drawn])
        p_full = softmax(s)
        by_hand = xp.stack([bce, p_sampled[0] - 1, p_full[0] - 1])
        L.show("dL/ds+ by hand: BCE, sampled softmax (items 5, 3, 7), full softmax", by_hand)
        # the same three from minseq's losses (minseq.nn.item_losses): a one-position batch
        real = xp.ones((1,), dtype=bool)
        pair = xp.stack([s[0], s[1 + 3]])[None]                  # BCE's one negative: item 5
        layers = []
        for loss, scores in ((nn.GBCELoss(), pair), (nn.SampledSoftmaxLoss(), s[drawn][None])):
            loss(scores, real)
            layers.append(loss.backward()[0, 0])
        full = nn.CatalogueSoftmaxLoss()                         # h = [1], E[1:] = s: h E^T = s
        E = xp.concatenate([xp.zeros(1), s])[:, None]
        full(xp.ones((1, 1)), E, backend.asarray(np.array([1])))
        layers.append(full.backward()[1][1, 0])                  # dL/dE[1] = dL/ds+ (h = 1)
        L.check_close("minseq's GBCELoss, SampledSoftmaxLoss, CatalogueSoftmaxLoss agree",
                      xp.stack(layers), by_hand, rtol=1e-10)
        ratio = float(backend.to_numpy(by_hand[2] / by_hand[0]))
        L.say(f"The positive ranks third, yet BCE's pull on it is only {-float(bce):.3f}: "
              f"sigma(2.0) is already near 1, and a uniform negative is usually an easy one "
              f"(items 2 and 3, the ones that outrank it, are drawn 2 times in 7). The full "
              f"softmax pulls {ratio:.1f}x harder and pushes item 2 by "
              f"{float(p_full[1]):.3f} and item 3 by {float(p_full[2]):.3f} at every step; "
              f"the sampled softmax sits between, as far as its negatives find the hard items.")
        L.check("the full softmax pulls the misranked positive harder than BCE", ratio > 2,
                f"{ratio:.2f}x")

        # two models' full ranks over 300 items, 1000 users: A is sharp (30% at rank 0, the
        # rest far down), B is broad (every target at full rank 10..19, just outside the top 10)
        rng = np.random.default_rng(0)
        n_items, n = 300, 1000
        ranks = {"A (sharp)": np.where(rng.random(n) < 0.3, 0, rng.integers(100, 300, n)),
                 "B (broad)": rng.integers(10, 20, n)}
        ndcg = {}
        for name, full_rank in ranks.items():
            # 100 negatives among the other 299 items: those drawn from the full_rank items
            # above the target are its sampled rank
            sampled_rank = rng.hypergeometric(full_rank, n_items - 1 - full_rank, 100)
            ndcg[name] = {"sampled": evaluation.ranking_metrics(sampled_rank)["ndcg@10"],
                          "full": evaluation.ranking_metrics(full_rank)["ndcg@10"]}
            L.say(f"model {name}: NDCG@10 sampled {ndcg[name]['sampled']:.3f}, full "
                  f"{ndcg[name]['full']:.3f}")
        a, b = ndcg.values()
        L.check("the sampled protocol ranks B first, the full ranking A: the order flips",
                b["sampled"] > a["sampled"] and a["full"] > b["full"])
        L.say(f"B's targets sit just below the top 10 of {n_items}; against 100 random items "
              f"their rank shrinks about {(n_items - 1) / 100:.0f} times, so the sampled "
              "protocol counts them as hits. Sampled metrics are not a monotone function of "
              "the full ones and can reorder models (Krichene and Rendle, KDD 2020): report "
              "the full ranking too.")
        order = {proto: sorted(results, key=lambda k: -results[k]["metrics"][proto]["ndcg@10"])
                 for proto in ("sampled", "full")}
        L.say(f"This lesson's own four models, best first: sampled {', '.join(order['sampled'])};"
              f" full {', '.join(order['full'])} ("
              + ("the same order" if order["sampled"] == order["full"] else "the orders differ")
              + ").")
        fig, (left, right) = plt.subplots(1, 2, figsize=(10.4, 3.8))
        grads = np.zeros((3, 8))                                 # rows: the three losses
        grads[0, [0, 4]] = backend.to_numpy(xp.stack([bce, sigma(s[4])]))
        grads[1, backend.to_numpy(drawn)] = backend.to_numpy(p_sampled) - np.eye(4)[0]
        grads[2] = backend.to_numpy(p_full) - np.eye(8)[0]
        for k, label in enumerate(("BCE, one negative (item 5)", "sampled softmax, K = 3",
                                   "full softmax")):
            left.bar(np.arange(1, 9) + (k - 1) * 0.27, grads[k], 0.27, label=label)
        left.set(title="dL/ds per item at one position (item 1 is next)", xlabel="item",
                 ylabel="gradient on the score")
        left.legend(fontsize=8)
        for off, proto in ((-0.2, "sampled"), (0.2, "full")):
            right.bar(np.arange(2) + off, [ndcg[k][proto] for k in ndcg], 0.4,
                      label=f"NDCG@10 {proto}")
        right.set_xticks(range(2), list(ndcg))
        right.set(title="Two models, two protocols: the order flips", ylabel="NDCG@10")
        right.legend()
        L.savefig(fig, "losses_and_sampled_metrics")


losses_and_what_sampled_metrics_hide(L, results)

# %%
conclude(L.finish(summary=[
    "Both models score item i by h_t . E[i] with the table E that embeds the input, so E's "
    "gradient adds the input lookup and the scoring; the gradient check confirms the sum.",
    "SASRec's loss needs one random negative per position (BCE); GRU4Rec's cross-entropy "
    "normalises over every item (or a sampled set for big catalogues).",
    "On this log the next item mostly depends on the last one, so first-order Markov is a "
    "strong baseline; popularity ignores order and is the floor.",
    "Sampled metrics rank the target among 101 items, so they are always at least the "
    "full-ranking ones and compress differences: report both."],
    exercises=EXERCISES + [
    "Evaluate SASRec with 20 instead of 100 negatives: predict the sampled HR@10 from the "
    "full ranks before you run it.",
    "Exclude the items a user has already seen from the full ranking. Which models gain, "
    "and why does Markov lose on this log (the funnel repeats the same item)?",
    "Train SASRec with num_layers=1 and with maxlen=5: what does the attention map of the "
    "last block look at?"]))
