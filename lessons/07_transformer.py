# %%
"""Transformer encoder and decoder layers step by step, post-LN against pre-LN, attention maps.

Run: python lessons/07_transformer.py [--step] [--fast] [--backend cupy]
"""

from unittest import mock

import matplotlib.pyplot as plt
import numpy as np

import minseq
from minseq import backend, nn
from minseq.backend import xp
from minseq.gradcheck.registry import CASES
from minseq.lesson import Exercise, Lesson
from minseq.lessons_support import graph_diagram
from minseq.lessons_support.notebook import conclude
from minseq.lessons_support.worked import work_weight_gradient

from helpers import USER, behaviour_log, behaviour_vectors, check_embedding, embed, first_events

#: the registered gradient-check cases of the three blocks (python -m minseq gradcheck)
BLOCK_CASES = ("TransformerEncoderLayer", "TransformerEncoderLayer pre-LN",
               "TransformerDecoderLayer")


def dev(a):
    return backend.asarray(np.asarray(a, dtype=np.float64))


def host(a):
    return backend.to_numpy(a)


def layer_norm(x, eps=1e-5):
    """LayerNorm with gamma = 1, beta = 0 (their initial values), on the active backend."""
    mu = x.mean(-1, keepdims=True)
    return (x - mu) / (((x - mu) ** 2).mean(-1, keepdims=True) + eps) ** 0.5


def feed_forward(layer, x):
    """W_2 ReLU(W_1 x + b_1) + b_2 with ``layer``'s weights, on the active backend."""
    p = dict(layer.named_parameters())
    hidden = xp.maximum(x @ p["linear1.W"] + p["linear1.b"], 0)
    return hidden @ p["linear2.W"] + p["linear2.b"]


def encoder_by_hand(layer, x):
    """E8 from ``layer``'s sub-layers, LayerNorms at gamma = 1, beta = 0, no dropout: (h, y),
    post-LN, or pre-LN when ``layer.norm_first``."""
    if layer.norm_first:
        h = x + layer.self_attn(layer_norm(x))
        return h, h + feed_forward(layer, layer_norm(h))
    h = layer_norm(x + layer.self_attn(x))
    return h, layer_norm(h + feed_forward(layer, h))


def layer_norm_by_hand(x, gamma, dy, eps=1e-5):
    """The step's LayerNorm backward for rows x (N, d), upstream dy (N, d): a dict of mu, std,
    xhat, dxhat, dgamma, dbeta and dx."""
    mu = x.mean(axis=1, keepdims=True)
    std = (((x - mu) ** 2).mean(axis=1, keepdims=True) + eps) ** 0.5
    xhat = (x - mu) / std
    dxhat = dy * gamma
    return {"mu": mu, "std": std, "xhat": xhat, "dxhat": dxhat,
            "dgamma": (dy * xhat).sum(axis=0), "dbeta": dy.sum(axis=0),
            "dx": (dxhat - dxhat.mean(axis=1, keepdims=True)
                   - xhat * (dxhat * xhat).mean(axis=1, keepdims=True)) / std}


def exercise_norm():
    """The graders' set-up: LayerNorm(4) in float64 with random gamma and beta, five rows x and
    an upstream gradient dy, the same on every run."""
    rng = backend.host_rng(7)
    ln = nn.LayerNorm(4).astype(xp.float64)
    ln.params["gamma"][...] = backend.asarray(1 + 0.5 * rng.standard_normal(4))
    ln.params["beta"][...] = backend.asarray(0.1 * rng.standard_normal(4))
    x, dy = (backend.asarray(rng.standard_normal((5, 4))) for _ in range(2))
    return ln, x, dy


def norm_backward_with(layer_norm_backward):
    """LayerNorm.backward with the student's function inside: the same cache (xhat, std) in,
    the same gradients out."""
    def backward(self, dy):
        xhat, std = self.saved()
        dx, dgamma, dbeta = layer_norm_backward(dy, xhat, std, self.params["gamma"])
        self.grads["gamma"][...] = dgamma
        self.grads["beta"][...] = dbeta
        return dx
    return backward


def check_block_gradients(L, names):
    """Gradient-check the registered cases ``names``, every tensor at its case's tolerance."""
    for name in names:
        case = CASES[name]
        module, inputs, kwargs = case.build()
        L.check_gradients(module, *inputs, tol=case.tol, grad_inputs=case.grad_inputs,
                          label=name, **kwargs)


def grade_layer_norm_backward(L, layer_norm_backward):
    """Exercise 1: the student's backward inside minseq's LayerNorm; against the step's formulas,
    then every gradient against central differences, of the LayerNorm alone and of the three
    blocks, whose every LayerNorm runs it."""
    ln, x, dy = exercise_norm()
    hand = layer_norm_by_hand(x, ln.params["gamma"], dy)
    with mock.patch.object(nn.LayerNorm, "backward", norm_backward_with(layer_norm_backward)):
        ln(x)
        dx = ln.backward(dy)
        L.compare([("dx", hand["dx"], dx), ("dgamma", hand["dgamma"], ln.grads["gamma"]),
                   ("dbeta", hand["dbeta"], ln.grads["beta"])])
        L.check_close("each row of dx sums to 0", dx.sum(axis=1), xp.zeros(5), atol=1e-12)
        check_block_gradients(L, ("LayerNorm",) + BLOCK_CASES)


def encoder_forward_with(encoder_layer_forward):
    """TransformerEncoderLayer.forward with the student's function inside; the layer's own
    backward then runs the sub-layers in reverse."""
    def forward(self, x, mask=None):
        self.save_for_backward(x.shape)          # what the layer's backward reads first
        return encoder_layer_forward(self, x, mask)
    return forward


def with_fresh_masks(layer, x, **kwargs):
    """layer(x) with every dropout stream restarted: two forwards draw the same masks."""
    for module in layer.modules():
        module.reset_rng()
    return layer(x, **kwargs)


def grade_encoder_layer(L, encoder_layer_forward):
    """Exercise 2: the student's forward inside minseq's TransformerEncoderLayer; against the
    E8 steps by hand (post-LN and pre-LN), against the layer with dropout (the same masks) and
    a causal mask, and, once it computes the layer, every gradient of the layer's own backward
    against central differences at the student's forward."""
    minseq.manual_seed(0)
    X = backend.asarray(backend.host_rng(2).standard_normal((2, 4, 4)))
    post = nn.TransformerEncoderLayer(4, 2, d_ff=8, dropout=0.0).astype(xp.float64)
    pre = nn.TransformerEncoderLayer(4, 2, d_ff=8, dropout=0.0,
                                     norm_first=True).astype(xp.float64)
    pre.load_state_dict(post.state_dict())
    by_hand = [("post-LN", post, encoder_by_hand(post, X)[1]),
               ("pre-LN", pre, encoder_by_hand(pre, X)[1])]
    # the gradient-check cases (post-LN with dropout 0.1, pre-LN with a causal mask), each
    # with its output from minseq's own forward
    cases = [(name, CASES[name].tol, *CASES[name].build()) for name in BLOCK_CASES[:2]]
    for *_, module, _, _ in cases:
        module.astype(xp.float64)                # the cases' inputs are float64
    expected = [with_fresh_masks(module, *inputs, **kwargs)
                for *_, module, inputs, kwargs in cases]
    with mock.patch.object(nn.TransformerEncoderLayer, "forward",
                           encoder_forward_with(encoder_layer_forward)):
        for label, layer, y in by_hand:
            L.check_close(f"{label}: y equals E8 by hand", layer(X), y, atol=1e-12)
        for (name, tol, module, inputs, kwargs), y in zip(cases, expected):
            if L.check_close(f"{name} case: y equals the layer's (the same dropout masks)",
                             with_fresh_masks(module, *inputs, **kwargs), y, atol=1e-12):
                L.check_gradients(module, *inputs, tol=tol, label=name, **kwargs)
            else:
                L.say("The gradient check waits for a forward that computes the layer: the "
                      "backward runs, in reverse, the sub-layers your forward called.")


EXERCISES = [
    Exercise("layer_norm_backward", "Write LayerNorm's backward: dx, dgamma and dbeta from the "
             "upstream dy and the cached xhat and std (step 3 of this lesson), for any number "
             "of leading axes.", grade_layer_norm_backward,
             reference=["minseq.nn.layernorm.LayerNorm.backward"]),
    Exercise("encoder_layer_forward", "Write the encoder layer's forward (E8) from its "
             "sub-layers: self-attention and the feed-forward network, each with dropout, a "
             "residual connection and a LayerNorm, post-LN or pre-LN.", grade_encoder_layer,
             reference=["minseq.nn.transformer.TransformerEncoderLayer.forward"])]


#: The post-LN encoder layer's forward, one operation a line in E8's names: its graph diagram
GRAPH = [("a", "MultiHeadAttention", ["x", "W_Q, W_K, W_V, W_O"]),
         ("h", "LayerNorm(x + a)", ["x", "a", "gamma_1, beta_1"]),
         ("r", "ReLU(h W_1 + b_1)", ["h", "W_1, b_1"]), ("f", "r W_2 + b_2", ["r", "W_2, b_2"]),
         ("y", "LayerNorm(h + f)", ["h", "f", "gamma_2, beta_2"])]


# %%
L = Lesson(__file__, "The Transformer block", ids=["E8"],
           goals=["build an encoder layer from its sub-layers and check it against minseq's",
                  "tell post-LN from pre-LN and see what each does through depth",
                  "run a decoder layer: masked self-attention, then cross-attention",
                  "read attention-weight heat maps"])
if L.args.exercise:
    conclude(L.grade(EXERCISES))
rng = np.random.default_rng(2)
sequence = first_events(behaviour_log(), USER, 5)
d, h, d_ff, T = 4, 2, 8, len(sequence)
L.say(f"The encoder reads user {USER}'s first {T} events, from the behaviour log of the "
      f"earlier lessons (helpers.behaviour_log): {sequence}, each embedded as its "
      f"behaviour's row of a table of random numbers (one vector per behaviour), "
      f"X (1, {T}, {d}).")
X = embed(sequence, behaviour_vectors(rng, d))[None]
check_embedding(L, sequence, X[0])
enc = nn.TransformerEncoderLayer(d, h, d_ff=d_ff, dropout=0.0).astype("float64")


# %% [markdown]
# ### E8 encoder layer, post-LN (the original Transformer, PyTorch's default)
#
# $$ h = \mathrm{LayerNorm}(x + \mathrm{MultiHeadAttention}(x)) $$
# $$ y = \mathrm{LayerNorm}(h + W_2 \mathrm{ReLU}(W_1 h + b_1) + b_2) $$

# %%
with L.step("E8 encoder layer, post-LN (the original Transformer, PyTorch's default)",
            formula="h = LayerNorm(x + MultiHeadAttention(x))\n"
                    "y = LayerNorm(h + W_2 ReLU(W_1 h + b_1) + b_2)"):
    print(enc)
    Xd = dev(X)
    hid, y = encoder_by_hand(enc, Xd)
    L.show("h = LN(x + attention)", hid[0])
    print(f"    FFN: h {tuple(hid.shape)} @ W_1 {(d, d_ff)} -> {(1, T, d_ff)} @ W_2 "
          f"{(d_ff, d)} -> {tuple(hid.shape)}")
    L.show("y = LN(h + FFN(h))", y[0])
    L.check_close("nn.TransformerEncoderLayer gives the same y", enc(Xd), y, atol=1e-12)
    L.check_close("each row of y has mean 0 (gamma = 1, beta = 0)", y.mean(-1),
                  xp.zeros((1, T)), atol=1e-9)
    L.check_close("each row of y has variance 1", y.var(-1), xp.ones((1, T)), atol=1e-4)


# %% [markdown]
# ### Pre-LN: normalise the input of each sub-layer instead
#
# $$ h = x + \mathrm{MultiHeadAttention}(\mathrm{LayerNorm}(x)) $$
# $$ y = h + \mathrm{FFN}(\mathrm{LayerNorm}(h)) $$

# %%
with L.step("Pre-LN: normalise the input of each sub-layer instead",
            formula="h = x + MultiHeadAttention(LayerNorm(x))\n"
                    "y = h + FFN(LayerNorm(h))"):
    pre = nn.TransformerEncoderLayer(d, h, d_ff=d_ff, dropout=0.0,
                                     norm_first=True).astype("float64")
    pre.load_state_dict(enc.state_dict())  # the very same weights
    y = encoder_by_hand(pre, Xd)[1]
    L.show("y (pre-LN)", y[0])
    L.check_close("nn.TransformerEncoderLayer(norm_first=True) gives the same y",
                  pre(Xd), y, atol=1e-12)
    L.say("The residual path x -> y now has no LayerNorm on it: the identity carries the "
          "input (and the gradient) straight through every layer.")


# %% [markdown]
# ### LayerNorm backward by hand
#
# $$ \mu, \mathrm{var} over each row; \quad \mathrm{std} = \sqrt{\mathrm{var} + \varepsilon}; \quad \hat{x} = (x - \mu) / \mathrm{std}; \quad y = \gamma \odot \hat{x} + \beta $$
# $$ dgamma = \sum_{rows} dy \odot \hat{x} \quad dbeta = \sum_{rows} dy \quad d\hat{x} = dy \odot \gamma $$
# $$ dx = (d\hat{x} - \operatorname{mean}(d\hat{x}) - \hat{x} \odot \operatorname{mean}(d\hat{x} \odot \hat{x})) / \mathrm{std} $$ (means over the row)

# %%
with L.step("LayerNorm backward by hand",
            formula="mu, var over each row;  std = sqrt(var + eps);  xhat = (x - mu) / std;"
                    "  y = gamma (.) xhat + beta\n"
                    "dgamma = sum_rows dy (.) xhat     dbeta = sum_rows dy     "
                    "dxhat = dy (.) gamma\n"
                    "dx = (dxhat - mean(dxhat) - xhat (.) mean(dxhat (.) xhat)) / std"
                    "     (means over the row)"):
    ln = nn.LayerNorm(d).astype("float64")
    ln.params["gamma"][...] = dev(np.round(1 + 0.5 * rng.normal(size=d), 2))
    ln.params["beta"][...] = dev(np.round(0.1 * rng.normal(size=d), 2))
    x, dy = dev(X[0]), dev(np.round(rng.normal(size=(T, d)), 2))
    hand = layer_norm_by_hand(x, ln.params["gamma"], dy)
    print(f"    x, xhat, dy, dxhat, dx: {tuple(x.shape)};  mu, std: "
          f"{tuple(hand['mu'].shape)};  gamma, dgamma, dbeta: ({d},)")
    L.show("gamma", ln.params["gamma"])
    L.show("xhat", hand["xhat"])
    L.show("dy (upstream)", dy)
    for name in ("dxhat", "dgamma", "dbeta", "dx"):
        L.show(name, hand[name])
    ln(x)
    dx = ln.backward(dy)
    L.compare([("dx", hand["dx"], dx), ("dgamma", hand["dgamma"], ln.grads["gamma"]),
               ("dbeta", hand["dbeta"], ln.grads["beta"])])
    L.say("Each row of dx sums to 0: moving a whole row by a constant leaves its xhat "
          "unchanged, so the loss cannot depend on that direction.")
    L.check_gradients(ln, x)
    L.check_gradients(nn.FeedForward(d, d_ff, dropout=0.0).astype("float64"), dev(X))


# %% [markdown]
# ### Every parameter's gradient against central differences

# %%
with L.step("Every parameter's gradient against central differences"):
    L.say("The registered gradient-check cases of the three blocks (python -m minseq "
          "gradcheck), every tensor at the blocks' tolerance:")
    check_block_gradients(L, BLOCK_CASES)
    L.say("Beyond LayerNorm, one entry of the feed-forward sub-layer's backward with "
          "numbers: dW_2 = r^T df, r = ReLU(h W_1 + b_1), on the post-LN layer's h and an "
          "upstream df.")
    ffn = nn.FeedForward(d, d_ff, dropout=0.0).astype("float64")
    for part in ("linear1", "linear2"):
        getattr(ffn, part).load_state_dict(getattr(enc, part).state_dict())
    h_post = encoder_by_hand(enc, Xd)[0][0]                                 # (T, d)
    df = dev(np.round(backend.host_rng(8).standard_normal((T, d)), 2))
    ffn(h_post)
    ffn.backward(df)
    r = xp.maximum(h_post @ enc.linear1.params["W"] + enc.linear1.params["b"], 0)
    j = int(xp.argmax(r.sum(axis=0)))                      # the most active hidden unit
    work_weight_gradient(L, "dW_2", r, df, j, 0, ffn.linear2.grads["W"], "r", "df")
    L.savefig(graph_diagram.draw(GRAPH, "The post-LN encoder layer (E8)",
                                 loss="L (dy upstream)"), "graph")


# %% [markdown]
# ### Post-LN against pre-LN through a stack of layers

# %%
with L.step("Post-LN against pre-LN through a stack of layers"):
    depth, draws = (4, 4) if L.fast else (12, 4)
    B, T2, d2 = 8, 10, 32
    x0 = dev(rng.normal(size=(B, T2, d2)))
    stats = {}
    for norm_first in (False, True):
        std, grad = np.zeros(depth), np.zeros(depth)
        for _ in range(draws):             # fresh weights and upstream gradient each draw
            layers = [nn.TransformerEncoderLayer(d2, 4, d_ff=64, dropout=0.0,
                                                 norm_first=norm_first).astype("float64")
                      for _ in range(depth)]
            stack = nn.Sequential(*layers)
            x = x0
            for k, layer in enumerate(layers):
                x = layer(x)
                std[k] += float(host(x).std()) / draws
            stack(x0)
            stack.backward(dev(rng.normal(size=(B, T2, d2))))
            grad += np.array([float(np.linalg.norm(host(layer.linear1.grads["W"])))
                              for layer in layers]) / draws
        stats[norm_first] = (list(std), list(grad))
        label = "pre-LN " if norm_first else "post-LN"
        print(f"    {label} output std per layer: " + " ".join(f"{s:.2f}" for s in std))
        print(f"    {label} |dW_1| per layer:      " + " ".join(f"{g:.3f}" for g in grad))
    print(f"    (each the mean over {draws} draws of the weights and the upstream gradient)")
    L.say("Post-LN renormalises after every sub-layer, so its output always has std 1; "
          "pre-LN adds each sub-layer to an un-normalised residual stream that grows with "
          "depth, which is why pre-LN stacks end with one more LayerNorm.")
    for norm_first, label in ((False, "post-LN"), (True, "pre-LN")):
        g = np.array(stats[norm_first][1])
        trend = "grow" if g[-1] > g[0] else "shrink"
        L.say(f"{label}: |dW_1| runs from {g[0]:.3f} at layer 1 to {g[-1]:.3f} at layer "
              f"{depth} (they {trend} toward the output), smallest {g.min():.3f}, largest "
              f"{g.max():.3f}: a spread of {g.max() / g.min():.1f}x across layers.")
    post, pre = (np.array(stats[k][1]) for k in (False, True))
    L.say("Xiong et al. (2020, 'On Layer Normalization in the Transformer Architecture') "
          "report that at initialisation post-LN's gradients are largest near the output and "
          f"pre-LN's are level across layers. Here post-LN's largest is at layer "
          f"{post.argmax() + 1} of {depth}, and pre-LN's spread across layers is "
          f"{pre.max() / pre.min():.1f}x. Their set-up is not this one: a loss through an "
          "output layer, a final LayerNorm after the pre-LN stack, Xavier initialisation, and "
          "expectations over the data. Here a random upstream gradient enters the last layer "
          "directly, with no final LayerNorm, at PyTorch's initialisation: the right panel "
          "shows this set-up only and is no replication of their result (exercise 3 adds the "
          "final LayerNorm).")
    L.check("post-LN keeps every layer's output at std 1",
            np.allclose(stats[False][0], 1, atol=1e-3))
    L.check("pre-LN's residual stream grows with depth",
            stats[True][0][-1] > stats[True][0][0])
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 4.5))
    layers_axis = np.arange(1, depth + 1)
    for norm_first, label in ((False, "post-LN"), (True, "pre-LN")):
        a1.plot(layers_axis, stats[norm_first][0], "o-", label=label)
        a2.plot(layers_axis, stats[norm_first][1], "o-", label=label)
    a1.set(xlabel="layer", ylabel="std of the layer's output",
           title="Activation scale through depth")
    a2.set(xlabel="layer", ylabel="|dL/dW_1| (Frobenius)",
           title=f"W_1 gradient at initialisation, mean of {draws} draws\n"
                 "(random upstream gradient, no final LayerNorm)")
    for ax in (a1, a2):
        ax.set_xticks(layers_axis)
        ax.legend()
    L.savefig(fig, "post_ln_vs_pre_ln")


# %% [markdown]
# ### E8 decoder layer: masked self-attention, then cross-attention
#
# $$ h1 = LN(y + MHA(y, causal mask)) $$
# $$ h2 = LN(h1 + MHA(h1, memory)) $$ (queries from the decoder, keys and values from the encoder)
# $$ out = LN(h2 + \mathrm{FFN}(h2)) $$

# %%
with L.step("E8 decoder layer: masked self-attention, then cross-attention",
            formula="h1 = LN(y + MHA(y, causal mask))\n"
                    "h2 = LN(h1 + MHA(h1, memory))      (queries from the decoder, keys and "
                    "values from the encoder)\nout = LN(h2 + FFN(h2))"):
    dec = nn.TransformerDecoderLayer(d, h, d_ff=d_ff, dropout=0.0).astype("float64")
    memory = enc(dev(X))                       # encoder output, (1, T, d)
    Y = dev(rng.normal(size=(1, 5, d)))        # 5 decoder steps
    padding = np.arange(T) < T - 1             # the last encoder step is padding
    memory_mask = backend.asarray(padding[None, None, :])  # (B, 1, S): for every query
    out = dec(Y, memory, memory_mask=memory_mask)
    print(f"    y {tuple(Y.shape)} queries the memory {tuple(memory.shape)}: cross-attention "
          f"weights {tuple(dec.cross_attn.weights.shape)} (B, h, T_y, T), out "
          f"{tuple(out.shape)}")
    Y2 = Y.copy()
    Y2[:, 3:] += 1.0                           # change the future (steps 3 and 4)
    out2 = dec(Y2, memory, memory_mask=memory_mask)
    L.check_close("outputs 0..2 ignore a change at steps 3..4 (causal)", out2[:, :3],
                  out[:, :3], atol=1e-12)
    dec(Y, memory, memory_mask=memory_mask)
    self_w = host(dec.self_attn.weights)[0]
    cross_w = host(dec.cross_attn.weights)[0]
    L.check("self-attention weights above the diagonal are exactly 0",
            np.all(np.triu(self_w, 1) == 0))
    L.check("the padded encoder step gets exactly 0 cross-attention",
            np.all(cross_w[..., -1] == 0))

    enc(dev(X))
    enc_w = host(enc.self_attn.weights)[0]
    fig, axes = plt.subplots(1, 3, figsize=(13, 4))
    panels = [(enc_w[0], "encoder self-attention (head 1)", sequence, sequence),
              (self_w[0], "decoder masked self-attention (head 1)", range(5), range(5)),
              (cross_w[0], "decoder cross-attention (head 1)", sequence[:-1] + ["(padding)"],
               range(5))]
    for ax, (W, title, keys, queries) in zip(axes, panels):
        im = ax.imshow(W, cmap="viridis", vmin=0, vmax=1)
        ax.set(title=title, xlabel="key", ylabel="query",
               xticks=range(len(keys)), yticks=range(len(queries)))
        ax.set_xticklabels([str(k) for k in keys], rotation=45)
        ax.set_yticklabels([str(q) for q in queries])
    fig.colorbar(im, ax=axes[-1], label="weight")
    L.savefig(fig, "attention_maps")
    L.say("Untrained weights, so the pattern is mostly the masks': the causal triangle and "
          "the empty padded column. Training gives the heads their own preferences.")

# %%
conclude(L.finish(
    summary=["An encoder layer is two residual sub-layers, self-attention and a position-wise "
             "feed-forward network, each with dropout and LayerNorm.",
             "Post-LN normalises after the residual addition (outputs always std 1); pre-LN "
             "normalises each sub-layer's input and leaves the identity path untouched.",
             "A decoder layer adds causal masking to its self-attention and a cross-attention "
             "whose keys and values come from the encoder output.",
             "Every block's hand-written backward agrees with central differences."],
    exercises=EXERCISES + [
        "Add a final LayerNorm after the pre-LN stack (nn.TransformerEncoder(..., "
        "norm=nn.LayerNorm(d))). What happens to the output std per layer?",
        "Set dropout=0.1 and run the encoder layer twice in training mode: why do the "
        "outputs differ, and why does gradcheck still pass?",
        "Give the decoder a memory_mask that hides every encoder step. What is the "
        "cross-attention output, and which term of h2 survives?"]))
