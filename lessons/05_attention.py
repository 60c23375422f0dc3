# %%
"""Scaled dot-product attention by hand, why sqrt(d_k), masks, and the errata E2-E5.

Run: python lessons/05_attention.py [--step] [--fast] [--backend cupy]
"""

from unittest import mock

import matplotlib.pyplot as plt
import numpy as np

import minseq
import minseq.nn.attention as attention_module
from minseq import backend, nn
from minseq.backend import xp
from minseq.lesson import Exercise, Lesson
from minseq.lessons_support import graph_diagram
from minseq.lessons_support.notebook import conclude
from minseq.lessons_support.worked import work_weight_gradient

from helpers import (EVENTS, USER, behaviour_log, behaviour_vectors, check_embedding, embed,
                     first_events, softmax)

#: one user's events: user USER's first five in the lessons' behaviour log, up to their first
#: purchase
SEQUENCE = first_events(behaviour_log(), USER, 5)


def dev(a):
    """A host array as a float64 array of the active backend (NumPy or CuPy)."""
    return backend.asarray(np.asarray(a, dtype=np.float64))


def embedded_events(rng, d=4):
    """One user's behaviour sequence, each event already embedded as a d-vector (T, d), on
    the host: its behaviour's row of a table drawn from ``rng`` (one vector per behaviour)."""
    return embed(SEQUENCE, behaviour_vectors(rng, d))


def example_mask(T):
    """The masks step's mask (T, T), on the active backend: causal, the last step taken as
    padding, and a first query that may see nothing at all."""
    padding = xp.arange(T) < T - 1                   # pretend the last step is padding
    mask = nn.causal_mask(T) & padding
    mask[0] = False
    return mask


def softmax_over_allowed(S, mask):
    """By hand, query by query on the host: the softmax of the scores of the keys the query may
    see, 0 for the others; a query that may see none gets 0 everywhere."""
    P = np.zeros_like(S)
    for i, allowed in enumerate(mask):
        if allowed.any():
            e = np.exp(S[i, allowed] - S[i, allowed].max())
            P[i, allowed] = e / e.sum()
    return P


def grade_masked_softmax(L, masked_softmax):
    """Exercise 1: the student's masked softmax alone (against the lesson's softmax and the
    softmax over the allowed keys by hand, at extreme scores too), then inside minseq's
    ScaledDotProductAttention: step 1's context by hand, and the masked layer's gradients
    (its backward reads the student's weights) against central differences."""
    rng = np.random.default_rng(1)
    S = dev(rng.normal(size=(2, 3, 5)) * 3)                      # two sequences, Tq 3, Tk 5
    P = masked_softmax(S)
    L.check_close("no mask: the softmax of each row (last axis)", P, softmax(S))
    L.check_close("no mask: each row sums to 1", P.sum(axis=-1), xp.ones((2, 3)))
    L.check_close("scores (1000, 0, -1000): weights (1, 0, 0), no overflow",
                  masked_softmax(dev([[1000.0, 0.0, -1000.0]])), dev([[1.0, 0.0, 0.0]]))
    mask = backend.to_numpy(example_mask(len(SEQUENCE)))    # on the host, for the loop by hand
    S = rng.normal(size=mask.shape) * 3
    P = backend.to_numpy(masked_softmax(dev(S), backend.asarray(mask)))
    L.check("masked keys get exactly zero weight", np.all(P[~mask] == 0))
    L.check("a query with no allowed key gets zeros, not NaN", np.all(P[0] == 0))
    L.check_close("each query: the softmax of the scores it may see", P,
                  softmax_over_allowed(S, mask))
    S[~mask] = 1e4                                   # masked keys far above the allowed ones
    L.check_close("masked scores of 1e4 change nothing (no overflow, no 0 / 0)",
                  masked_softmax(dev(S), backend.asarray(mask)), softmax_over_allowed(S, mask))
    X = dev(embedded_events(np.random.default_rng(0)))
    q = X[-1]
    context = softmax(q @ X.T / X.shape[1] ** 0.5) @ X           # step 1 by hand
    with mock.patch.object(attention_module, "masked_softmax", masked_softmax):
        attn = nn.ScaledDotProductAttention()
        L.check_close("inside ScaledDotProductAttention: step 1's context by hand",
                      attn(q[None], X, X)[0], context)
        L.check_gradients(attn, X, X * 0.5, X * 2, mask=backend.asarray(mask),
                          label="masked attention")


def grade_attention_backward(L, attention_backward):
    """Exercise 2: the student's backward inside minseq's ScaledDotProductAttention; every
    gradient against central differences (step 2's shapes, the masks step's mask, a batch with
    Tq != Tk and dv != d), then each against the reference's."""
    def backward(self, dout):
        return attention_backward(dout, *self.saved())
    rng = np.random.default_rng(2)
    Q, K, V = (dev(rng.normal(size=(3, 4))) for _ in range(3))
    X = dev(embedded_events(np.random.default_rng(0)))
    mask = example_mask(len(SEQUENCE))
    q, k, v = (dev(rng.normal(size=shape)) for shape in ((2, 3, 4), (2, 5, 4), (2, 5, 3)))
    attn = nn.ScaledDotProductAttention()
    with mock.patch.object(nn.ScaledDotProductAttention, "backward", backward):
        L.check_gradients(attn, Q, K, V, label="attention")
        L.check_gradients(attn, X, X * 0.5, X * 2, mask=mask, label="masked attention")
        L.check_gradients(attn, q, k, v, label="attention, batch of 2, Tq 3, Tk 5, dv 3")
    dout = dev(rng.normal(size=(2, 3, 3)))
    attn(q, k, v)
    ref = attn.backward(dout)
    attn(q, k, v)                                    # each backward reads its own forward
    mine = attention_backward(dout, *attn.saved())
    L.compare(list(zip(("dq", "dk", "dv"), mine, ref)))


EXERCISES = [
    Exercise("masked_softmax", "Write the softmax of attention scores over the last axis, over "
             "the allowed keys only (mask True = may attend): stable at any score, exactly 0 for "
             "a masked key, and a row of zeros, never NaN, for a query that may see no key.",
             grade_masked_softmax,
             reference=["minseq.nn.attention.masked_softmax"]),
    Exercise("attention_backward", "Write the backward of out = softmax(q k^T / sqrt(d)) v: dv, "
             "dP, dS through the softmax's Jacobian, then dq and dk (step 2 of this lesson), for "
             "any leading batch axes.", grade_attention_backward,
             reference=["minseq.nn.attention.ScaledDotProductAttention.backward"])]


#: Attention's forward, one operation a line in E1's names: its graph diagram
GRAPH = [("S", "Q K^T / sqrt(d_k)", ["Q", "K"]), ("P", "softmax (rows)", ["S"]),
         ("out", "P V", ["P", "V"])]


# %%
L = Lesson(__file__, "Attention: softmax(Q K^T / sqrt(d_k)) V", ids=["E1", "E2", "E3", "E4", "E5"],
           goals=["compute scaled dot-product attention by hand on a behaviour sequence",
                  "see why the scores are divided by sqrt(d_k)",
                  "mask keys (padding, the future) without -inf and without NaN",
                  "recognise four printed errors (E2-E5) and compute the right formula"])
if L.args.exercise:
    conclude(L.grade(EXERCISES))
rng = np.random.default_rng(0)
d = 4
L.say(f"User {USER}'s first 5 events, from the behaviour log of lessons 02-04 "
      f"(helpers.behaviour_log), up to their first purchase: {SEQUENCE}. Each is taken "
      f"as already embedded: its behaviour's row of a table of random 4-vectors, one per "
      f"behaviour (as a trained embedding would be), X ({len(SEQUENCE)}, {d}).")
X = embedded_events(rng, d)
check_embedding(L, SEQUENCE, X)


# %% [markdown]
# ### E1 by hand: the last event asks which earlier events matter
#
# $$ \mathrm{Attention}(Q, K, V) = \mathrm{softmax}(Q K^\top / \sqrt{d_k}) V $$

# %%
with L.step("E1 by hand: the last event asks which earlier events matter",
            formula="Attention(Q, K, V) = softmax(Q K^T / sqrt(d_k)) V"):
    L.say("Take the events as keys and values (K = V = X) and the last event, 'purchase', "
          "as the query. Each score is a dot product divided by sqrt(d_k) = 2.")
    Xd = dev(X)
    L.show("X (events x d)", Xd)
    q = Xd[-1]
    scores = xp.stack([q @ Xd[j] for j in range(len(SEQUENCE))]) / d ** 0.5
    weights = xp.exp(scores - scores.max()) / xp.exp(scores - scores.max()).sum()
    context = weights @ Xd
    print(f"    q {tuple(q.shape)} . each of the {len(SEQUENCE)} keys -> scores "
          f"{tuple(scores.shape)} -> weights {tuple(weights.shape)};  weights @ V "
          f"{tuple(Xd.shape)} -> context {tuple(context.shape)}")
    for name, s, w in zip(SEQUENCE, backend.to_numpy(scores), backend.to_numpy(weights)):
        print(f"    {name:<9} score q.k/2 = {s:7.3f}   weight = {w:.3f}")
    L.show("context = sum_j w_j v_j", context)
    attn = nn.ScaledDotProductAttention()
    out = attn(q[None], Xd, Xd)
    L.check_close("nn.ScaledDotProductAttention gives the same context", out[0], context)
    L.check_close("the weights sum to 1", weights.sum(), xp.ones(()))


# %% [markdown]
# ### E1 backward by hand: dV, dP, dS, dQ, dK
#
# $$ S = Q K^\top / \sqrt{d_k}, \quad P = \mathrm{softmax}(S) (rows), \quad out = P V $$
# $$ dV = P^\top dout \quad dP = dout V^\top $$
# $$ dS = P \odot (dP - \operatorname{rowsum}(dP \odot P)) $$ (the softmax's Jacobian, row by row)
# $$ dQ = dS K / \sqrt{d_k} \quad dK = dS^\top Q / \sqrt{d_k} $$

# %%
with L.step("E1 backward by hand: dV, dP, dS, dQ, dK",
            formula="S = Q K^T / sqrt(d_k),   P = softmax(S) (rows),   out = P V\n"
                    "dV = P^T dout      dP = dout V^T\n"
                    "dS = P (.) (dP - rowsum(dP (.) P))     (the softmax's Jacobian, row "
                    "by row)\n"
                    "dQ = dS K / sqrt(d_k)      dK = dS^T Q / sqrt(d_k)"):
    Q, K, V, dout = (dev(rng.normal(size=(3, d))) for _ in range(4))
    print(f"    Q, K, V, dout: (3, {d});  S, P, dP, dS: (3, 3)")
    S = Q @ K.T / d ** 0.5
    P = xp.exp(S - S.max(axis=1, keepdims=True))
    P = P / P.sum(axis=1, keepdims=True)
    L.show("P = softmax(S)", P)
    L.show("dout (upstream)", dout)
    hand = {"dV": P.T @ dout, "dP": dout @ V.T}
    hand["dS"] = P * (hand["dP"] - (hand["dP"] * P).sum(axis=1, keepdims=True))
    hand["dQ"] = hand["dS"] @ K / d ** 0.5
    hand["dK"] = hand["dS"].T @ Q / d ** 0.5
    for name, value in hand.items():
        L.show(name, value)
    L.check_close("each row of dS sums to 0 (the softmax ignores a shift of its row)",
                  hand["dS"].sum(axis=1), xp.zeros(3), atol=1e-12)
    attn = nn.ScaledDotProductAttention()
    attn(Q, K, V)
    dq, dk, dv = attn.backward(dout)
    L.compare([("dQ", hand["dQ"], dq), ("dK", hand["dK"], dk), ("dV", hand["dV"], dv)])
    work_weight_gradient(L, "dV", P, dout, 0, 0, dv, "P", "dout")
    L.savefig(graph_diagram.draw(GRAPH, "Scaled dot-product attention (E1)",
                                 loss="L (dout upstream)"), "graph")
    L.check_gradients(attn, Q, K, V)


# %% [markdown]
# ### Why divide by sqrt(d_k)?
#
# $$ q, k ~ N(0, I_d): \quad Var(q . k) = d, \quad Var(q . k / \sqrt{d}) = 1 $$

# %%
with L.step("Why divide by sqrt(d_k)?",
            formula="q, k ~ N(0, I_d):  Var(q . k) = d,  Var(q . k / sqrt(d)) = 1"):
    dims = [1, 2, 4, 8, 16, 32, 64, 128, 256]
    n = 400 if L.fast else 4000
    var_raw, var_scaled, max_raw, max_scaled = [], [], [], []
    for dk in dims:
        q = dev(rng.normal(size=(n, dk)))
        k = dev(rng.normal(size=(n, 10, dk)))
        s = (q[:, None, :] * k).sum(-1)                  # (n, 10): 10 scores per query
        var_raw.append(float(s.var()))
        var_scaled.append(float((s / dk ** 0.5).var()))
        max_raw.append(float(softmax(s).max(axis=1).mean()))
        max_scaled.append(float(softmax(s / dk ** 0.5).max(axis=1).mean()))
        print(f"    d_k={dk:4d}  Var(q.k)={var_raw[-1]:8.2f}  Var(q.k/sqrt(d_k))="
              f"{var_scaled[-1]:5.2f}   mean largest weight of 10: raw {max_raw[-1]:.3f}, "
              f"scaled {max_scaled[-1]:.3f}")
    L.say("Unscaled, the scores spread like sqrt(d_k): at d_k = 256 the softmax puts almost "
          "all weight on one key (saturation), and its gradient y (1 - y) vanishes. Scaled, "
          "the spread and the weights stay the same for every d_k.")
    ratio = np.array(var_raw) / np.array(dims)
    L.check("Var(q.k) is about d_k (within 20 %)", np.all(np.abs(ratio - 1) < 0.2),
            f"Var/d_k from {ratio.min():.2f} to {ratio.max():.2f}")
    L.check("scaled variance stays about 1", np.all(np.abs(np.array(var_scaled) - 1) < 0.2))
    L.check("unscaled softmax saturates at d_k = 256", max_raw[-1] > 0.9,
            f"mean largest weight {max_raw[-1]:.3f}")
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 4))
    a1.loglog(dims, var_raw, "o-", label="q . k")
    a1.loglog(dims, var_scaled, "s-", label="q . k / sqrt(d_k)")
    a1.set(xlabel="d_k", ylabel="variance of the score", title="Score variance against d_k")
    a1.legend()
    a2.semilogx(dims, max_raw, "o-", label="softmax(q . k)")
    a2.semilogx(dims, max_scaled, "s-", label="softmax(q . k / sqrt(d_k))")
    a2.axhline(0.1, color="grey", ls=":", label="uniform over 10 keys")
    a2.set(xlabel="d_k", ylabel="mean largest weight (10 keys)",
           title="Softmax saturation against d_k")
    a2.legend()
    L.savefig(fig, "sqrt_dk")


# %% [markdown]
# ### Masks: padding and the future
#
# $$ mask[i, j] = True \quad \iff \quad query i may attend to key j $$
# $$ (PyTorch's boolean attn_mask is the opposite: True = NOT allowed) $$

# %%
with L.step("Masks: padding and the future",
            formula="mask[i, j] = True  <=>  query i may attend to key j\n"
                    "(PyTorch's boolean attn_mask is the opposite: True = NOT allowed)"):
    T = len(SEQUENCE)
    mask = example_mask(T)       # causal, the last step padding, query 0 sees nothing
    L.show("mask (causal & padding)", mask.astype(int))
    attn = nn.ScaledDotProductAttention()
    out = attn(dev(X), dev(X), dev(X), mask=mask)
    W = attn.weights.copy()                 # the gradient check below runs attn again
    L.show("weights", W)
    L.check("masked keys get exactly zero weight", bool((W[~mask] == 0).all()))
    L.check("a query with no allowed key gets zeros, not NaN",
            bool((W[0] == 0).all()) and bool((out[0] == 0).all()))
    L.say("Masked scores are replaced by the row minimum before the max is taken, and "
          "multiplied by 0 after the exponential: no -inf, no -1e6 fill, no 0/0.")
    L.check_gradients(attn, dev(X), dev(X) * 0.5, dev(X) * 2, mask=mask,
                      label="masked attention")
    fig, ax = plt.subplots(figsize=(4.5, 4))
    im = ax.imshow(backend.to_numpy(W), cmap="viridis", vmin=0, vmax=1)
    ax.set(xticks=range(T), yticks=range(T), xlabel="key (event)", ylabel="query (event)",
           title="Masked attention weights\n(row 0 is blank on purpose: that query may "
                 "see no key)")
    ax.set_xticklabels(SEQUENCE, rotation=45)
    ax.set_yticklabels(SEQUENCE)
    fig.colorbar(im, ax=ax, label="weight")
    L.savefig(fig, "masked_weights")


# %% [markdown]
# ### E2 erratum: self-attention needs three projections

# %%
with L.step("E2 erratum: self-attention needs three projections"):
    Wq, Wk, Wv = (dev(np.round(rng.normal(size=(d, d)) / 2, 2)) for _ in range(3))
    Xd = dev(X)
    Q, K, V = Xd @ Wq, Xd @ Wk, Xd @ Wv
    literal = softmax(Q @ Q.T / d ** 0.5)
    standard = softmax(Q @ K.T / d ** 0.5)
    L.erratum("E2",
              literal="Self-Attention(x) = softmax(Q Q^T / sqrt(d_k)) V",
              standard="Q = x W_Q, K = x W_K, V = x W_V;  softmax(Q K^T / sqrt(d_k)) V",
              demo="Q Q^T forces K = Q: the scores become symmetric (i rates j exactly as "
                   "j rates i) and each q_i . q_i = |q_i|^2 >= 0 favours attending to itself.",
              source="document 004 section 4.3")
    S_lit = Q @ Q.T
    L.show("literal scores Q Q^T", S_lit)
    S_std = Q @ K.T
    lit_symmetric = bool(xp.allclose(S_lit, S_lit.T))
    std_symmetric = bool(xp.allclose(S_std, S_std.T))
    self_pick = float((literal.argmax(1) == xp.arange(len(X))).mean())
    print(f"    literal: scores symmetric: {lit_symmetric}; rows whose "
          f"largest weight is on themselves: {self_pick:.0%}")
    print(f"    standard: scores symmetric: {std_symmetric}")
    L.check("the literal scores are symmetric, the standard ones are not",
            lit_symmetric and not std_symmetric)
    out = nn.ScaledDotProductAttention()(Q, K, V)
    L.check_close("standard form equals nn.ScaledDotProductAttention(xW_Q, xW_K, xW_V)",
                  out, standard @ V)


# %% [markdown]
# ### E3 errata: attention pooling over recurrent states, on document 002, section 4.3's example
#
# $$ s = h_T [h_1 .. h_T]^\top / \sqrt{d}; \quad \alpha = \mathrm{softmax}(s); \quad context = \alpha V = \sum_{t} \alpha_t h_t $$

# %%
with L.step("E3 errata: attention pooling over recurrent states, on document 002, "
            "section 4.3's example",
            formula="s = h_T [h_1 .. h_T]^T / sqrt(d);  alpha = softmax(s);  "
                    "context = alpha V = sum_t alpha_t h_t"):
    L.say("Document 002, section 4.3's example: a behaviour sequence [a1, a2, a3, a4], "
          "x_t = embedding(a_t), an LSTM gives [h1, h2, h3, h4], and h4 queries h1..h3 (the "
          "document gives the steps, no numbers: minseq's seeded weights). Model H2 (lesson "
          "12) pools its states the same way. LSTM states lie in (-1, 1), so with d = 4 the "
          "scores are small and the weights stay near 1/T.")
    minseq.manual_seed(5)
    actions = SEQUENCE[-4:]                                              # a1 .. a4
    L.say(f"a1 .. a4: user {USER}'s events 2 to 5, {actions}.")
    embedding = nn.Embedding(len(EVENTS), d).astype(xp.float64)
    lstm = nn.LSTM(d, d).astype(xp.float64)
    ids = backend.asarray([[EVENTS.index(a) for a in actions]])
    x_doc = embedding(ids)
    H = lstm(x_doc)[0][0]                                         # (4, d) = h1 .. h4
    print(f"    a1..a4 {tuple(ids.shape)} -> embedding {tuple(x_doc.shape)} -> LSTM states "
          f"{tuple(H.shape)}")
    L.show("H = [h_1 .. h_T] (LSTM states)", H)
    s = H[-1] @ H.T / d ** 0.5
    print(f"    h_T {tuple(H[-1].shape)} @ H^T {tuple(H.T.shape)} -> s {tuple(s.shape)}")
    alpha = softmax(s)
    alpha_twice = softmax(softmax(s))
    L.erratum("E3",
              literal="alpha_t = softmax(s_t) with s_t = softmax(Q K^T / sqrt(d)); "
                            "context = alpha_t (.) V",
              standard="alpha = softmax(Q K^T / sqrt(d)) once; context = alpha V (weighted SUM)",
              demo="A second softmax sees inputs in [0, 1], so its outputs differ by at most "
                   "a factor e: the weights flatten toward uniform. And alpha (.) V is a "
                   "(T, d) matrix, not one context vector.",
              source="document 002 sections 3.2, 4.2")
    L.show("alpha = softmax(s)          ", alpha)
    L.show("softmax(softmax(s)) (literal)", alpha_twice)
    T4 = len(actions)
    L.show("uniform                      ", xp.full(T4, 1 / T4))
    top, top_twice = float(alpha.max()), float(alpha_twice.max())
    L.check("the double softmax is flatter (largest weight closer to 1/T)",
            top_twice - 1 / T4 < top - 1 / T4, f"{top:.3f} -> {top_twice:.3f}")
    print(f"    literal alpha (.) V: {tuple(alpha.shape)} (.) {tuple(H.shape)} -> "
          f"{tuple((alpha[:, None] * H).shape)}, a matrix;  standard alpha V -> "
          f"{tuple((alpha @ H).shape)}, one vector")
    context = alpha @ H
    L.show("context = alpha V", context)
    out = nn.ScaledDotProductAttention()(H[-1:], H, H)
    L.check_close("attention pooling equals nn.ScaledDotProductAttention(h_T, H, H)",
                  out[0], context)


# %% [markdown]
# ### E4 erratum: scores must stay a vector

# %%
with L.step("E4 erratum: scores must stay a vector"):
    h = H
    summed = (h[3] @ h[0] + h[3] @ h[1] + h[3] @ h[2]) / d ** 0.5
    L.erratum("E4",
              literal="s_4 = softmax((h4 h1^T + h4 h2^T + h4 h3^T) / sqrt(d))",
              standard="s_4 = softmax([h4.h1, h4.h2, h4.h3] / sqrt(d))",
              demo="The sum is ONE number, and the softmax of one number is always 1: it "
                   "says nothing about which step matters.",
              source="document 002 section 4.3")
    literal = softmax(summed[None])
    L.show("literal: softmax of the summed score", literal)
    vec = softmax(xp.stack([h[3] @ h[0], h[3] @ h[1], h[3] @ h[2]]) / d ** 0.5)
    L.show("standard: softmax of the score vector", vec)
    L.check_close("the literal gives 1 whatever the states", literal, xp.ones(1), rtol=0,
                  atol=0)


# %% [markdown]
# ### E5 erratum: a softmax over an axis of size 1

# %%
with L.step("E5 erratum: a softmax over an axis of size 1"):
    w, b = dev(rng.normal(size=(d, 1))), 0.1
    e = xp.tanh(H @ w + b)  # TimeDistributed(Dense(1, tanh)): one score per step, (T, 1)
    sm = nn.Softmax()
    literal = sm(e)                                  # Activation('softmax') on the LAST axis
    standard = sm(e.T).T                             # softmax over the TIME axis
    L.erratum("E5",
              literal="TimeDistributed(Dense(1, tanh)) then Activation('softmax')",
              standard="softmax over the time axis: alpha_t = e^{e_t} / sum_s e^{e_s}",
              demo="The scores have shape (T, 1); a softmax over the last axis normalises "
                   "each single number by itself, so every weight is exactly 1.",
              source="document 002 section 5.2.2, code")
    L.show("scores e (T x 1)", e)
    L.show("literal weights", literal)
    L.show("standard weights", standard)
    L.check("literal weights are all 1", bool((literal == 1.0).all()))
    L.check_close("standard weights sum to 1 over time", standard.sum(), 1.0)

# %%
conclude(L.finish(
    summary=["Attention mixes the values with weights softmax(q . k / sqrt(d_k)); each "
             "weight says how much a key matters to a query.",
             "Dividing by sqrt(d_k) keeps the score variance at 1, so the softmax neither "
             "saturates nor stops passing gradient as d_k grows.",
             "Masks (True = may attend) give masked keys exactly zero weight; a query with "
             "nothing to see gets zeros, never NaN.",
             "E2-E5: use three projections; one softmax; keep the scores a vector; normalise "
             "over time, and take the weighted SUM of the values."],
    exercises=EXERCISES + [
        "Repeat the sqrt(d_k) experiment with q, k ~ N(0, 4 I). What scale factor would "
        "keep the variance at 1 now?",
        "Make the 'purchase' query attend only to 'cart' events with a mask. What context "
        "do you get, and why does it not depend on the query any more?",
        "Show that adding the same vector b to every key leaves the attention weights "
        "unchanged (this is why MultiHeadAttention's key bias has zero gradient)."]))
