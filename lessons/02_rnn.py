# %%
"""Recurrent networks: the RNN step by hand (D1, D2) and why its gradient vanishes (D10).

Run:  python lessons/02_rnn.py [--step] [--backend numpy|cupy] [--fast]
"""

from unittest import mock

import matplotlib.pyplot as plt
import numpy as np

import minseq
import minseq.nn.rnn as rnn_module
from minseq import backend, nn
from minseq.backend import xp
from minseq.lesson import Exercise, Lesson
from minseq.lessons_support import graph_diagram
from minseq.lessons_support.notebook import conclude
from minseq.lessons_support.worked import work_weight_gradient

from helpers import EVENTS, USER, behaviour_log, first_events, one_hot, sigma, windows

#: the behaviour sequence of steps D1 and D2, and of the graders: user USER's first six events
#: in the lessons' behaviour log
NAMES = first_events(behaviour_log(), USER, 6)


def d1_step(W_h, W_x, b_h, x_t, h, nonlinearity="tanh"):
    """D1 as printed, with column vectors: h_t = sigma(W_h h_{t-1} + W_x x_t + b_h), sigma
    read as tanh (or relu, PyTorch's other choice)."""
    a = W_h @ h + W_x @ x_t + b_h
    return xp.tanh(a) if nonlinearity == "tanh" else xp.maximum(a, 0)


def state_gradient_norms(cell, x):
    """||dL/dh_t|| for t = T, T-1, ..., 0 with L = sum(h_T): one cell copy per step, run
    forward, then backward one step at a time. Returns (norms, dL/dh_0)."""
    steps, states = [], (None,)
    for t in range(x.shape[1]):
        step = cell.copy()                      # same weights; each copy caches its own step
        out = step(x[:, t], *states)
        states = out if isinstance(out, tuple) else (out,)
        steps.append(step)
    grads = (xp.ones_like(states[0]),) + tuple(xp.zeros_like(s) for s in states[1:])
    norms = [float(xp.linalg.norm(grads[0]))]
    for step in reversed(steps):
        _, *grads = step.backward(*grads)       # (dx, dh_prev[, dc_prev])
        norms.append(float(xp.linalg.norm(grads[0])))
    return norms, grads[0]


def exercise_set_up():
    """The graders' set-up, the same on every run: an RNNCell(5, 3) in float64 for each
    nonlinearity, a batch of three events with random states, and the lesson's sequence with a
    random h_0."""
    minseq.manual_seed(0)
    cells = {act: nn.RNNCell(len(EVENTS), 3, nonlinearity=act).astype(xp.float64)
             for act in ("tanh", "relu")}
    x = one_hot(["browse", "cart", "purchase"])[0]                     # (3, 5): B = 3
    rng = backend.host_rng(3)
    h_prev = backend.asarray(rng.uniform(-0.5, 0.5, (3, 3)))
    rnn = nn.RNN(len(EVENTS), 3).astype(xp.float64)
    rnn.load_state_dict(cells["tanh"].state_dict())
    h0 = backend.asarray(rng.uniform(-0.5, 0.5, (1, 3)))
    return cells, x, h_prev, rnn, one_hot(NAMES), h0


def column_form(module):
    """The document's W_h, W_x, b_h from minseq's Wh = W_h^T, Wx = W_x^T and b."""
    return module.params["Wh"].T, module.params["Wx"].T, module.params["b"]


def grade_step(L, rnn_step):
    """Exercise 1: the student's step inside minseq's RNNCell (tanh and relu) and RNN; h_t
    against D1 by hand, the layer against D1 step by step, and every gradient (the backward
    reads the student's cache) against central differences."""
    cells, x, h_prev, rnn, seq, h0 = exercise_set_up()
    with mock.patch.object(rnn_module, "rnn_step", rnn_step):
        for act, cell in cells.items():
            by_hand = [d1_step(*column_form(cell), x[b], h_prev[b], act)
                       for b in range(x.shape[0])]
            L.check_close(f"{act}: h_t equals D1 by hand", cell(x, h_prev), xp.stack(by_hand))
            L.check_gradients(cell, x, h_prev, label=f"RNNCell ({act})")
        h, by_hand = h0[0], []
        for t in range(seq.shape[1]):
            h = d1_step(*column_form(rnn), seq[0, t], h)
            by_hand.append(h)
        L.check_close("RNN over six events equals D1 step by step", rnn(seq, h0)[0][0],
                      xp.stack(by_hand))
        L.check_gradients(rnn, seq, h0)


def grade_step_backward(L, rnn_step_backward):
    """Exercise 2: the student's backward inside minseq's RNNCell (tanh and relu) and RNN
    (backpropagation through time); every gradient against central differences, then each
    against the reference's."""
    cells, x, h_prev, rnn, seq, h0 = exercise_set_up()
    with mock.patch.object(rnn_module, "rnn_step_backward", rnn_step_backward):
        for act, cell in cells.items():
            L.check_gradients(cell, x, h_prev, label=f"RNNCell ({act})")
        L.check_gradients(rnn, seq, h0)
    dh = backend.asarray(backend.host_rng(4).standard_normal((3, 3)))
    for act, cell in cells.items():
        cell(x, h_prev)
        (cache,) = cell.saved()
        *mine, dparams = rnn_step_backward(cell.params, dh, cache, act)
        *ref, dref = rnn_module.rnn_step_backward(cell.params, dh, cache, act)
        L.say(f"{act}: your gradients against the reference's")
        L.compare([(f"{name} ({act})", a, b) for name, a, b in zip(("dx", "dh_prev"), mine, ref)]
                  + [(f"d{k} ({act})", dparams[k], dref[k]) for k in ("Wx", "Wh", "b")])


EXERCISES = [
    Exercise("rnn_step", "Write one RNN step, forward, on a batch of rows: a = x Wx + h_prev Wh "
             "+ b, h = tanh(a) or relu(a), and the cache the backward pass reads.", grade_step,
             reference=["minseq.nn.rnn.rnn_step"]),
    Exercise("rnn_step_backward", "Write the step's backward: da from dh through tanh or relu, "
             "then dx, dh_prev, dWx, dWh and db (the 'D1 backward' step of this lesson).",
             grade_step_backward,
             reference=["minseq.nn.rnn.rnn_step_backward"])]


#: One RNN step's forward, one operation a line in D1's names: its graph diagram
GRAPH = [("a", "x Wx + h_prev Wh + b", ["x", "h_prev", "Wx", "Wh", "b"]), ("h", "tanh", ["a"])]


# %%
L = Lesson(__file__, "Recurrent networks: the RNN step and vanishing gradients",
           ids=["D1", "D2", "D10"], goals=[
               "compute an RNN over a behaviour sequence by hand, step by step (D1)",
               "see that the concatenated form W [h, x] is the same product (D2)",
               "check backpropagation through time against a numerical gradient",
               "measure how ||dL/dh_t|| shrinks with distance, RNN against LSTM (D10)"])
if L.args.exercise:
    conclude(L.grade(EXERCISES))
minseq.manual_seed(0)
x = one_hot(NAMES)
D, H = len(EVENTS), 3
rnn = nn.RNN(D, H).astype(xp.float64)
W_h, W_x, b_h = column_form(rnn)


# %% [markdown]
# ### D1: the RNN recurrence, one event at a time
#
# $$ h_t = \sigma(W_h h_{t-1} + W_x x_t + b_h), \quad \sigma = \tanh, \quad h_0 = 0 $$
# $$ (column vectors as the document writes them; minseq stores Wx = W_x^\top, Wh = W_h^\top) $$

# %%
with L.step("D1: the RNN recurrence, one event at a time",
            formula="h_t = sigma(W_h h_{t-1} + W_x x_t + b_h),   sigma = tanh,  h_0 = 0\n"
                    "(column vectors as the document writes them; minseq stores "
                    "Wx = W_x^T, Wh = W_h^T)"):
    L.say(f"Events: user {USER}'s first 6 in the lessons' behaviour log "
          f"(helpers.behaviour_log, the log every later lesson uses too): {NAMES}, one-hot "
          f"over {EVENTS}; hidden size H = {H}.")
    print(f"    6 events -> one-hot x {tuple(x.shape)} (batch, time, event);  "
          f"h_t: ({H},) per step")
    L.say("A reading, not the text: the document writes a generic sigma. This lesson reads "
          "it as tanh, the usual RNN choice and PyTorch's default (nn.RNN(..., "
          "nonlinearity='relu') is the other); lesson 03 reads the gates' sigma as the "
          "logistic sigmoid.")
    L.show("W_h", W_h)
    L.show("W_x", W_x)
    L.show("b_h", b_h)
    h = xp.zeros(H)
    by_hand = []
    for t, name in enumerate(NAMES):
        h = d1_step(W_h, W_x, b_h, x[0, t], h)
        by_hand.append(h)
        L.show(f"t={t + 1} {name:>8}: h_t", h)
    hs, _ = rnn(x)
    print(f"    nn.RNN: x {tuple(x.shape)} -> hs {tuple(hs.shape)}, the h_t of every step")
    L.check_close("by hand equals minseq.nn.RNN, every step", hs[0], xp.stack(by_hand),
                  rtol=1e-12, atol=1e-12)
    L.say("W_x x_t with a one-hot x_t just picks one column of W_x: the event's embedding.")


# %% [markdown]
# ### D2: the concatenated form
#
# $$ h_t = \sigma(W_h [h_{t-1}, x_t] + b_h), \quad y_t = \sigma(W_y h_t + b_y) $$
# $$ with the document's W_h = [W_h W_x] $$ (H x (H + D)) side by side

# %%
with L.step("D2: the concatenated form",
            formula="h_t = sigma(W_h [h_{t-1}, x_t] + b_h),   y_t = sigma(W_y h_t + b_y)\n"
                    "with the document's W_h = [W_h W_x]  (H x (H + D)) side by side"):
    W = xp.concatenate([W_h, W_x], axis=1)
    t = 4                                          # the document's 1-based step t
    h_prev, x_t = by_hand[t - 2], x[0, t - 1]      # h_{t-1} and x_t, counted from 1
    pair = f"[h_{t - 1}, x_{t}]"
    L.show("W = [W_h W_x]", W)
    L.show(pair, xp.concatenate([h_prev, x_t]))
    print(f"    {pair}: ({H},) + ({D},) -> ({H + D},);  W {tuple(W.shape)} @ [h, x] "
          f"-> ({H},)")
    L.check_close("W [h, x] = W_h h + W_x x", W @ xp.concatenate([h_prev, x_t]),
                  W_h @ h_prev + W_x @ x_t, rtol=1e-12, atol=1e-12)
    head = nn.Sequential(nn.Linear(H, 1), nn.Sigmoid()).astype(xp.float64)
    W_y, b_y = head[0].params["W"].T, head[0].params["b"]
    y_hand = sigma(hs[0] @ W_y.T + b_y)
    L.show("y_t (e.g. P(purchase next), untrained)", y_hand[:, 0])
    L.check_close("sigma(W_y h_t + b_y) equals Linear + Sigmoid", head(hs)[0], y_hand,
                  rtol=1e-12, atol=1e-12)


# %% [markdown]
# ### Document 004, section 4.1: its worked example, with its numbers
#
# $$ x_1 = [1, 0], \quad x_2 = [0, 1], \quad x_3 = [1, 1] $$
# $$ h_t = \tanh(W_h [h_{t-1}, x_t] + b_h), \quad y_t = \mathrm{ReLU}(W_y h_t + b_y) $$
# $$ \mathrm{Loss} = -1/T \sum_{t} [y_t \log(y_t) + (1 - y_t) \log(1 - y_t)] $$ (as printed)

# %%
with L.step("Document 004, section 4.1: its worked example, with its numbers",
            formula="x_1 = [1, 0],  x_2 = [0, 1],  x_3 = [1, 1]\n"
                    "h_t = tanh(W_h [h_{t-1}, x_t] + b_h),   y_t = ReLU(W_y h_t + b_y)\n"
                    "Loss = -1/T sum_t [y_t log(y_t) + (1 - y_t) log(1 - y_t)]   (as printed)"):
    L.say("The document gives the inputs but no weights: these are minseq's seeded "
          "initial weights (H = 3), and the printed loss is evaluated literally.")
    minseq.manual_seed(4)
    rnn2 = nn.RNN(2, H).astype(xp.float64)
    out2 = nn.Linear(H, 1).astype(xp.float64)
    x_doc = backend.asarray([[[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]])     # (1, T=3, D=2)
    W_doc = xp.concatenate([rnn2.params["Wh"].T, rnn2.params["Wx"].T], axis=1)
    print(f"    W_h [h, x]: {tuple(W_doc.shape)} @ ({H} + 2,) -> ({H},);  "
          f"W_y h: (1, {H}) @ ({H},) -> (1,)")
    h, ys = xp.zeros(H), []
    for t in range(3):
        h = xp.tanh(W_doc @ xp.concatenate([h, x_doc[0, t]]) + rnn2.params["b"])
        ys.append(xp.maximum(out2.params["W"].T @ h + out2.params["b"], 0))
        L.show(f"h_{t + 1}", h)
        L.show(f"y_{t + 1} = ReLU(W_y h_{t + 1} + b_y)", ys[-1])
    y_doc = xp.concatenate(ys)
    L.check_close("h_1 .. h_3 by hand equal nn.RNN", rnn2(x_doc)[0][0, -1], h,
                  rtol=1e-12, atol=1e-12)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = y_doc * xp.log(y_doc) + (1 - y_doc) * xp.log(1 - y_doc)
    loss = -terms.mean()
    L.show("y_t log y_t + (1 - y_t) log(1 - y_t), per step", terms)
    L.show("literal Loss", loss)
    L.say("No label appears in the printed loss (erratum B3, lesson 09), and ReLU outputs "
          "are no probabilities (erratum B4): a y_t of exactly 0 gives 0 log 0 = nan here, "
          "and a y_t above 1 would give the log of a negative number.")
    L.check("the literal loss of the document's example is not a number",
            not bool(xp.isfinite(loss)), f"Loss = {float(loss)}")


# %% [markdown]
# ### D1 backward: one step by hand
#
# $$ a = x Wx + h_{\mathrm{prev}} Wh + b, \quad h = \tanh(a) $$ (rows: x (1, D), h (1, H))
# $$ da = dh \odot (1 - h^2) $$
# $$ dWx = x^\top da, \quad dWh = h_{\mathrm{prev}}^\top da, \quad db = da, \quad dx = da Wx^\top, \quad dh_{\mathrm{prev}} = da Wh^\top $$

# %%
with L.step("D1 backward: one step by hand",
            formula="a = x Wx + h_prev Wh + b,   h = tanh(a)      (rows: x (1, D), h (1, H))\n"
                    "da = dh (.) (1 - h^2)\n"
                    "dWx = x^T da,  dWh = h_prev^T da,  db = da,  dx = da Wx^T,  "
                    "dh_prev = da Wh^T"):
    cell = nn.RNNCell(D, H).astype(xp.float64)
    cell.load_state_dict(rnn.state_dict())
    t = NAMES.index("cart")
    x_t, h_prev = x[:, t], hs[:, t - 1]                   # the 'cart' step
    L.say(f"The step of user {USER}'s first cart (event {t + 1}), from the state before it.")
    dh = backend.asarray(backend.host_rng(4).standard_normal((1, H)))
    h_t = xp.tanh(x_t @ rnn.params["Wx"] + h_prev @ rnn.params["Wh"] + rnn.params["b"])
    L.show("dh (upstream)", dh)
    da = dh * (1 - h_t ** 2)
    L.show("da = dh (.) (1 - h^2)", da)
    hand = {"dx": da @ rnn.params["Wx"].T, "dh_prev": da @ rnn.params["Wh"].T,
            "dWx": x_t.T @ da, "dWh": h_prev.T @ da, "db": da.sum(axis=0)}
    for name, value in hand.items():
        L.show(name, value)
    cell(x_t, h_prev)
    dx_cell, dh_prev_cell = cell.backward(dh)
    L.compare([("dx", hand["dx"], dx_cell), ("dh_prev", hand["dh_prev"], dh_prev_cell)]
              + [(f"d{k}", hand[f"d{k}"], cell.grads[k]) for k in ("Wx", "Wh", "b")])
    work_weight_gradient(L, "dWh", h_prev, da, 0, 0, cell.grads["Wh"], "h_prev", "da")
    L.savefig(graph_diagram.draw(GRAPH, "One RNN step (D1)", loss="L (later steps)"), "graph")
    L.say("With a one-hot x_t, dWx = x^T da is zero except in the row of the event seen: "
          "a step only teaches the embedding of its own event.")


# %% [markdown]
# ### Backpropagation through time, checked numerically
#
# $$ L = \sum_{t} R_t . h_t + R_n . h_n $$ (R: fixed random weights)
# $$ \frac{\partial L}{\partial h_{t-1}} = R_{t-1} + (\frac{\partial L}{\partial h_t} \odot (1 - h_t^2)) Wh^\top $$ (rows, Wh = W_h^T)
# $$ every parameter and input, for the layer, the cell and the head $$

# %%
with L.step("Backpropagation through time, checked numerically",
            formula="L = sum_t R_t . h_t + R_n . h_n    (R: fixed random weights)\n"
                    "dL/dh_{t-1} = R_{t-1} + (dL/dh_t (.) (1 - h_t^2)) Wh^T"
                    "    (rows, Wh = W_h^T)\n"
                    "every parameter and input, for the layer, the cell and the head"):
    h0 = backend.asarray(backend.host_rng(1).uniform(-0.5, 0.5, (1, H)))
    L.check_gradients(rnn, x, h0)
    L.check_gradients(cell, x_t, h0)
    L.check_gradients(head, hs)

T = 30 if L.fast else 60
curves = {}


# %% [markdown]
# ### D10: how far back does the gradient reach?
#
# $$ L = sum(h_T); \quad ||\frac{\partial L}{\partial h_t}|| for t = T, T-1, ..., 0 $$
# $$ RNN: \quad \frac{\partial L}{\partial h_{t-1}} = (\frac{\partial L}{\partial h_t} \odot \tanh'(a_t)) Wh^\top \quad a matrix every step $$
# $$ LSTM: \frac{\partial L}{\partial c_{t-1}} = \frac{\partial L}{\partial c_t} \odot f_t + ... \quad a gate every step $$

# %%
with L.step("D10: how far back does the gradient reach?",
            formula="L = sum(h_T);   ||dL/dh_t|| for t = T, T-1, ..., 0\n"
                    "RNN:  dL/dh_{t-1} = (dL/dh_t (.) tanh'(a_t)) Wh^T   a matrix every step\n"
                    "LSTM: dL/dc_{t-1} = dL/dc_t (.) f_t + ...           a gate every step"):
    H = 32
    log = behaviour_log()
    events = windows(log, backend.host_rng(2), 8, T, np.arange(1, log.n_users + 1))
    xs = xp.eye(len(EVENTS))[backend.asarray(events)]          # (8, T, 5) one-hot
    print(f"    8 windows of {T} events of the log's users: ids {events.shape} -> one-hot "
          f"{tuple(xs.shape)}")
    minseq.manual_seed(3)
    rnn_cell = nn.RNNCell(D, H).astype(xp.float64)
    lstm_cell = nn.LSTMCell(D, H).astype(xp.float64)
    remember = lstm_cell.copy()
    remember.params["b"][H:2 * H] += 3.0      # forget gate f = sigma(... + 3) ~ 0.95
    big = rnn_cell.copy()
    big.params["Wh"] *= 4.0                   # larger recurrent weights
    for label, cell in [("RNN (PyTorch init)", rnn_cell), ("RNN, Wh x 4", big),
                        ("LSTM (PyTorch init, f ~ 0.5)", lstm_cell),
                        ("LSTM, forget bias +3 (f ~ 0.95)", remember)]:
        norms, dh0 = state_gradient_norms(cell, xs)
        curves[label] = norms
        L.say(f"{label:<32} ||dL/dh_t|| at distance 0, 10, 20, {T}: " + ", ".join(
            f"{norms[d]:.2e}" for d in (0, 10, 20, T)))
    layer = nn.RNN(D, H).astype(xp.float64)
    layer.load_state_dict(rnn_cell.state_dict())
    dhs = xp.zeros((8, T, H))
    dhs[:, -1] = 1.0                                     # L = sum(h_T) through the layer
    layer(xs)
    _, dh0_layer = layer.backward(dhs)
    _, dh0_cells = state_gradient_norms(rnn_cell, xs)
    L.check_close("one cell per step gives the layer's dL/dh_0", dh0_cells, dh0_layer,
                  rtol=1e-9, atol=1e-14)
    rnn_far, lstm_far = curves["RNN (PyTorch init)"][20], curves[
        "LSTM, forget bias +3 (f ~ 0.95)"][20]
    L.check("20 steps back, the remembering LSTM keeps 100x more gradient than the RNN",
            lstm_far > 100 * rnn_far, f"{lstm_far:.2e} against {rnn_far:.2e}")
    L.say("The RNN multiplies by Wh^T and tanh' < 1 at every step, so the gradient shrinks "
          "geometrically (or grows, when Wh is large: no step in between is safe). The "
          "LSTM's cell path multiplies only by the forget gate: with f near 1 the gradient "
          "survives; at PyTorch's initial f ~ 0.5 it vanishes too, until training opens "
          "the gate (a common trick starts the forget bias at +1).")

fig, ax = plt.subplots(figsize=(7, 4.2))
for label, norms in curves.items():
    ax.semilogy(range(len(norms)), norms, label=label)
ax.set_xlabel("distance from the loss (steps back from T)")
ax.set_ylabel("||dL/dh_t||  (log scale)")
ax.set_title(f"D10: vanishing and exploding gradients, H = {H}, T = {T}")
ax.legend(fontsize=8)
L.savefig(fig, "d10_gradient_vs_distance")

# %%
conclude(L.finish(summary=[
    "An RNN applies the same step h_t = tanh(W_h h_{t-1} + W_x x_t + b) at every time "
    "step; minseq computes x_t Wx for all steps in one product and loops only over h Wh.",
    "The concatenated form W [h, x] is the same product with W_h and W_x side by side.",
    "Backpropagation through time is the chain rule over the unrolled loop; each step "
    "multiplies the gradient by Wh^T diag(tanh'), so it vanishes or explodes with "
    "distance. The LSTM's additive cell path, gated by f, lets it reach far back."],
    exercises=EXERCISES + [
        "Scale Wh by 2, 4 and 8 and plot ||dL/dh_t||: at which scale does the RNN's "
        "gradient stop vanishing and start exploding?",
        "Replace tanh with relu (nn.RNN(..., nonlinearity='relu')) and repeat the D10 plot.",
        "Set the LSTM forget bias to +1 (a common initialisation). How far back does a "
        "gradient of 1e-3 reach now?"]))
