# %%
"""The LSTM cell gate by gate (D3-D8), with the documents' four errata run beside the standard.

Run:  python lessons/03_lstm.py [--step] [--backend numpy|cupy] [--fast]
"""

from unittest import mock

import matplotlib.pyplot as plt
import numpy as np

import minseq
import minseq.nn.lstm as lstm_module
from minseq import backend, nn, optim
from minseq.backend import xp
from minseq.lesson import Exercise, Lesson
from minseq.lessons_support import graph_diagram
from minseq.lessons_support.notebook import conclude
from minseq.lessons_support.worked import work_weight_gradient

from helpers import (EVENTS, USER, behaviour_log, first_events, one_hot, plot_tags, sigma,
                     train_cart_pending)


class Weights:
    """The LSTMCell's fused Wx (D, 4H), Wh (H, 4H), b (4H) cut into the document's matrices:
    W_ix = Wx[:, i-block]^T (H, D), W_ih = Wh[:, i-block]^T (H, H), b_i, ... for i, f, g, o."""

    def __init__(self, cell):
        H = cell.hidden_size
        for k, gate in enumerate("ifgo"):
            cols = slice(k * H, (k + 1) * H)
            setattr(self, f"W_{gate}x", cell.params["Wx"][:, cols].T)
            setattr(self, f"W_{gate}h", cell.params["Wh"][:, cols].T)
            setattr(self, f"b_{gate}", cell.params["b"][cols])


def standard_step(w, x, h, c):
    """D3/D5/D8 as printed (with the D8 erratum removed): column vectors, separate matrices."""
    i = sigma(w.W_ix @ x + w.W_ih @ h + w.b_i)
    f = sigma(w.W_fx @ x + w.W_fh @ h + w.b_f)
    o = sigma(w.W_ox @ x + w.W_oh @ h + w.b_o)
    g = xp.tanh(w.W_gx @ x + w.W_gh @ h + w.b_g)
    c = f * c + i * g
    return o * xp.tanh(c), c, dict(i=i, f=f, g=g, o=o)


def run(step, w, x, H, **extra):
    """Run ``step`` over the sequence x (1, T, D); returns the lists of h_t and c_t."""
    h, c, hs, cs = xp.zeros(H), xp.zeros(H), [], []
    for t in range(x.shape[1]):
        h, c, _ = step(w, x[0, t], h, c, **extra)
        hs.append(h)
        cs.append(c)
    return xp.stack(hs), xp.stack(cs)


def d6_step(w, x, h, c, W_oc):
    """D6 as printed: the output gate reads [h_{t-1}, c_t] instead of [h_{t-1}, x_t]."""
    _, c_new, gates = standard_step(w, x, h, c)
    o = sigma(w.W_oh @ h + W_oc @ c_new + w.b_o)
    return o * xp.tanh(c_new), c_new, gates


def d7_step(w, x, h, c):
    """D7 as printed: candidate through sigma, and h_t = o (.) sigma(W_hc C_t + b_h)."""
    i = sigma(w.W_ix @ x + w.W_ih @ h + w.b_i)
    f = sigma(w.W_fx @ x + w.W_fh @ h + w.b_f)
    o = sigma(w.W_ox @ x + w.W_oh @ h + w.b_o)
    c = f * c + i * sigma(w.W_gx @ x + w.W_gh @ h + w.b_g)
    return o * sigma(w.W_gh @ c + w.b_g), c, None          # the name W_hc reused for C_t


def d8_step(w, x, h, c):
    """D8 taken literally: `c_{t-1} = f_t c_{t-1}` first, then c_t = i_t g_t + f_t c_{t-1}."""
    _, _, gates = standard_step(w, x, h, c)
    c = gates["f"] * c                                       # the stray line
    c = gates["i"] * gates["g"] + gates["f"] * c
    return gates["o"] * xp.tanh(c), c, gates


def exercise_cell():
    """The graders' set-up: an LSTMCell(5, 3) in float64 and a batch of three events with
    random states, the same on every run."""
    minseq.manual_seed(0)
    cell = nn.LSTMCell(len(EVENTS), 3).astype(xp.float64)
    x = one_hot(["browse", "cart", "purchase"])[0]                     # (3, 5): B = 3
    rng = backend.host_rng(3)
    h_prev, c_prev = (backend.asarray(rng.uniform(-0.5, 0.5, (3, 3))) for _ in range(2))
    return cell, x, h_prev, c_prev


def grade_step(L, lstm_step):
    """Exercise 1: the student's step inside minseq's LSTMCell; h and c against D3's separate
    matrices, and every gradient (read from the student's cache) against central differences."""
    cell, x, h_prev, c_prev = exercise_cell()
    w = Weights(cell)
    with mock.patch.object(lstm_module, "lstm_step", lstm_step):
        h, c = cell(x, h_prev, c_prev)
        by_rows = [standard_step(w, x[b], h_prev[b], c_prev[b]) for b in range(x.shape[0])]
        L.check_close("h_t equals D3 with separate matrices", h, xp.stack([r[0] for r in by_rows]))
        L.check_close("c_t equals D3/D5", c, xp.stack([r[1] for r in by_rows]))
        L.check_gradients(cell, x, h_prev, c_prev)


def grade_step_backward(L, lstm_step_backward):
    """Exercise 2: the student's backward inside minseq's LSTMCell; every gradient against
    central differences, then each against the reference's."""
    cell, x, h_prev, c_prev = exercise_cell()
    with mock.patch.object(lstm_module, "lstm_step_backward", lstm_step_backward):
        L.check_gradients(cell, x, h_prev, c_prev)
    cell(x, h_prev, c_prev)
    (cache,) = cell.saved()
    rng = backend.host_rng(4)
    dh, dc_next = (backend.asarray(rng.standard_normal((3, 3))) for _ in range(2))
    *mine, dparams = lstm_step_backward(cell.params, dh, dc_next, cache)
    *ref, dref = lstm_module.lstm_step_backward(cell.params, dh, dc_next, cache)
    L.compare([(name, a, b) for name, a, b in zip(("dx", "dh_prev", "dc_prev"), mine, ref)]
              + [(f"d{k}", dparams[k], dref[k]) for k in ("Wx", "Wh", "b")])


EXERCISES = [
    Exercise("lstm_step", "Write one LSTM step, forward, in PyTorch's fused layout: the four "
             "gates from a = x Wx + h_prev Wh + b, then c_t, tanh(c_t) and h_t, and the cache "
             "the backward pass reads.", grade_step,
             reference=["minseq.nn.lstm.lstm_step"]),
    Exercise("lstm_step_backward", "Write the step's backward: dc, do, di, df, dg, dc_prev, the "
             "four da blocks, then dx, dh_prev, dWx, dWh and db (step 3 of this lesson).",
             grade_step_backward,
             reference=["minseq.nn.lstm.lstm_step_backward"])]


#: One LSTM step's forward, one operation a line in D3/D5's names: its graph diagram
GRAPH = [("a", "x Wx + h_prev Wh + b", ["x", "h_prev", "Wx", "Wh", "b"]),
         ("i, f, o", "sigma", ["a"]), ("g", "tanh", ["a"]),
         ("c", "f c_prev + i g", ["i, f, o", "g", "c_prev"]), ("h", "o tanh(c)", ["i, f, o", "c"])]


# %%
L = Lesson(__file__, "The LSTM cell, gate by gate", ids=["D3", "D4", "D5", "D6", "D7", "D8"],
           goals=[
               "compute the four gates, the cell state and h_t by hand (D3, D5, D8)",
               "check them against minseq's LSTMCell and the gradient numerically",
               "recognise four errata in the documents and what each one breaks "
               "(D4, D5/D6, D7, D8)",
               "read the gates of an LSTM over a behaviour sequence"])
if L.args.exercise:
    conclude(L.grade(EXERCISES))
minseq.manual_seed(0)
log = behaviour_log()
names = first_events(log, USER, 6)
x = one_hot(names)
D, H = len(EVENTS), 3
cell = nn.LSTMCell(D, H, record_gates=True).astype(xp.float64)
w = Weights(cell)
L.say(f"User {USER}'s first 6 events, in the same behaviour log as lesson 02 "
      f"(helpers.behaviour_log): {names}; one-hot x {tuple(x.shape)}, hidden size H = {H}.")


# %% [markdown]
# ### D3: the gates with separate matrices, first event
#
# $$ i_t = \sigma(W_{ix} x_t + W_{ih} h_{t-1} + b_i) $$
# $$ f_t = \sigma(W_{fx} x_t + W_{fh} h_{t-1} + b_f) $$
# $$ o_t = \sigma(W_{ox} x_t + W_{oh} h_{t-1} + b_o) $$
# $$ g_t = \tanh(W_{gx} x_t + W_{gh} h_{t-1} + b_g) $$ (the candidate, cbar_t)

# %%
with L.step("D3: the gates with separate matrices, first event",
            formula="i_t = sigma(W_ix x_t + W_ih h_{t-1} + b_i)\n"
                    "f_t = sigma(W_fx x_t + W_fh h_{t-1} + b_f)\n"
                    "o_t = sigma(W_ox x_t + W_oh h_{t-1} + b_o)\n"
                    "g_t = tanh(W_gx x_t + W_gh h_{t-1} + b_g)     (the candidate, cbar_t)"):
    h0, c0 = xp.zeros(H), xp.zeros(H)
    print(f"    fused Wx {tuple(cell.params['Wx'].shape)}, Wh "
          f"{tuple(cell.params['Wh'].shape)} -> 4 column blocks of {H}, transposed: "
          f"W_ix {tuple(w.W_ix.shape)}, W_ih {tuple(w.W_ih.shape)}, ...")
    for gate in ("i", "f", "o", "g"):
        for part in ("x", "h"):
            L.show(f"W_{gate}{part}", getattr(w, f"W_{gate}{part}"), detail=True)
        L.show(f"b_{gate}", getattr(w, f"b_{gate}"), detail=True)
    h1, c1, gates = standard_step(w, x[0, 0], h0, c0)
    for gate, value in gates.items():
        L.show(f"{gate}_1", value)
    cell(x[:, 0], h0[None], c0[None])
    for gate, value in gates.items():
        L.check_close(f"{gate} by hand equals LSTMCell's", cell.gates[gate][0], value,
                      rtol=1e-12, atol=1e-12)


# %% [markdown]
# ### D5 / D8: cell state and output, every event
#
# $$ c_t = f_t \odot c_{t-1} + i_t \odot g_t $$
# $$ h_t = o_t \odot \tanh(c_t) $$
# $$ D5 in concatenated form: f_t = \sigma(W_f [h_{t-1}, x_t] + b_f), W_f = [W_{fh} W_{fx}] $$

# %%
with L.step("D5 / D8: cell state and output, every event",
            formula="c_t = f_t (.) c_{t-1} + i_t (.) g_t\n"
                    "h_t = o_t (.) tanh(c_t)\n"
                    "D5 in concatenated form: f_t = sigma(W_f [h_{t-1}, x_t] + b_f), "
                    "W_f = [W_fh W_fx]"):
    hs, cs = run(standard_step, w, x, H)
    for t, name in enumerate(names):                 # the first two; --detail: every event
        L.show(f"t={t + 1} {name:>8}: c_t", cs[t], detail=t >= 2)
        L.show(f"           {'':>8}  h_t", hs[t], detail=t >= 2)
    layer = nn.LSTM(D, H).astype(xp.float64)
    layer.load_state_dict(cell.state_dict())
    L.check_close("by hand equals minseq.nn.LSTM, every step", layer(x)[0][0], hs,
                  rtol=1e-12, atol=1e-12)
    W_f = xp.concatenate([w.W_fh, w.W_fx], axis=1)
    hx = xp.concatenate([hs[0], x[0, 1]])
    print(f"    [W_fh W_fx] {tuple(w.W_fh.shape)} | {tuple(w.W_fx.shape)} -> W_f "
          f"{tuple(W_f.shape)};  [h_1, x_2] ({H},) + ({D},) -> {tuple(hx.shape)}")
    L.check_close("W_f [h, x] = W_fh h + W_fx x", W_f @ hx,
                  w.W_fh @ hs[0] + w.W_fx @ x[0, 1], rtol=1e-12, atol=1e-12)
    f2 = standard_step(w, x[0, 1], hs[0], cs[0])[2]["f"]
    L.erratum("D5",
              literal="c_t = f_t (.) c_{t-1} + ..., with (.) called a 'dot product'",
              standard="(.) is the elementwise (Hadamard) product: a vector of size H",
              demo="a dot product f . c would give one number, and c_t could not be a "
                   "vector of H memories.",
              source="document 002 sections 3.1, 4.1")
    L.show("f_2 (.) c_1 (elementwise)", f2 * cs[0])
    L.show("f_2 . c_1   (dot product)", f2 @ cs[0])


# %% [markdown]
# ### D8 backward: one step by hand, every intermediate gradient
#
# $$ from dh = \frac{\partial L}{\partial h_t} and dc_{\mathrm{next}} = \frac{\partial L}{\partial c_t} (from later steps): $$
# $$ dc = dc_{\mathrm{next}} + dh \odot o \odot (1 - \tanh(c)^2) \quad do = dh \odot \tanh(c) $$
# $$ di = dc \odot g \quad df = dc \odot c_{\mathrm{prev}} \quad dg = dc \odot i \quad dc_{\mathrm{prev}} = dc \odot f $$
# $$ da_i = di \odot i \odot (1 - i), da_f, da_o alike; \quad da_g = dg \odot (1 - g^2) $$
# $$ da = [da_i da_f da_g da_o]; \quad dWx = x^\top da, \quad dWh = h_{\mathrm{prev}}^\top da, \quad db = da $$
# $$ dx = da Wx^\top, \quad dh_{\mathrm{prev}} = da Wh^\top $$

# %%
with L.step("D8 backward: one step by hand, every intermediate gradient",
            formula="from dh = dL/dh_t and dc_next = dL/dc_t (from later steps):\n"
                    "dc = dc_next + dh (.) o (.) (1 - tanh(c)^2)      do = dh (.) tanh(c)\n"
                    "di = dc (.) g    df = dc (.) c_prev    dg = dc (.) i    "
                    "dc_prev = dc (.) f\n"
                    "da_i = di (.) i (.) (1 - i), da_f, da_o alike;  da_g = dg (.) (1 - g^2)\n"
                    "da = [da_i da_f da_g da_o];  dWx = x^T da,  dWh = h_prev^T da,  db = da\n"
                    "dx = da Wx^T,  dh_prev = da Wh^T"):
    t = names.index("cart")
    x_t, h_prev, c_prev = x[:, t], hs[t - 1][None], cs[t - 1][None]     # the 'cart' step
    L.say(f"The step of user {USER}'s first cart (event {t + 1}).")
    rng = backend.host_rng(1)
    dh, dc_next = (backend.asarray(rng.standard_normal((1, H))) for _ in range(2))
    c_t = cell(x_t, h_prev, c_prev)[1]
    i, f, g, o = (cell.gates[k] for k in ("i", "f", "g", "o"))
    L.show("dh (upstream)", dh)
    L.show("dc_next (upstream)", dc_next)
    dc = dc_next + dh * o * (1 - xp.tanh(c_t) ** 2)
    grads = {"dc_t": dc, "do": dh * xp.tanh(c_t), "di": dc * g, "df": dc * c_prev,
             "dg": dc * i, "dc_prev": dc * f}
    grads.update(da_i=grads["di"] * i * (1 - i), da_f=grads["df"] * f * (1 - f),
                 da_g=grads["dg"] * (1 - g ** 2), da_o=grads["do"] * o * (1 - o))
    da = xp.concatenate([grads[k] for k in ("da_i", "da_f", "da_g", "da_o")], axis=1)
    print(f"    da_i, da_f, da_g, da_o: 4 x {tuple(grads['da_i'].shape)} -> da "
          f"{tuple(da.shape)}, the layout of a = x Wx + h_prev Wh + b")
    grads.update(dx=da @ cell.params["Wx"].T, dh_prev=da @ cell.params["Wh"].T,
                 dWx=x_t.T @ da, dWh=h_prev.T @ da, db=da.sum(axis=0))
    for name, value in grads.items():                # the table below shows their heads
        L.show(name, value, detail=True)
    dx_cell, dh_prev_cell, dc_prev_cell = cell.backward(dh, dc_next)
    db_cell = cell.grads["b"]
    L.say("The cell returns dx, dh_prev, dc_prev and the weight gradients; its db is da "
          "(one row), so its four blocks are da_i, da_f, da_g, da_o; dc_t is dc_prev / f.")
    L.compare([("dc_t", dc, dc_prev_cell / f)]
              + [(k, grads[k], db_cell[None, n * H:(n + 1) * H])
                 for n, k in enumerate(("da_i", "da_f", "da_g", "da_o"))]
              + [("dx", grads["dx"], dx_cell), ("dh_prev", grads["dh_prev"], dh_prev_cell),
                 ("dc_prev", grads["dc_prev"], dc_prev_cell)]
              + [(f"d{k}", grads[f"d{k}"], cell.grads[k]) for k in ("Wx", "Wh", "b")])
    work_weight_gradient(L, "dWh", h_prev, da, 0, H, cell.grads["Wh"], "h_prev", "da")
    L.savefig(graph_diagram.draw(GRAPH, "One LSTM step (D3, D5)", loss="L (later steps)"),
              "graph")


# %% [markdown]
# ### Backward: every gradient against central differences
#
# $$ L = \sum_{t} R_t . h_t + R_n . (h_n, c_n); \quad each tensor by BPTT and by (L(\theta + e) - L(\theta - e)) / 2e $$

# %%
with L.step("Backward: every gradient against central differences",
            formula="L = sum_t R_t . h_t + R_n . (h_n, c_n);   each tensor by BPTT and by "
                    "(L(theta + e) - L(theta - e)) / 2e"):
    h0b, c0b = backend.asarray(backend.host_rng(2).uniform(-0.5, 0.5, (2, 1, H)))
    L.check_gradients(layer, x, h0b, c0b)
    L.check_gradients(cell, x_t, h_prev, c_prev)


# %% [markdown]
# ### D4: the lstm_cell of document 001, section 5.2, with its sizes (input 10, hidden 20)
#
# $$ i = \mathrm{sigmoid}(matmul(x, W_i) + matmul(h, W_i) + b_i) $$ (as printed)

# %%
with L.step("D4: the lstm_cell of document 001, section 5.2, with its sizes (input 10, "
            "hidden 20)",
            formula="i = sigmoid(matmul(x, W_i) + matmul(h, W_i) + b_i)   (as printed)"):
    host = backend.host_rng(4)
    W_i = backend.asarray(host.standard_normal((10, 20)))   # (input_size, hidden_size)
    x10, h20 = backend.asarray(host.standard_normal((1, 10))), xp.zeros((1, 20))
    L.show("x @ W_i shape", xp.asarray((x10 @ W_i).shape))
    try:
        h20 @ W_i
        failed = None
    except ValueError as exc:
        failed = str(exc)
    L.say(f"h @ W_i raised: {failed}")
    L.check("h (1, 20) @ W_i (10, 20) is a shape error", failed is not None)
    L.erratum("D4",
              literal="matmul(x, W_i) + matmul(h, W_i): one W_i for x and h",
              standard="x W_xi + h W_hi: W_xi (10, 20) and W_hi (20, 20), two matrices",
              demo="h @ W_i only type-checks when input_size == hidden_size, and even then x "
                   "and h are forced to share weights; the document's loop also never updates "
                   "a weight, so its 'falling loss' cannot come from training.",
              source="document 001 section 5.2, code")


# %% [markdown]
# ### Document 001, section 5.4: its printed run, beside what its code computes
#
# $$ \text{as printed: } Training losses: [0.02287281 0.02784542 ... 0.02314838] $$ (10 numbers)
# $$ Evaluation losses: the same 10; \quad Predictions: 10 rows of 1 number; \quad 'the loss falls' $$
# $$ the code: \quad for x, y in zip(inputs, labels): h, c = lstm_cell(x, h, c); \quad loss = \operatorname{mean}((h - y)^2) $$
# $$ inputs = rand(100, 10), labels = rand(100, 1), hidden_size = 20 $$

# %%
with L.step("Document 001, section 5.4: its printed run, beside what its code computes",
            formula="as printed: Training losses: [0.02287281 0.02784542 ... 0.02314838]  "
                    "(10 numbers)\n"
                    "            Evaluation losses: the same 10;  Predictions: 10 rows of 1 "
                    "number;  'the loss falls'\n"
                    "the code:   for x, y in zip(inputs, labels): h, c = lstm_cell(x, h, c);"
                    "  loss = mean((h - y)^2)\n"
                    "            inputs = rand(100, 10), labels = rand(100, 1), hidden_size "
                    "= 20"):
    printed = backend.asarray([0.02287281, 0.02784542, 0.02364073, 0.02305719, 0.0228145,
                               0.02331739, 0.02278256, 0.02288632, 0.02285256, 0.02314838])
    L.show("printed losses x 1000", printed * 1000)
    L.show("step to step change x 1000", xp.diff(printed) * 1000)
    rises = int((xp.diff(printed) > 0).sum())
    L.check("the printed losses do not fall: 4 of 9 steps go up, the last ends above the "
            "first", rises == 4 and float(printed[-1]) > float(printed[0]))
    L.say("The code itself cannot run (h @ W_i is D4's shape error, and batch_size is never "
          "set). Run as meant, with D4 fixed (an LSTMCell(10, 20): separate W_x and W_h) on "
          "the document's sizes, its train_model and evaluate_model are the same loop over "
          "the same weights:")
    minseq.manual_seed(1)
    doc_cell = nn.LSTMCell(10, 20).astype(xp.float64)
    host = backend.host_rng(8)
    inputs = backend.asarray(host.random((100, 10)))          # rand(100, 10)
    labels = backend.asarray(host.random((100, 1)))           # rand(100, 1)

    def document_loop(cell, opt=None):
        """train_model / evaluate_model / predict_model: one row at a time; with ``opt``, a
        step on each row's loss (what the document's training never does)."""
        h, c, losses, states = xp.zeros((1, 20)), xp.zeros((1, 20)), [], []
        for t in range(len(inputs)):
            h, c = cell(inputs[t:t + 1], h, c)
            losses.append(((h - labels[t]) ** 2).mean())      # tf.reduce_mean(square(h - y))
            states.append(h[0])
            if opt:
                cell.backward(2 * (h - labels[t]) / h.size, xp.zeros_like(c))
                opt.step()
        return xp.stack(losses), xp.stack(states)

    learner = nn.LSTMCell(10, 20).astype(xp.float64)
    learner.load_state_dict(doc_cell.state_dict())
    train_losses, predictions = document_loop(doc_cell)
    learnt_losses, _ = document_loop(learner, optim.SGD(learner, lr=0.5))
    eval_losses, _ = document_loop(learner)
    L.show("training losses, first 5 of 100", train_losses[:5])
    print(f"    losses {tuple(train_losses.shape)} (printed: 10);  predictions "
          f"{tuple(predictions.shape)} (printed: 10 x 1)")
    L.say("The document's loop updates no weight, so its evaluation repeats its training "
          "losses. With one SGD step per row (lr 0.5), a second pass reads other numbers:")
    L.show("mean loss: no update / training with updates / evaluation after them",
           xp.stack([train_losses.mean(), learnt_losses.mean(), eval_losses.mean()]))
    L.check("with weight updates the evaluation losses differ from the training losses and "
            "are lower on average, unlike the document's two identical lists",
            not bool(xp.allclose(eval_losses, learnt_losses))
            and float(eval_losses.mean()) < float(train_losses.mean()),
            f"mean {float(eval_losses.mean()):.4f} after training, "
            f"{float(train_losses.mean()):.4f} before")
    L.check("the code gives 100 losses and 100 states of 20 numbers, not 10 and 10 x 1",
            train_losses.shape == (100,) and predictions.shape == (100, 20))
    L.erratum("D4",
              literal="Training losses: [0.02287281 ... 0.02314838] (10), Evaluation "
                      "losses: the same 10, Predictions: 10 x 1; 'the loss falls during "
                      "training'",
              standard="the loop over rand(100, 10) gives 100 losses and 100 states h_t "
                       "of 20 numbers; no line updates a weight, so training and evaluation "
                       "print the same list and nothing is learnt",
              demo=f"the printed losses go up in {rises} of 9 steps and end above where "
                   "they start, and their sizes match neither the 100 input rows nor "
                   "hidden_size = 20: they are not the output of this code.",
              source="document 001 section 5.4")

T = 12 if L.fast else 40
long_x = one_hot(first_events(log, USER, T))
L.say(f"Steps D6 to D8 run user {USER}'s first {T} events: x {tuple(long_x.shape)}.")


# %% [markdown]
# ### D6: the output gate reading c_t, beside the standard gate
#
# $$ \text{as printed: } o_t = \sigma(W_o [h_{t-1}, c_t] + b_o) $$
# $$ \text{standard: } o_t = \sigma(W_o [h_{t-1}, x_t] + b_o) $$

# %%
with L.step("D6: the output gate reading c_t, beside the standard gate",
            formula="as printed: o_t = sigma(W_o [h_{t-1}, c_t] + b_o)\n"
                    "standard  : o_t = sigma(W_o [h_{t-1}, x_t] + b_o)"):
    W_oc = backend.asarray(backend.host_rng(6).uniform(-0.6, 0.6, (H, H)))
    hs_std, _ = run(standard_step, w, long_x, H)
    hs_d6, _ = run(d6_step, w, long_x, H, W_oc=W_oc)
    L.show("h_t standard, first 4", hs_std[:4], detail=True)
    L.show("h_t D6 as printed, first 4", hs_d6[:4], detail=True)
    gap = float(xp.abs(hs_std - hs_d6).max())
    L.check("the two output gates give different h_t", gap > 1e-3, f"max gap {gap:.3f}")
    L.erratum("D6",
              literal="o_t = sigma(W_o [h_{t-1}, c_t] + b_o)",
              standard="o_t = sigma(W_o [h_{t-1}, x_t] + b_o)  (torch.nn.LSTM, D8)",
              demo="reading the new cell state is a peephole-like variant: a different model "
                   "with a (H, H) block where the standard has (H, D); not the LSTM a library "
                   "gives you.",
              source="document 002 sections 3.1, 4.1")


# %% [markdown]
# ### D7: sigma for the candidate and the output, beside tanh
#
# $$ \text{as printed: } C_t = f \odot C_{t-1} + i \odot \sigma(W_{xc} x_t + W_{hc} h_{t-1} + b_c) $$
# $$ h_t = o_t \odot \sigma(W_{hc} C_t + b_h) $$
# $$ \text{standard: } g_t = \tanh(...), \quad h_t = o_t \odot \tanh(C_t) $$

# %%
with L.step("D7: sigma for the candidate and the output, beside tanh",
            formula="as printed: C_t = f (.) C_{t-1} "
                    "+ i (.) sigma(W_xc x_t + W_hc h_{t-1} + b_c)\n"
                    "            h_t = o_t (.) sigma(W_hc C_t + b_h)\n"
                    "standard  : g_t = tanh(...),  h_t = o_t (.) tanh(C_t)"):
    L.say("A reading, not the text: the document writes one generic sigma for every "
          "nonlinearity. In D3 to D6 it is the gates' logistic sigmoid, so this lesson reads "
          "D7's sigma as the sigmoid too; read as tanh, D7 would be the standard cell and "
          "there would be no erratum.")
    _, cs_std = run(standard_step, w, long_x, H)
    _, cs_d7 = run(d7_step, w, long_x, H)
    L.show("c_t standard (unit 0), first 8", cs_std[:8, 0])
    L.show("c_t D7 as printed (unit 0), first 8", cs_d7[:8, 0])
    L.check("with a sigma candidate the cell can never turn negative",
            bool((cs_d7 > 0).all()) and bool((cs_std < 0).any()),
            f"D7 min {float(cs_d7.min()):.3f}, standard min {float(cs_std.min()):.3f}")
    L.erratum("D7",
              literal="candidate sigma(...), h_t = o_t (.) sigma(W_hc C_t + b_h)",
              standard="candidate tanh(...), h_t = o_t (.) tanh(C_t)",
              demo="a candidate in (0, 1) can only add to the cell, so memories cannot be "
                   "negative or cancel; the output also reuses the name W_hc for a new "
                   "(H, H) matrix applied to C_t.",
              source="document 003 section 4.2.2")


# %% [markdown]
# ### D8: the forget gate applied twice, beside once
#
# $$ \text{as printed: } c_{t-1} = f_t c_{t-1}; \quad c_t = i_t g_t + f_t c_{t-1} $$
# $$ \text{standard: } c_t = i_t g_t + f_t c_{t-1} $$

# %%
with L.step("D8: the forget gate applied twice, beside once",
            formula="as printed: c_{t-1} = f_t c_{t-1};  c_t = i_t g_t + f_t c_{t-1}\n"
                    "standard  : c_t = i_t g_t + f_t c_{t-1}"):
    _, cs_d8 = run(d8_step, w, long_x, H)
    L.show("c_t standard (unit 0), first 6", cs_std[:6, 0])
    L.show("c_t D8 literal (unit 0), first 6", cs_d8[:6, 0])
    ratio = float(xp.abs(cs_d8[1:]).mean() / xp.abs(cs_std[1:]).mean())
    L.check("forgetting twice shrinks the cell state", ratio < 1, f"mean |c| ratio {ratio:.2f}")
    L.erratum("D8",
              literal="c_{t-1} = f_t c_{t-1}, then c_t = i_t g_t + f_t c_{t-1}",
              standard="c_t = i_t g_t + f_t c_{t-1}  (f applied once)",
              demo="taken literally the old cell is multiplied by f_t^2: the cell forgets "
                   "twice as fast in log terms. The rest of D8 is the standard LSTM in "
                   "PyTorch's gate order i, f, g, o.",
              source="document 004 section 4.2")


# %% [markdown]
# ### Document 004, section 4.2: its worked example, with its numbers
#
# $$ x_1 = [1, 0], \quad x_2 = [0, 1], \quad x_3 = [1, 1]; \quad gates from [h_{t-1}, x_t] $$
# $$ \text{as printed: } c_{t-1} = f_t c_{t-1}; \quad c_t = i_t g_t + f_t c_{t-1}; \quad h_t = o_t \tanh(c_t) $$
# $$ y_t = \mathrm{ReLU}(W_y h_t + b_y); \quad \mathrm{Loss} = -1/T sum [y \log y + (1 - y) \log(1 - y)] $$

# %%
with L.step("Document 004, section 4.2: its worked example, with its numbers",
            formula="x_1 = [1, 0],  x_2 = [0, 1],  x_3 = [1, 1];  gates from [h_{t-1}, x_t]\n"
                    "as printed: c_{t-1} = f_t c_{t-1};  c_t = i_t g_t + f_t c_{t-1};  "
                    "h_t = o_t tanh(c_t)\n"
                    "y_t = ReLU(W_y h_t + b_y);  Loss = -1/T sum [y log y + (1 - y) log(1 - y)]"):
    L.say("No weights are printed: minseq's seeded initial weights, H = 3. The document "
          "works step 1 only, where c_0 = 0 hides the doubled forget gate; steps 2 and 3 "
          "show it.")
    minseq.manual_seed(4)
    doc_cell = nn.LSTMCell(2, H).astype(xp.float64)
    head = nn.Linear(H, 1).astype(xp.float64)
    x_doc = backend.asarray([[[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]])     # (1, T=3, D=2)
    w_doc = Weights(doc_cell)
    hs_std, cs_std = run(standard_step, w_doc, x_doc, H)
    hs_lit, cs_lit = run(d8_step, w_doc, x_doc, H)
    for t in range(3):
        L.show(f"c_{t + 1} standard / as printed", xp.stack([cs_std[t], cs_lit[t]]))
    doc_layer = nn.LSTM(2, H).astype(xp.float64)
    doc_layer.load_state_dict(doc_cell.state_dict())
    L.check_close("the standard steps equal nn.LSTM", doc_layer(x_doc)[0][0], hs_std,
                  rtol=1e-12, atol=1e-12)
    L.check_close("step 1 (the document's): the stray line changes nothing, c_0 = 0",
                  cs_lit[0], cs_std[0], rtol=0, atol=0)
    gap = float(xp.abs(cs_lit[2] - cs_std[2]).max())
    L.check("step 3: the doubled forget gate changes c_3", gap > 1e-3, f"max gap {gap:.3f}")
    y_doc = xp.maximum(hs_lit @ head.params["W"] + head.params["b"], 0)[:, 0]
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = y_doc * xp.log(y_doc) + (1 - y_doc) * xp.log(1 - y_doc)
    L.show("y_t = ReLU(W_y h_t + b_y)", y_doc)
    L.show("literal Loss", -terms.mean())
    L.say("As in section 4.1 (lesson 02): no label in the loss, and a ReLU output of 0 or "
          "above 1 has no logarithm to take; lesson 09 shows the standard BCE.")

steps = 60 if L.fast else 150


# %% [markdown]
# ### The gates of a trained LSTM over a behaviour sequence

# %%
with L.step("The gates of a trained LSTM over a behaviour sequence",
            formula="task: y_t = 1 while a cart waits for a purchase (cart sets it, purchase "
                    f"resets it)\nLSTM({D}, 8) -> Linear(8, 1) -> BCEWithLogitsLoss, "
                    "Adam\n"
                    "LSTM(..., record_gates=True).gates[name] is (B, T, H)"):
    minseq.manual_seed(7)
    lstm = nn.LSTM(D, 8, record_gates=True)
    seq, y, events, pred = train_cart_pending(L, lstm, 8, steps, T)
    for gate in "ifgo":
        L.show(f"mean {gate} per step, first 6", lstm.gates[gate][0, :6].mean(axis=1),
               detail=True)
    L.check("sigmoid gates lie in (0, 1)", all(
        bool(((lstm.gates[g] > 0) & (lstm.gates[g] < 1)).all()) for g in "ifo"))
    f_mean = lstm.gates["f"][0].mean(axis=1)                     # (T,)
    at = {name: events[0] == EVENTS.index(name) for name in ("cart", "purchase")}
    held = (y[0] > 0.5) & ~at["cart"]                  # the bit kept, neither set nor cleared
    f_at = {name: float(f_mean[where].mean()) for name, where in
            dict(at, held=held, other=~(at["cart"] | at["purchase"] | held)).items()}
    L.check("the forget gate closes where the bit changes (carts and purchases) and stays "
            "more open while it is held", max(f_at["cart"], f_at["purchase"]) < f_at["held"],
            ", ".join(f"mean f {v:.2f} at {k}" for k, v in f_at.items()))
    lower = "cart" if f_at["cart"] < f_at["purchase"] else "purchase"
    L.say(f"In the figure: f is lowest at each {lower} (mean {f_at[lower]:.2f}), where the old "
          f"content makes way; while the bit is held it averages {f_at['held']:.2f}, and the "
          "pending steps keep the tag at 1 without a cart to read.")

fig, axes = plt.subplots(5, 1, figsize=(9, 8.5), sharex=True)
for ax, gate in zip(axes, "ifgo"):
    values = backend.to_numpy(lstm.gates[gate][0]).T          # (H, T)
    im = ax.imshow(values, aspect="auto", cmap="RdBu_r" if gate == "g" else "viridis",
                   vmin=-1 if gate == "g" else 0, vmax=1)
    ax.set_ylabel(f"{gate}: unit")
    fig.colorbar(im, ax=ax, pad=0.01)
plot_tags(axes[4], y, pred, events)
axes[0].set_title("Gates of a trained LSTM (H = 8) over a behaviour sequence")
L.savefig(fig, "lstm_gates_over_sequence")

# %%
conclude(L.finish(summary=[
    "An LSTM step computes four gates from one fused product x Wx + h Wh + b, in "
    "PyTorch's order i, f, g, o; c_t = f c_{t-1} + i g is elementwise, h_t = o tanh(c_t).",
    "The separate-matrix (D3) and concatenated (D5) forms are the same numbers.",
    "Errata: D4 mixes up weight shapes (a shape error at 10/20), D5 calls the elementwise "
    "product a dot product, D6 feeds c_t to the output gate, D7 uses sigma where tanh "
    "belongs, D8 applies the forget gate twice."],
    exercises=EXERCISES + [
        "Set the forget-gate bias to +5 and to -5 and rerun the gate figure: what does the "
        "cell state do in each case?",
        "Count the parameters of LSTM(D, H) and check 4 (D H + H H + H) against "
        "num_parameters().",
        "Find the unit of the trained LSTM whose cell state carries 'cart pending': plot "
        "its c_t, i_t and f_t and say which gate writes the bit and which one clears it."]))
