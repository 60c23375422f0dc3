# %%
"""Multi-head attention by hand, sinusoidal positional encoding, and erratum E9.

Run: python lessons/06_multihead_positional.py [--step] [--fast] [--backend cupy]
"""

from unittest import mock

import matplotlib.pyplot as plt
import numpy as np

import minseq
import minseq.nn.positional as positional_module
from minseq import backend, nn, optim
from minseq.backend import xp
from minseq.lesson import Exercise, Lesson
from minseq.lessons_support import graph_diagram
from minseq.lessons_support.notebook import conclude
from minseq.lessons_support.worked import work_weight_gradient

from helpers import (EVENTS, USER, behaviour_log, behaviour_vectors, check_embedding, embed,
                     first_events, softmax, windows)


def dev(a):
    return backend.asarray(np.asarray(a, dtype=np.float64))


def head_by_hand(p, X, i, dk):
    """E6 for head i of one sequence X (T, d_model): its weights A (T, T) and its output
    A V (T, d_k), from columns i*d_k .. (i+1)*d_k of W_Q, W_K, W_V."""
    cols = slice(i * dk, (i + 1) * dk)
    Q = X @ p["Wq"][:, cols] + p["bq"][cols]
    K = X @ p["Wk"][:, cols] + p["bk"][cols]
    V = X @ p["Wv"][:, cols] + p["bv"][cols]
    A = softmax(Q @ K.T / dk ** 0.5)
    return A, A @ V


def pe_by_hand(T, d):
    """E7 as printed, (T, d): angle(pos, i) = pos / 10000^(2i/d); sin and cos interleaved."""
    angle = xp.arange(T)[:, None] / 10000 ** (xp.arange(0, d, 2) / d)   # (T, d/2)
    return xp.stack([xp.sin(angle), xp.cos(angle)], axis=-1).reshape(T, d)


def offset_dots(pe, k=5):
    """PE[p] . PE[p+k] for p = 0, 10, ..., 80, on the active backend: equal when only k
    matters."""
    p = xp.arange(0, 90, 10)
    return (pe[p] * pe[p + k]).sum(axis=1)


def order_matters(mha, pe_layer, X, perm):
    """The largest change that shuffling the events by ``perm`` (a backend index array) makes
    to MHA(x + PE), after un-shuffling the outputs: 0 when the model cannot see order."""
    a = mha(pe_layer(dev(X[None])))[0]
    b = mha(pe_layer(dev(X)[perm][None]))[0]
    return float(xp.abs(b - a[perm]).max())


def grade_sinusoidal_table(L, sinusoidal_table):
    """Exercise 1: the student's table inside minseq's SinusoidalPositionalEncoding; the step's
    E7 formula, minseq's table, the unit circle of each pair, the offset property, and order."""
    reference = positional_module.sinusoidal_table
    with mock.patch.object(positional_module, "sinusoidal_table", sinusoidal_table):
        pe_layer = nn.SinusoidalPositionalEncoding(8, max_len=20)
        big = nn.SinusoidalPositionalEncoding(64, max_len=100).pe
    L.check_close("the layer adds E7's table (the step's formula)",
                  pe_layer(xp.zeros((1, 12, 8)))[0], pe_by_hand(12, 8), atol=1e-12)
    L.check_close("the table for d_model = 64 equals minseq's", big, reference(100, 64),
                  atol=1e-12)
    L.check_close("each (sin, cos) pair lies on the unit circle",
                  big[:, 0::2] ** 2 + big[:, 1::2] ** 2, xp.ones((100, 32)), atol=1e-12)
    dots = offset_dots(big)
    spread = float(dots.max() - dots.min())
    L.check("PE[p] . PE[p+k] depends on the offset k only", spread < 1e-9,
            f"spread {spread:.1e}")
    minseq.manual_seed(0)
    mha = nn.MultiHeadAttention(8, 2).astype(xp.float64)
    X = backend.host_rng(1).standard_normal((5, 8))
    change = order_matters(mha, pe_layer, X, backend.asarray([4, 2, 0, 3, 1]))
    L.check("with PE added, shuffling the events changes the outputs", change > 1e-6,
            f"max change {change:.3f}")


def exercise_attention():
    """The graders' set-up: MultiHeadAttention(4, 2) in float64 with small random biases, and a
    batch of two sequences of five events, the same on every run."""
    minseq.manual_seed(0)
    mha = nn.MultiHeadAttention(4, 2).astype(xp.float64)
    rng = backend.host_rng(5)
    for name in ("bq", "bk", "bv", "bo"):
        mha.params[name][...] = backend.asarray(0.1 * rng.standard_normal(4))
    return mha, backend.asarray(rng.standard_normal((2, 5, 4)))


def grade_multi_head_attention(L, multi_head_attention):
    """Exercise 2: the student's all-heads-at-once forward against nn.MultiHeadAttention (with
    and without a causal mask, with 2 and 4 heads) and against the E6 step, head by head."""
    mha, x = exercise_attention()
    p, (B, T, d) = mha.params, x.shape
    out, weights = multi_head_attention(p, x, 2)
    L.check_close("the output equals nn.MultiHeadAttention's", out, mha(x), rtol=1e-9)
    L.check_close("the weights (B, h, T, T) equal the layer's", weights, mha.weights, rtol=1e-9)
    heads = [head_by_hand(p, x[1], i, d // 2)[1] for i in range(2)]
    L.check_close("sequence 2 equals E6 head by hand: Concat(head_1, head_2) W_O + b_O",
                  out[1], xp.concatenate(heads, axis=1) @ p["Wo"] + p["bo"], rtol=1e-9)
    mask = nn.causal_mask(T)
    out, weights = multi_head_attention(p, x, 2, mask)
    L.check_close("with a causal mask: equals the layer's output", out, mha(x, mask=mask),
                  rtol=1e-9)
    L.check("with a causal mask: every weight above the diagonal is exactly 0",
            bool((weights * ~mask == 0).all()))
    four = nn.MultiHeadAttention(d, 4).astype(xp.float64)
    four.load_state_dict(mha.state_dict())
    L.check_close("with 4 heads (d_k = 1): equals the layer's output",
                  multi_head_attention(p, x, 4)[0], four(x), rtol=1e-9)
    perm = backend.asarray(np.array([4, 2, 0, 3, 1]))
    L.check_close("shuffling the events shuffles the outputs the same way",
                  multi_head_attention(p, x[:, perm], 2)[0],
                  multi_head_attention(p, x, 2)[0][:, perm], rtol=1e-9)


EXERCISES = [
    Exercise("sinusoidal_table", "Write the sinusoidal positional encoding table (E7): sin in "
             "the even columns, cos in the odd ones, one frequency per pair.",
             grade_sinusoidal_table,
             reference=["minseq.nn.positional.sinusoidal_table"]),
    Exercise("multi_head_attention", "Write multi-head attention for a batch, every head at once "
             "(no loop over heads): project, split into (B, h, T, d_k), attend, concatenate the "
             "heads at each step, project with W_O (step 2 of this lesson).",
             grade_multi_head_attention,
             reference=["minseq.nn.multihead.MultiHeadAttention.forward"])]


#: Multi-head attention's forward, one operation a line in E6's names: its graph diagram
GRAPH = [("Q, K, V", "x W_Q, x W_K, x W_V (+ biases)", ["x", "W_Q, W_K, W_V"]),
         ("head_i", "softmax(Q_i K_i^T / sqrt(d_k)) V_i", ["Q, K, V"]),
         ("concat", "Concat(head_1 .. head_h)", ["head_i"]),
         ("y", "concat W_O + b_O", ["concat", "W_O", "b_O"])]


# %%
L = Lesson(__file__, "Multi-head attention and positional encoding", ids=["E6", "E7", "E9"],
           goals=["compute multi-head attention head by head, then all heads at once",
                  "build the sinusoidal positional encoding and read its heat map",
                  "see why attention alone ignores order, and how PE fixes it",
                  "spot erratum E9: heads are concatenated, not time steps"])
if L.args.exercise:
    conclude(L.grade(EXERCISES))
rng = np.random.default_rng(1)
log = behaviour_log()
sequence = first_events(log, USER, 5)
T, d, h = len(sequence), 4, 2
L.say(f"User {USER}'s first {T} events, in the behaviour log of the earlier lessons "
      f"(helpers.behaviour_log): {sequence}, each embedded as its behaviour's row of a "
      f"table of random numbers (one vector per behaviour), X ({T}, {d}).")
dk = d // h
X = embed(sequence, behaviour_vectors(rng, d))
check_embedding(L, sequence, X)
mha = nn.MultiHeadAttention(d, h).astype("float64")
for name in ("bq", "bv", "bo"):
    mha.params[name][...] = dev(np.round(rng.normal(size=d) * 0.1, 2))
p = mha.params
Xd = dev(X)


# %% [markdown]
# ### E6 head by head
#
# $$ head_i = \mathrm{Attention}(x W_Q^i, x W_K^i, x W_V^i) $$ (W^i: columns i*d_k .. (i+1)*d_k)
# $$ \mathrm{MultiHead}(x) = \mathrm{Concat}(head_1, ..., head_h) W_O $$

# %%
with L.step("E6 head by head",
            formula="head_i = Attention(x W_Q^i, x W_K^i, x W_V^i)   (W^i: columns "
                    "i*d_k .. (i+1)*d_k)\nMultiHead(x) = Concat(head_1, ..., head_h) W_O"):
    L.show("X (events x d_model)", Xd)
    heads = []
    for i in range(h):
        A, head = head_by_hand(p, Xd, i, dk)
        heads.append(head)
        if i == 0:
            print(f"    X {tuple(Xd.shape)} @ W_Q^i {(d, dk)} -> Q, K, V {(T, dk)};  "
                  f"Q K^T -> weights {tuple(A.shape)};  weights V -> head {tuple(head.shape)}")
        L.show(f"head {i + 1} weights", A)
    concat = xp.concatenate(heads, axis=1)
    print(f"    Concat of {h} heads {tuple(heads[0].shape)} -> {tuple(concat.shape)};  "
          f"@ W_O {tuple(p['Wo'].shape)} -> {tuple(concat.shape)}")
    L.show("Concat(head_1, head_2)  (T x d_model)", concat)
    y = concat @ p["Wo"] + p["bo"]
    out = mha(Xd[None])
    L.check_close("nn.MultiHeadAttention gives the same output", out[0], y)
    dy = dev(np.round(backend.host_rng(7).standard_normal((T, d)), 2))
    mha.backward(dy[None])
    L.say("Backward from an upstream dy: W_O's gradient is Concat^T dy; one entry with "
          "numbers, summed over the events:")
    work_weight_gradient(L, "dW_O", concat, dy, 0, 0, mha.grads["Wo"], "concat", "dy")
    L.savefig(graph_diagram.draw(GRAPH, "Multi-head attention (E6)",
                                 loss="L (dy upstream)"), "graph")


# %% [markdown]
# ### All heads in one batched product
#
# $$ (B, T, d_model) \to reshape (B, T, h, d_k) \to swap \to (B, h, T, d_k) $$
# $$ scores (B, h, T, T) = Q @ K^\top: one matmul for every head and sequence $$

# %%
with L.step("All heads in one batched product",
            formula="(B, T, d_model) -> reshape (B, T, h, d_k) -> swap -> (B, h, T, d_k)\n"
                    "scores (B, h, T, T) = Q @ K^T: one matmul for every head and sequence"):
    Qall = (Xd @ p["Wq"] + p["bq"]).reshape(T, h, dk).swapaxes(0, 1)  # (h, T, d_k)
    print(f"    Q: {(T, d)} -> {tuple(Qall.shape)}; scores: {(h, T, T)}; no loop over heads")
    L.check_close("head 2's queries are columns 2..3 of X W_Q",
                  Qall[1], Xd @ p["Wq"][:, 2:] + p["bq"][2:])
    x_dev = dev(X[None])
    L.say("Every weight and bias (W_Q, W_K, W_V, W_O and their biases; bk's gradient is "
          "0 by design: it shifts a whole row of scores) and the input, numerically:")
    L.check_gradients(mha, x_dev)


# %% [markdown]
# ### Two heads trained until they specialise

# %%
with L.step("Two heads trained until they specialise",
            formula=f"x_t = one-hot(event_t) ({len(EVENTS)} of d_model = "
                    f"{2 * len(EVENTS)} dims) + PE[t], causal mask\n"
                    "target_t = [one-hot(event_{t-1}), one-hot(event_1)]: "
                    "the previous event and the first one\n"
                    f"MultiHeadAttention({2 * len(EVENTS)}, 2), MSE, Adam: one head can "
                    "fetch each half"):
    minseq.manual_seed(0)
    V = len(EVENTS)
    d2, T2 = 2 * V, 6                          # room for both halves of the target
    trained = nn.MultiHeadAttention(d2, h).astype(xp.float64)
    pe2 = nn.SinusoidalPositionalEncoding(d2, max_len=T2)
    opt, mask = optim.Adam(trained, lr=0.02), nn.causal_mask(T2)
    task_rng = np.random.default_rng(3)

    users = np.arange(1, log.n_users + 1)
    L.say(f"Each batch: windows of {T2} events of the log's users (helpers.windows).")

    def batch(B):
        ev = windows(log, task_rng, B, T2, users)
        rows, cols = np.arange(B)[:, None], np.arange(T2)[None]
        x, y = np.zeros((B, T2, d2)), np.zeros((B, T2, d2))
        x[rows, cols, ev] = 1.0
        y[rows, cols, np.concatenate([ev[:, :1], ev[:, :-1]], 1)] = 1.0
        y[rows, cols, V + ev[:, :1]] = 1.0
        return pe2(dev(x)), dev(y), ev

    steps = 300 if L.fast else 400
    for step in range(steps + 1):
        x, y, ev = batch(32)
        if step == 0:
            print(f"    ids {ev.shape} -> one-hot + PE: x {tuple(x.shape)};  target y "
                  f"{tuple(y.shape)};  heads: {h} x (32, {T2}, {d2 // h})")
        diff = trained(x, mask=mask) - y
        trained.backward(2 * diff / diff.size)
        opt.step()
        if step % (steps // 2) == 0:
            L.say(f"step {step}: MSE {float((diff ** 2).mean()):.4f}")
    x, y, ev = batch(200)
    trained(x, mask=mask)
    W = trained.weights                                          # (B, h, T, T)
    t = xp.arange(2, T2)                                         # queries t >= 3
    on_prev = W[:, :, t, t - 1].mean(axis=(0, 2))                # (h,): key t - 1
    on_first = W[:, :, t, 0].mean(axis=(0, 2))                   # (h,): key 0
    for i in range(h):
        print(f"    head {i + 1}: mean weight on the previous event {float(on_prev[i]):.2f}, "
              f"on the first event {float(on_first[i]):.2f}   (queries t >= 3)")
    L.check("the heads specialise: one attends mostly to the previous event, the other "
            "to the first", float(on_prev.max()) > 0.5 and float(on_first.max()) > 0.5
            and int(on_prev.argmax()) != int(on_first.argmax()))
    fig, axes = plt.subplots(1, h, figsize=(4 * h, 3.6))
    labels = [EVENTS[int(e)] for e in ev[0]]
    for i, ax in enumerate(axes):
        im = ax.imshow(backend.to_numpy(W[0, i]), cmap="viridis", vmin=0, vmax=1)
        ax.set(title=f"head {i + 1}", xlabel="key (event)", ylabel="query (event)",
               xticks=range(T2), yticks=range(T2))
        ax.set_xticklabels(labels, rotation=45)
        ax.set_yticklabels(labels)
    fig.colorbar(im, ax=axes[-1], label="weight")
    fig.suptitle("Trained heads specialise: the previous event, the first event")
    L.savefig(fig, "heads")


# %% [markdown]
# ### Attention alone ignores order
#
# $$ MHA(P x) = P MHA(x) for any permutation P of the time steps $$

# %%
with L.step("Attention alone ignores order",
            formula="MHA(P x) = P MHA(x) for any permutation P of the time steps"):
    perm = backend.asarray([4, 2, 0, 3, 1])
    a = mha(dev(X[None]))[0]
    b = mha(dev(X)[perm][None])[0]
    L.check_close("shuffling the events shuffles the outputs the same way", b, a[perm])
    L.say("'cart then purchase' and 'purchase then cart' look alike to attention: position "
          "information must be added to the inputs.")


# %% [markdown]
# ### E7: sinusoidal positional encoding
#
# $$ PE[pos, 2i] = \sin(pos / 10000^{2i/d}), \quad PE[pos, 2i+1] = \cos(pos / 10000^{2i/d}) $$

# %%
with L.step("E7: sinusoidal positional encoding",
            formula="PE[pos, 2i] = sin(pos / 10000^(2i/d)),  PE[pos, 2i+1] = cos(pos / "
                    "10000^(2i/d))"):
    pe_layer = nn.SinusoidalPositionalEncoding(d, max_len=50)
    by_hand = pe_by_hand(T, d)
    print(f"    angles {(T, d // 2)} -> sin, cos interleaved -> PE {tuple(by_hand.shape)}")
    L.show("PE[:5] by hand", by_hand)
    L.check_close("nn.SinusoidalPositionalEncoding adds the same table",
                  pe_layer(xp.zeros((1, T, d)))[0], by_hand, atol=1e-12)
    L.check_gradients(pe_layer, dev(X[None]))
    change = order_matters(mha, pe_layer, X, perm)
    L.check("with PE added, shuffling the events changes the outputs", change > 1e-6,
            f"max change {change:.3f}")
    big = nn.SinusoidalPositionalEncoding(64, max_len=100).pe
    dots = offset_dots(big)
    L.show("PE[p] . PE[p+5] for p = 0, 10, ..., 80", dots)
    L.check("PE[p] . PE[p+k] depends on the offset k only",
            float(dots.max() - dots.min()) < 1e-9)
    fig, ax = plt.subplots(figsize=(7, 4))
    im = ax.imshow(backend.to_numpy(big), aspect="auto", cmap="RdBu_r", vmin=-1, vmax=1)
    ax.set(xlabel="dimension (even: sin, odd: cos)", ylabel="position",
           title="Sinusoidal positional encoding (d_model = 64)")
    fig.colorbar(im, ax=ax, label="PE value")
    L.savefig(fig, "positional_encoding")


# %% [markdown]
# ### E9 erratum: concatenate heads, not time steps

# %%
with L.step("E9 erratum: concatenate heads, not time steps"):
    L.erratum("E9",
              literal="Encoder(x) = MultiHeadAttention(x) = Concat(h_1 ... h_T)",
              standard="MultiHead(x) = Concat(head_1 ... head_h) W_O at every step; an "
                       "encoder layer adds feed-forward, residuals and LayerNorm (lesson 07)",
              demo="Concatenating the T time steps gives one vector of length T * d whose "
                   "size changes with the sequence length, so no fixed weight matrix can "
                   "follow it; multi-head concatenates the h heads' d_k-vectors per step, "
                   "giving (T, d_model) for any T.",
              source="document 004 section 4.3")
    L.erratum("E9",
              literal="Decoder(x) = MultiHeadAttention(x) = Concat(h_1, h_2, ..., h_T)",
              standard="a decoder layer: masked self-attention, cross-attention to the "
                       "encoder's output, feed-forward, each with residual and LayerNorm "
                       "(nn.TransformerDecoderLayer, lesson 07)",
              demo="the same time-step concatenation, and the formula makes the decoder "
                   "identical to the encoder: no causal mask and no encoder input.",
              source="document 004 section 4.3, repeated for the decoder just below the "
                     "encoder's formula")
    for T2 in (3, 5):
        x2 = dev(rng.normal(size=(1, T2, d)))
        literal = xp.concatenate([x2[0, t] for t in range(T2)])   # h_1 ... h_T side by side
        standard = mha(x2)
        print(f"    T = {T2}: literal Concat(h_1..h_T) has shape {tuple(literal.shape)}; "
              f"MultiHeadAttention output {tuple(standard.shape[1:])}")
    L.check("the standard output keeps (T, d_model) for every T",
            mha(dev(rng.normal(size=(1, 7, d)))).shape == (1, 7, d))

# %%
conclude(L.finish(
    summary=["Multi-head attention splits d_model into h slices, runs attention on each "
             "slice in parallel and concatenates the heads before W_O.",
             "All heads and sequences go through one batched matmul over a (B, h, T, d_k) "
             "layout; no loop over heads.",
             "Attention is permutation-equivariant; the sinusoidal table adds position, and "
             "PE[p] . PE[p+k] depends only on the offset k.",
             "E9: heads are concatenated at each time step, never the time steps."],
    exercises=EXERCISES + [
        "With h = 4 heads and d_model = 4, each head has d_k = 1. What can a head with "
        "d_k = 1 still express? Print its weights.",
        "Replace the sinusoids by nn.LearnedPositionalEmbedding. Is PE[p] . PE[p+k] "
        "still a function of k alone? Why not?",
        "Prove that PE[p+k] is a rotation of PE[p] (pair by pair) and deduce the "
        "offset property checked above."]))
