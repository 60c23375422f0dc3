# %%
"""Dense layers and backpropagation: a two-layer net by index, by matrix, and by hand-derived gradients.

Catalogue A1-A5 and B2 (document 000 §1.2, §2.1, §3.1, §4.2, §8). A user's counts of the five
behaviours of every lesson (browse, click, cart, favourite, purchase) go through a hidden ReLU
layer and a softmax output that predicts the user's next behaviour among them. Every gradient is
derived by hand and checked twice: against minseq's backward and against numerical gradients.
"""

import matplotlib.pyplot as plt
import numpy as np

import minseq
from minseq import backend, nn, optim
from minseq.backend import xp
from minseq.gradcheck import numerical_gradient
from minseq.lesson import Exercise, Lesson
from minseq.lessons_support import graph_diagram
from minseq.lessons_support.notebook import conclude
from minseq.lessons_support.worked import work_weight_gradient

from helpers import EVENTS, USER, behaviour_log, first_events, softmax


def make_users(n, rng):
    """Counts of each behaviour of EVENTS per user, (n, 5), and a next behaviour that depends on
    them: browsers keep browsing, clickers put in the cart, cart-heavy users buy."""
    counts = rng.poisson([6.0, 3.0, 0.8, 0.5, 0.3], size=(n, len(EVENTS))).astype(np.float64)
    browse, click, cart, favourite, purchase = counts.T
    logits = np.stack([0.25 * browse - 0.2 * click,                          # browse
                       0.3 * click + 0.1 * browse - 1.0,                     # click
                       0.5 * click - 0.8 * cart - 0.5,                       # cart
                       0.6 * cart - 0.8,                                     # favourite
                       1.2 * cart + 0.8 * favourite - 0.5 * purchase - 1.5],  # purchase
                      axis=1)
    logits += rng.gumbel(size=logits.shape) * 0.5
    return counts, logits.argmax(axis=1)


def grade_cross_entropy(L, softmax_cross_entropy):
    """Exercise 1: the student's loss and gradient on a batch of scores against B2 and A4 by
    hand, minseq's CrossEntropyLoss and the numerical gradient, then at scores of +-1000."""
    rng = backend.host_rng(0)
    N, C = 5, len(EVENTS)
    x_o = backend.asarray(rng.normal(size=(N, C)) * 2)
    t = backend.asarray(rng.integers(0, C, size=N))
    loss, d_xo = softmax_cross_entropy(x_o, t)
    y_o = softmax(x_o)
    L.check_close("L equals the mean of -log y_t^o (B2 by hand)", loss,
                  -xp.log(y_o[xp.arange(N), t]).mean())
    ce = nn.CrossEntropyLoss()
    L.check_close("L equals nn.CrossEntropyLoss", loss, ce(x_o, t))
    L.check_close("dL/dx^o equals (y^o - t) / N (A4 by hand, the mean over N users)", d_xo,
                  (y_o - xp.eye(C)[t]) / N)
    L.check_close("dL/dx^o equals CrossEntropyLoss's backward", d_xo, ce.backward())
    L.check_close("dL/dx^o equals the numerical gradient of your L",
                  numerical_gradient(lambda: softmax_cross_entropy(x_o, t)[0], x_o), d_xo,
                  rtol=1e-6, atol=1e-9)
    loss, d_xo = softmax_cross_entropy(backend.asarray([[1000.0, 0.0, -1000.0]]),
                                       backend.asarray([1]))
    L.check_close("scores (1000, 0, -1000), class 1 next: L = 1000, finite", loss,
                  1000.0)
    L.check_close("scores (1000, 0, -1000): dL/dx^o = (1, -1, 0)", d_xo,
                  backend.asarray([[1.0, -1.0, 0.0]]))


def grade_two_layer_backward(L, two_layer_backward):
    """Exercise 2: the student's backward through the lesson's net (seed 7: a hidden unit that
    is off for most users) on a batch of six users, against minseq's backward, layer by layer,
    and against the numerical gradient of the loss."""
    minseq.manual_seed(7)
    net = nn.Sequential(nn.Linear(len(EVENTS), 3), nn.ReLU(), nn.Linear(3, len(EVENTS)))
    net = net.astype(xp.float64)
    counts, behaviours = make_users(6, np.random.default_rng(1))
    x, t = backend.asarray(counts), backend.asarray(behaviours)
    ce = nn.CrossEntropyLoss()
    ce(net(x), t)
    d_xo = ce.backward()
    dx_net = net.backward(d_xo)
    params = {"W1": net[0].params["W"], "b1": net[0].params["b"],
              "W2": net[2].params["W"], "b2": net[2].params["b"]}
    x_h = x @ params["W1"] + params["b1"]
    dx, grads = two_layer_backward(d_xo, x, x_h, params)
    L.compare([("dL/dW2", grads["W2"], net[2].grads["W"]),
               ("dL/db2", grads["b2"], net[2].grads["b"]),
               ("dL/dW1", grads["W1"], net[0].grads["W"]),
               ("dL/db1", grads["b1"], net[0].grads["b"]), ("dL/dx", dx, dx_net)])

    def loss_now():
        return ce(net(x), t)
    for name, value in params.items():
        L.check_close(f"dL/d{name} equals the numerical gradient",
                      numerical_gradient(loss_now, value), grads[name], rtol=1e-6, atol=1e-9)
    L.check_close("dL/dx equals the numerical gradient", numerical_gradient(loss_now, x), dx,
                  rtol=1e-6, atol=1e-9)


EXERCISES = [
    Exercise("softmax_cross_entropy", "Write the categorical cross-entropy of a batch from its "
             "scores x^o, computed stably (the largest score subtracted first), and its "
             "gradient dL/dx^o = (y^o - t) / N (steps B2 and A4).", grade_cross_entropy,
             reference=["minseq.nn.losses.CrossEntropyLoss.forward",
                        "minseq.nn.losses._Loss.backward", "minseq.nn.functional.log_softmax"]),
    Exercise("two_layer_backward", "Write backpropagation through the lesson's net, x^h = x W1 "
             "+ b1, y^h = ReLU(x^h), x^o = y^h W2 + b2, from dL/dx^o on a batch: dW2, db2, "
             "dL/dy^h, ReLU's mask, dW1, db1 and dx (step A4).", grade_two_layer_backward,
             reference=["minseq.nn.linear.Linear.backward",
                        "minseq.nn.activations.ReLU.backward"])]


#: The net's forward pass, one operation a line in the formulas' names: its graph diagram
GRAPH = [("x^h", "x W1 + b1", ["x", "W1", "b1"]), ("y^h", "ReLU", ["x^h"]),
         ("x^o", "y^h W2 + b2", ["y^h", "W2", "b2"]), ("y^o", "softmax", ["x^o"]),
         ("loss", "-log y^o_t", ["y^o", "t"])]


# %%
L = Lesson(__file__, "Lesson 01 - Dense layers and backpropagation",
           ids=["A1", "A2", "A3", "A4", "A5", "B2"],
           goals=["compute a dense layer in index form and matrix form and see they agree",
                  "turn scores into probabilities with a stable softmax and cross-entropy",
                  "derive every gradient of a two-layer net by hand, and check it twice",
                  "spot the document's output-layer chain-rule erratum",
                  "train with SGD, L2 / L1 penalties and dropout, and read a loss curve"])
if L.args.exercise:
    conclude(L.grade(EXERCISES))
minseq.manual_seed(7)     # a draw where one hidden unit is off: watch ReLU's mask at work
rng = np.random.default_rng(0)

# A tiny net in float64 so the hand computations agree to the last digits.
V = len(EVENTS)
hidden = nn.Linear(V, 3).astype(xp.float64)
output = nn.Linear(3, V).astype(xp.float64)
# One user of the lessons' behaviour log: counts of its first four events, and its fifth.
seen = first_events(behaviour_log(), USER, 5)
purchase = EVENTS.index("purchase")
L.say(f"User {USER} of the behaviour log every lesson uses (helpers.behaviour_log) begins "
      f"{seen}: x counts each behaviour among its first four events, t is the fifth.")
# hand computations run on the active backend; numbers come to the host only to print
x = backend.asarray([[float(seen[:4].count(e)) for e in EVENTS]])     # (1, 5) counts
t = backend.asarray([EVENTS.index(seen[4])])                          # next: purchase
W1, b1 = hidden.params["W"], hidden.params["b"]
W2, b2 = output.params["W"], output.params["b"]


# %% [markdown]
# ### A1: one dense layer
#
# $$ y = \mathrm{ReLU}(W x + b) $$ (the document: W is out x in)

# %%
with L.step("A1: one dense layer", formula="y = ReLU(W x + b)      (the document: W is out x in)"):
    L.say("minseq stores W as (in, out) and computes x W + b for a batch of row vectors; "
          "the document's W is our W transposed, exactly as torch.nn.Linear stores weight.")
    L.show("x (browse, click, cart, favourite, purchase)", x)
    L.show(f"W (in={V}, out=3)", W1)
    L.show("b", b1)
    pre = x @ W1 + b1
    y_h = xp.maximum(pre, 0)
    print(f"    x {tuple(x.shape)} @ W {tuple(W1.shape)} + b {tuple(b1.shape)} -> "
          f"{tuple(pre.shape)}")
    L.show("x W + b", pre)
    L.show("y = ReLU(x W + b)", y_h)
    doc = xp.maximum(W1.T @ x[0] + b1, 0)
    L.check_close("document's column form W^T x equals the row form x W", doc, y_h[0])


# %% [markdown]
# ### A2: the hidden layer in index form
#
# $$ x_j^h = \sum_{i} w_{ij} x_i + b_j, \quad y_j^h = \mathrm{ReLU}(x_j^h) $$

# %%
with L.step("A2: the hidden layer in index form",
            formula="x_j^h = sum_i w_ij x_i + b_j,   y_j^h = ReLU(x_j^h)"):
    index_form = xp.zeros(3)
    w, xs, bs = (backend.to_numpy(a) for a in (W1, x, b1))     # host copies, to print
    for j in range(3):
        index_form[j] = sum(W1[i, j] * x[0, i] for i in range(V)) + b1[j]
        print(f"  x_{j}^h = " + " + ".join(f"({w[i, j]:.3f})({xs[0, i]:.0f})" for i in range(V))
              + f" + ({bs[j]:.3f}) = {float(index_form[j]):.4f}")
    relu = nn.ReLU()
    y_layer = relu(hidden(x))
    L.check_close("index form equals minseq's Linear + ReLU", xp.maximum(index_form, 0),
                  y_layer[0])


# %% [markdown]
# ### A3: output layer with softmax
#
# $$ x_k^o = \sum_{j} w_{jk} y_j^h + b_k, \quad y_k^o = e^{x_k^o} / \sum_{k'} e^{x_{k'}^o} $$

# %%
with L.step("A3: output layer with softmax",
            formula="x_k^o = sum_j w_jk y_j^h + b_k,   y_k^o = e^{x_k^o} / sum_k' e^{x_k'^o}"):
    x_o = y_h @ W2 + b2
    p = xp.exp(x_o - x_o.max()) / xp.exp(x_o - x_o.max()).sum()
    L.show("x^o (scores)", x_o)
    L.show("y^o = softmax(x^o)", p)
    for k, a in enumerate(EVENTS):
        print(f"  P({a}) = {float(p[0, k]):.4f}")
    total = float(p.sum())
    L.check("probabilities sum to 1", abs(total - 1) < 1e-12, f"sum = {total:.12f}")
    softmax_layer = nn.Softmax()
    L.check_close("softmax equals minseq's Softmax", p, softmax_layer(output(y_layer)))


# %% [markdown]
# ### B2: categorical cross-entropy, and why to compute it from the scores
#
# $$ L = -\log y_t^o = logsumexp(x^o) - x_t^o $$

# %%
with L.step("B2: categorical cross-entropy, and why to compute it from the scores",
            formula="L = -log y_t^o = logsumexp(x^o) - x_t^o"):
    loss_by_hand = -xp.log(p[0, purchase])                       # t: purchase
    L.show("L = -log P(purchase)", loss_by_hand)
    ce = nn.CrossEntropyLoss()
    L.check_close("equals minseq's CrossEntropyLoss", ce(output(y_layer), t), loss_by_hand)
    big = backend.asarray([[1000.0, 0.0, -1000.0]])
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):   # NumPy warns
        naive = -xp.log(xp.exp(big) / xp.exp(big).sum())[0, 1]
    stable = float(xp.log(xp.exp(big - big.max()).sum()) + big.max() - big[0, 1])
    L.say("With scores (1000, 0, -1000) e^1000 overflows: so the naive formula divides inf by inf "
          "and returns inf (or nan); the shifted form (subtract the largest score first) returns the exact 1000.")
    L.show("naive -log(softmax)", naive)
    L.show("logsumexp form", stable)
    L.check("the stable form is finite and exact", stable == 1000.0)
    L.check_close("minseq agrees at extreme scores",
                  nn.CrossEntropyLoss()(big, backend.asarray([1])),
                  1000.0)


# %% [markdown]
# ### A4: every gradient of the two-layer net, by hand
#
# $$ \frac{\partial L}{\partial x^o} = y^o - t $$ (softmax + cross-entropy)
# $$ \frac{\partial L}{\partial W_2} = (y^h)^\top \frac{\partial L}{\partial x^o}, \quad \frac{\partial L}{\partial b_2} = \frac{\partial L}{\partial x^o} $$
# $$ \frac{\partial L}{\partial y^h} = \frac{\partial L}{\partial x^o} W_2^\top, \quad \frac{\partial L}{\partial x^h} = \frac{\partial L}{\partial y^h} \odot [x^h > 0] $$
# $$ \frac{\partial L}{\partial W_1} = x^\top \frac{\partial L}{\partial x^h}, \quad \frac{\partial L}{\partial b_1} = \frac{\partial L}{\partial x^h} $$

# %%
with L.step("A4: every gradient of the two-layer net, by hand",
            formula=("dL/dx^o = y^o - t                  (softmax + cross-entropy)\n"
                     "dL/dW2 = y^h^T dL/dx^o,   dL/db2 = dL/dx^o\n"
                     "dL/dy^h = dL/dx^o W2^T,  dL/dx^h = dL/dy^h (.) [x^h > 0]\n"
                     "dL/dW1 = x^T dL/dx^h,    dL/db1 = dL/dx^h")):
    onehot = xp.eye(V)[t]
    d_xo = p - onehot
    dW2, db2 = y_h.T @ d_xo, d_xo[0]
    d_yh = d_xo @ W2.T
    d_xh = d_yh * (pre > 0)
    dW1, db1 = x.T @ d_xh, d_xh[0]
    L.show("dL/dx^o = y^o - t", d_xo)
    L.show("dL/dW2", dW2)
    L.show("dL/dx^h", d_xh)
    L.show("dL/dW1", dW1)

    # minseq's backward: the same chain, layer by layer.
    net = nn.Sequential(hidden, nn.ReLU(), output)
    ce = nn.CrossEntropyLoss()
    ce(net(x), t)
    d_scores = ce.backward()
    net.backward(d_scores)
    L.compare([("dL/dx^o = y^o - t", d_xo, d_scores),
               ("dL/dW2", dW2, net[2].grads["W"]), ("dL/db2", db2, net[2].grads["b"]),
               ("dL/dW1", dW1, net[0].grads["W"]), ("dL/db1", db1, net[0].grads["b"])])
    L.say("One entry with numbers: the weight from the most active hidden unit to the "
          "target's score.")
    work_weight_gradient(L, "dL/dW2", y_h, d_xo, int(xp.argmax(y_h[0])), int(t[0]),
                         net[2].grads["W"], "y^h", "dL/dx^o")
    L.savefig(graph_diagram.draw(GRAPH, "The two-layer net of A1-A4", constants=["t"]), "graph")

    def loss_now():
        return float(ce(net(x), t))
    for label, param, mine in (("W1", net[0].params["W"], dW1), ("W2", net[2].params["W"], dW2)):
        L.check_close(f"hand dL/d{label} equals the numerical gradient",
                      numerical_gradient(loss_now, param), mine, rtol=1e-6, atol=1e-9)
    L.say("And every parameter and input of each layer met here, numerically (R-weighted "
          "sum of the outputs, as minseq's gradient checker does):")
    L.check_gradients(net, x)
    L.check_gradients(ce, x_o, t)
    L.check_gradients(nn.Softmax(), x_o)

    # The document's output-layer chain rule keeps only dy_k/dx_k (the diagonal of the
    # softmax Jacobian); softmax couples every output, so the sum over k' is needed.
    dL_dy = -onehot / p                                     # d(-log y_t)/dy_k
    literal = dL_dy * p * (1 - p)                           # dL/dy_k * dy_k/dx_k only
    jac = xp.diag(p[0]) - xp.outer(p[0], p[0])              # dy_k'/dx_k
    full = dL_dy @ jac
    L.erratum("A4",
              "dL/dx_k^o = dL/dy_k^o * dy_k^o/dx_k^o   (one term)",
              "dL/dx_k^o = sum_k' dL/dy_k'^o * dy_k'^o/dx_k^o = y_k^o - t_k",
              "the literal one-term rule gives zero gradient to every score but the target's, "
              "so the wrong behaviours are never pushed down.",
              source="document 000 section 3.1")
    L.show("literal (one term)", literal)
    L.show("full chain rule  ", full)
    L.check_close("the full chain rule collapses to y - t", full, d_xo)
    gap = float(xp.abs(literal - d_xo).max())
    L.check("the literal rule differs from the true gradient", gap > 1e-3,
            f"max difference {gap:.3f}")
    dW2_literal = y_h.T @ literal
    L.show("dL/dW2 from the literal rule, y^h^T (literal)", dW2_literal)
    L.show("dL/dW2 from the full chain rule             ", dW2)
    others = [k for k in range(V) if k != purchase]
    L.check("the literal rule's dW2 moves only the purchase column",
            bool((dW2_literal[:, others] == 0).all()) and bool((dW2[:, others] != 0).any()))


# %% [markdown]
# ### A5: training with SGD, L2 / L1 penalties and dropout
#
# $$ \theta \leftarrow \theta - lr \cdot (grad + \lambda \cdot \theta) $$ (L2, weight decay)
# $$ \theta \leftarrow \theta - lr \cdot (grad + \lambda \cdot sign(\theta)) $$ (L1)
# $$ dropout: y = x \odot m / (1 - p), \quad m ~ Bernoulli(1 - p), identity at test $$

# %%
with L.step("A5: training with SGD, L2 / L1 penalties and dropout",
            formula=("theta <- theta - lr * (grad + lambda * theta)     (L2, weight decay)\n"
                     "theta <- theta - lr * (grad + lambda * sign(theta))  (L1)\n"
                     "dropout: y = x (.) m / (1 - p),  m ~ Bernoulli(1 - p), identity at test")):
    n = 300 if L.fast else 1500
    epochs = 25 if L.fast else (120 if L.full else 60)
    L.say("Counts of the log's events say little about the next one (it follows from the "
          "last event, lesson 12), so to watch training work these users are drawn with a "
          "next behaviour that depends on their counts (make_users).")
    counts, behaviours = make_users(n, rng)
    split = int(0.8 * n)
    scale = counts[:split].max(axis=0)                       # fit scaling on train only (C2)
    X = backend.asarray(counts / scale, dtype=xp.float32)
    Y = backend.asarray(behaviours)
    print(f"  {n} users; next-behaviour shares: "
          + ", ".join(f"{a} {np.mean(behaviours == k):.2f}" for k, a in enumerate(EVENTS)))

    lin = nn.Linear(3, 2).astype(xp.float64)
    lin.grads["W"][...] = backend.asarray(rng.normal(size=(3, 2)))
    lin.grads["b"][...] = backend.asarray(rng.normal(size=2))
    lr, lam = 0.1, 0.5
    L.say(f"One update by hand with lr = {lr}, lambda = {lam}, on a Linear(3, 2) whose "
          "gradients are set to fixed numbers, against optim.SGD (momentum 0: the printed "
          "rule) and optim.l1_penalty:")
    W0, gW = lin.params["W"].copy(), lin.grads["W"].copy()
    by_hand = {"SGD": W0 - lr * gW, "L2": W0 - lr * (gW + lam * W0),
               "L1": W0 - lr * (gW + lam * xp.sign(W0))}
    L.show("W", W0)
    L.show("dL/dW", gW)
    for rule, value in by_hand.items():
        step = lin.copy()
        opt = optim.SGD(step, lr=lr, weight_decay=lam if rule == "L2" else 0.0)
        if rule == "L1":
            optim.l1_penalty(step, lam)
        opt.step()
        L.show(f"W after one {rule} step, by hand", value)
        L.check_close(f"{rule}: the hand update equals optim.SGD's", step.params["W"], value,
                      rtol=1e-12, atol=1e-15)

    def train(weight_decay=0.0, l1=0.0, p_drop=0.0, momentum=0.9):
        minseq.manual_seed(1)
        model = nn.Sequential(nn.Linear(V, 16), nn.ReLU(), nn.Dropout(p_drop),
                              nn.Linear(16, V))
        opt = optim.SGD(model, lr=0.5, momentum=momentum, weight_decay=weight_decay)
        loss_fn = nn.CrossEntropyLoss()
        history = []
        for _ in range(epochs):
            model.train()
            loss = loss_fn(model(X[:split]), Y[:split])
            model.backward(loss_fn.backward())
            if l1:
                optim.l1_penalty(model, l1)
            opt.step()
            model.eval()
            history.append((float(loss), float(loss_fn(model(X[split:]), Y[split:]))))
        acc = float((model(X[split:]).argmax(axis=1) == Y[split:]).mean())
        return np.array(history), acc, model

    drop = nn.Dropout(0.2, seed=0)
    a = backend.asarray(rng.uniform(1.0, 2.0, size=(200, 16)))     # no zeros of its own
    y = drop(a)
    kept = y != 0
    L.show("fraction kept (expected 1 - p = 0.8)", kept.mean())
    L.check_close("a kept unit is scaled by 1 / (1 - p)", y[kept], a[kept] / 0.8,
                  rtol=1e-12)
    L.check("about 1 - p of the units are kept", abs(float(kept.mean()) - 0.8) < 0.02)
    L.check("in evaluation mode dropout is the identity", bool((drop.eval()(a) == a).all()))
    L.check_gradients(drop.train(), a[:4])
    L.say("The printed rule is plain SGD. The runs below add momentum 0.9 (v <- 0.9 v + "
          "grad, theta <- theta - lr v), which reaches a good fit in few epochs; the "
          "printed rule is run too, for comparison.")
    runs = {"SGD as printed": train(momentum=0.0), "SGD, momentum 0.9": train(),
            "L2 (1e-2)": train(weight_decay=1e-2),
            "L1 (1e-2)": train(l1=1e-2), "dropout 0.2": train(p_drop=0.2)}
    chance = max(np.mean(behaviours[split:] == k) for k in range(V))
    for name, (hist, acc, _) in runs.items():
        print(f"  {name:<17} train loss {hist[0, 0]:.3f} -> {hist[-1, 0]:.3f}   "
              f"validation loss {hist[-1, 1]:.3f}   validation accuracy {acc:.3f}")
    hist, acc, model = runs["SGD, momentum 0.9"]
    L.check("training loss falls", hist[-1, 0] < 0.8 * hist[0, 0],
            f"{hist[0, 0]:.3f} -> {hist[-1, 0]:.3f}")
    L.check("validation accuracy beats always guessing the majority behaviour",
            acc > chance + 0.05, f"{acc:.3f} vs {chance:.3f}")
    l2_norm = sum(float((w ** 2).sum()) for _, w in runs["L2 (1e-2)"][2].named_parameters())
    plain_norm = sum(float((w ** 2).sum()) for _, w in model.named_parameters())
    L.check("L2 shrinks the weights", l2_norm < plain_norm,
            f"sum of squares {l2_norm:.2f} vs {plain_norm:.2f}")
    l1_weights = xp.concatenate([w.reshape(-1) for _, w in
                                 runs["L1 (1e-2)"][2].named_parameters()])
    plain_weights = xp.concatenate([w.reshape(-1) for _, w in model.named_parameters()])
    small = 0.5 * 1e-2 * 10                  # lr * lambda / (1 - momentum): one L1 stride
    n_zero, n_small, n_small_plain = (int((xp.abs(l1_weights) == 0).sum()),
                                      int((xp.abs(l1_weights) < small).sum()),
                                      int((xp.abs(plain_weights) < small).sum()))
    L.say(f"L1: {n_zero} of {l1_weights.size} weights are exactly 0; {n_small} lie within "
          f"one L1 stride ({small}) of 0, against {n_small_plain} without L1. A sign step "
          "of fixed size jumps over 0 and back: the weights hover around 0 instead of "
          "landing on it (a proximal step, soft-thresholding, would set them to 0).")
    L.check("sign-gradient L1 leaves no weight exactly 0", n_zero == 0)
    L.check("L1 shrinks the sum of |weights|", float(xp.abs(l1_weights).sum())
            < float(xp.abs(plain_weights).sum()))

    fig, ax = plt.subplots(figsize=(7, 4))
    for name, (hist, _, _) in runs.items():
        line, = ax.plot(hist[:, 0], label=f"{name} (train)")
        ax.plot(hist[:, 1], "--", color=line.get_color(), label=f"{name} (validation)")
    ax.set_title("Lesson 01: next-behaviour classifier, cross-entropy per epoch")
    ax.set_xlabel("epoch (one full-batch SGD step)")
    ax.set_ylabel("cross-entropy loss")
    ax.legend(fontsize=7, ncol=2)
    ax.grid(alpha=0.3)
    L.savefig(fig, "loss_curves")

# %%
conclude(L.finish(
    summary=["A dense layer is one matrix product plus a bias; the index form is the same sum "
             "written out, and minseq's W is the document's W transposed.",
             "Compute softmax and cross-entropy from the scores with the max subtracted: the "
             "naive form overflows at scores near 1000.",
             "With softmax and cross-entropy the output-layer gradient is y - t; the "
             "document's one-term chain rule misses the coupling between outputs.",
             "Backpropagation is the chain rule applied layer by layer; each backward returns "
             "the gradient for the layer below and writes its own parameter gradients.",
             "L2 pulls weights toward zero, L1 pulls every weight toward zero by a fixed step "
             "(with plain SGD they hover around zero, never exactly on it), dropout "
             "trains on random sub-networks; all three fight over-fitting."],
    exercises=EXERCISES + [
        "Replace ReLU with Tanh in step 5 (A4) and re-derive dL/dx^h: which factor "
        "changes?",
        "Compute the softmax Jacobian for scores (0, 0, 0, 0, 0) by hand and check it "
        "against the matrix `jac` in step 5 (A4).",
        "Train with dropout 0.5 for twice the epochs: does the validation loss still fall? "
        "Why is the training loss noisier?"]))
