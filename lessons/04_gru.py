# %%
"""The GRU step by hand (D9): reset and update gates, checked against minseq and numerically.

Run:  python lessons/04_gru.py [--step] [--backend numpy|cupy] [--fast]
"""

from unittest import mock

import matplotlib.pyplot as plt

import minseq
import minseq.nn.gru as gru_module
from minseq import backend, nn
from minseq.backend import xp
from minseq.lesson import Exercise, Lesson
from minseq.lessons_support import graph_diagram
from minseq.lessons_support.notebook import conclude
from minseq.lessons_support.worked import work_weight_gradient

from helpers import (EVENTS, USER, behaviour_log, first_events, one_hot, plot_tags, sigma,
                     train_cart_pending)


def gru_by_hand(cell, x, h):
    """D9 with separate matrices and column vectors: W_ir = Wx[:, r-block]^T, ... ."""
    H = cell.hidden_size
    Wx, Wh, bx, bh = (cell.params[k] for k in ("Wx", "Wh", "bx", "bh"))
    r_, z_, n_ = (slice(k * H, (k + 1) * H) for k in range(3))
    r = sigma(Wx[:, r_].T @ x + bx[r_] + Wh[:, r_].T @ h + bh[r_])
    z = sigma(Wx[:, z_].T @ x + bx[z_] + Wh[:, z_].T @ h + bh[z_])
    n = xp.tanh(Wx[:, n_].T @ x + bx[n_] + r * (Wh[:, n_].T @ h + bh[n_]))
    return (1 - z) * n + z * h, dict(r=r, z=z, n=n)


def exercise_set_up():
    """The graders' set-up, the same on every run: a GRUCell(5, 3) in float64 that records its
    gates, a batch of three events with random states, and a GRU with the cell's weights over a
    sequence of five events from a random h_0."""
    minseq.manual_seed(0)
    cell = nn.GRUCell(len(EVENTS), 3, record_gates=True).astype(xp.float64)
    x = one_hot(["browse", "cart", "purchase"])[0]                     # (3, 5): B = 3
    rng = backend.host_rng(3)
    h_prev = backend.asarray(rng.uniform(-0.5, 0.5, (3, 3)))
    gru = nn.GRU(len(EVENTS), 3).astype(xp.float64)
    gru.load_state_dict(cell.state_dict())
    seq = one_hot(["browse", "click", "cart", "cart", "purchase"])    # (1, 5, 5)
    h0 = backend.asarray(rng.uniform(-0.5, 0.5, (1, 3)))
    return cell, x, h_prev, gru, seq, h0


def grade_step(L, gru_step):
    """Exercise 1: the student's step inside minseq's GRUCell and GRU; the gates and h' against
    D9 by hand, the layer against D9 step by step, and every gradient (read from the student's
    cache) against central differences."""
    cell, x, h_prev, gru, seq, h0 = exercise_set_up()
    with mock.patch.object(gru_module, "gru_step", gru_step):
        h = cell(x, h_prev)
        by_rows = [gru_by_hand(cell, x[b], h_prev[b]) for b in range(x.shape[0])]
        for name in ("r", "z", "n"):
            L.check_close(f"{name} equals D9 by hand", cell.gates[name],
                          xp.stack([gates[name] for _, gates in by_rows]))
        L.check_close("h' equals D9 by hand", h, xp.stack([h_new for h_new, _ in by_rows]))
        h_t, by_hand = h0[0], []
        for t in range(seq.shape[1]):
            h_t = gru_by_hand(cell, seq[0, t], h_t)[0]
            by_hand.append(h_t)
        L.check_close("GRU over five events equals D9 step by step", gru(seq, h0)[0][0],
                      xp.stack(by_hand))
        L.check_gradients(cell, x, h_prev)
        L.check_gradients(gru, seq, h0)


def grade_step_backward(L, gru_step_backward):
    """Exercise 2: the student's backward inside minseq's GRUCell and GRU (backpropagation
    through time); every gradient against central differences, then each against the
    reference's."""
    cell, x, h_prev, gru, seq, h0 = exercise_set_up()
    with mock.patch.object(gru_module, "gru_step_backward", gru_step_backward):
        L.check_gradients(cell, x, h_prev)
        L.check_gradients(gru, seq, h0)
    cell(x, h_prev)
    (cache,) = cell.saved()
    dh = backend.asarray(backend.host_rng(4).standard_normal((3, 3)))
    *mine, dparams = gru_step_backward(cell.params, dh, cache)
    *ref, dref = gru_module.gru_step_backward(cell.params, dh, cache)
    L.compare([(name, a, b) for name, a, b in zip(("dx", "dh_prev"), mine, ref)]
              + [(f"d{k}", dparams[k], dref[k]) for k in ("Wx", "Wh", "bx", "bh")])


EXERCISES = [
    Exercise("gru_step", "Write one GRU step, forward, in PyTorch's fused layout: ax = x Wx + bx "
             "and ah = h_prev Wh + bh, the gates r and z, the candidate n (r multiplies ah_n), "
             "h' = (1 - z) n + z h_prev, and the cache the backward pass reads.", grade_step,
             reference=["minseq.nn.gru.gru_step"]),
    Exercise("gru_step_backward", "Write the step's backward: dn, dz, da_n, dr, da_r, da_z, then "
             "dax and dah, and from them dx, dh_prev, dWx, dWh, dbx and dbh (the 'D9 backward' "
             "step of this lesson).", grade_step_backward,
             reference=["minseq.nn.gru.gru_step_backward"])]


#: One GRU step's forward, one operation a line in D9's names: its graph diagram
GRAPH = [("ax", "x Wx + bx", ["x", "Wx", "bx"]), ("ah", "h Wh + bh", ["h", "Wh", "bh"]),
         ("r, z", "sigma", ["ax", "ah"]), ("n", "tanh(ax_n + r ah_n)", ["ax", "ah", "r, z"]),
         ("h'", "(1 - z) n + z h", ["n", "r, z", "h"])]


# %%
L = Lesson(__file__, "The GRU, gate by gate", ids=["D9"], goals=[
    "compute the reset gate r, the update gate z and the candidate n by hand (D9)",
    "see z interpolate between keeping h and taking the candidate",
    "check the GRU layer against its cell and against a numerical gradient",
    "compare the parameter counts of RNN, GRU and LSTM"])
if L.args.exercise:
    conclude(L.grade(EXERCISES))
minseq.manual_seed(0)
names = first_events(behaviour_log(), USER, 6)
x = one_hot(names)
D, H = len(EVENTS), 3
cell = nn.GRUCell(D, H, record_gates=True).astype(xp.float64)
L.say(f"User {USER}'s first 6 events, in the behaviour log of lessons 02 and 03 "
      f"(helpers.behaviour_log): {names}; one-hot x {tuple(x.shape)}, H = {H}.")
L.say("The documents name the GRU (D9) without writing it out; minseq uses PyTorch's "
      "formula, below, so weights carry over from torch.nn.GRU by transposition.")


# %% [markdown]
# ### D9: one GRU step by hand
#
# $$ r = \sigma(W_{ir} x + b_{ir} + W_{hr} h + b_{hr}) $$
# $$ z = \sigma(W_{iz} x + b_{iz} + W_{hz} h + b_{hz}) $$
# $$ n = \tanh(W_{in} x + b_{in} + r \odot (W_{hn} h + b_{hn})) $$
# $$ h' = (1 - z) \odot n + z \odot h $$

# %%
with L.step("D9: one GRU step by hand",
            formula="r = sigma(W_ir x + b_ir + W_hr h + b_hr)\n"
                    "z = sigma(W_iz x + b_iz + W_hz h + b_hz)\n"
                    "n = tanh(W_in x + b_in + r (.) (W_hn h + b_hn))\n"
                    "h' = (1 - z) (.) n + z (.) h"):
    t_click = names.index("click")
    h_prev = backend.asarray(backend.host_rng(1).uniform(-0.5, 0.5, H))
    print(f"    Wx {tuple(cell.params['Wx'].shape)}, Wh {tuple(cell.params['Wh'].shape)} -> "
          f"3 column blocks r, z, n of {H}, transposed: W_ir ({H}, {D}), W_hr ({H}, {H}), ...")
    L.show(f"x_{t_click + 1} (click)", x[0, t_click])
    L.show("h", h_prev)
    h_new, gates = gru_by_hand(cell, x[0, t_click], h_prev)
    for name, value in gates.items():
        L.show(name, value)
    L.show("h'", h_new)
    out = cell(x[:, t_click], h_prev[None])
    for name, value in gates.items():
        L.check_close(f"{name} by hand equals GRUCell's", cell.gates[name][0], value,
                      rtol=1e-12, atol=1e-12)
    L.check_close("h' by hand equals GRUCell", out[0], h_new, rtol=1e-12, atol=1e-12)
    L.say("r multiplies W_hn h + b_hn AFTER the product (PyTorch, cuDNN). The original "
          "paper multiplied before it, W_hn (r (.) h): a slightly different model.")


# %% [markdown]
# ### The update gate z: keep the old state or take the candidate
#
# $$ h' = (1 - z) n + z h: \quad z \to 1 copies h, \quad z \to 0 takes n $$

# %%
with L.step("The update gate z: keep the old state or take the candidate",
            formula="h' = (1 - z) n + z h:   z -> 1 copies h,   z -> 0 takes n"):
    for shift, meaning in [(+10.0, "z ~ 1: keeps h"), (-10.0, "z ~ 0: takes n")]:
        pushed = cell.copy()
        pushed.params["bx"][H:2 * H] += shift
        h_shift = pushed(x[:, t_click], h_prev[None])[0]
        L.show(f"bias_z {shift:+.0f} ({meaning}): h'", h_shift)
        target = h_prev if shift > 0 else pushed.gates["n"][0]
        kept = "h" if shift > 0 else "n"
        L.check_close(f"h' = {kept} when the z bias is {shift:+.0f}", h_shift, target,
                      rtol=0, atol=1e-3)


# %% [markdown]
# ### The sequence layer, checked against the cell and numerically
#
# $$ hs = GRU(x), \quad L = \sum_{t} R_t . h_t + R_n . h_n, \quad every gradient by BPTT $$

# %%
with L.step("The sequence layer, checked against the cell and numerically",
            formula="hs = GRU(x),   L = sum_t R_t . h_t + R_n . h_n,   every gradient "
                    "by BPTT"):
    gru = nn.GRU(D, H).astype(xp.float64)
    gru.load_state_dict(cell.state_dict())
    hs, _ = gru(x)
    h, steps = None, []
    for t in range(len(names)):
        h = cell(x[:, t], h)
        steps.append(h[0])
    L.show("hs", hs[0])
    L.check_close("GRU equals GRUCell run step by step", hs[0], xp.stack(steps),
                  rtol=1e-12, atol=1e-12)
    h0 = backend.asarray(backend.host_rng(3).uniform(-0.5, 0.5, (1, H)))
    L.check_gradients(gru, x, h0)
    L.check_gradients(cell, x[:, t_click], h_prev[None])


# %% [markdown]
# ### D9 backward: one step by hand, every intermediate gradient
#
# $$ from dh = \frac{\partial L}{\partial h'}: $$
# $$ dn = dh \odot (1 - z) \quad dz = dh \odot (h - n) \quad da_n = dn \odot (1 - n^2) $$
# $$ dr = da_n \odot ah_n $$ (ah_n = h W_hn + b_hn)
# $$ da_r = dr \odot r \odot (1 - r) \quad da_z = dz \odot z \odot (1 - z) $$
# $$ dax = [da_r da_z da_n], \quad dah = [da_r da_z da_n \odot r] $$
# $$ dWx = x^\top dax, dWh = h^\top dah, dbx = dax, dbh = dah; \quad dx = dax Wx^\top, \quad dh = dh' \odot z + dah Wh^\top $$

# %%
with L.step("D9 backward: one step by hand, every intermediate gradient",
            formula="from dh = dL/dh':\n"
                    "dn = dh (.) (1 - z)      dz = dh (.) (h - n)      "
                    "da_n = dn (.) (1 - n^2)\n"
                    "dr = da_n (.) ah_n   (ah_n = h W_hn + b_hn)\n"
                    "da_r = dr (.) r (.) (1 - r)      da_z = dz (.) z (.) (1 - z)\n"
                    "dax = [da_r da_z da_n],   dah = [da_r da_z da_n (.) r]\n"
                    "dWx = x^T dax, dWh = h^T dah, dbx = dax, dbh = dah;  dx = dax Wx^T,  "
                    "dh = dh' (.) z + dah Wh^T"):
    x_t, h_t = x[:, t_click], h_prev[None]
    dh = backend.asarray(backend.host_rng(4).standard_normal((1, H)))
    cell(x_t, h_t)
    r, z, n = (cell.gates[k] for k in ("r", "z", "n"))
    ah_n = h_t @ cell.params["Wh"][:, 2 * H:] + cell.params["bh"][2 * H:]
    L.show("dh' (upstream)", dh)
    g = {"dn": dh * (1 - z), "dz": dh * (h_t - n)}
    g["da_n"] = g["dn"] * (1 - n ** 2)
    g["dr"] = g["da_n"] * ah_n
    g["da_r"] = g["dr"] * r * (1 - r)
    g["da_z"] = g["dz"] * z * (1 - z)
    dax = xp.concatenate([g["da_r"], g["da_z"], g["da_n"]], axis=1)
    dah = xp.concatenate([g["da_r"], g["da_z"], g["da_n"] * r], axis=1)
    print(f"    da_r, da_z, da_n: 3 x {tuple(g['da_r'].shape)} -> dax, dah "
          f"{tuple(dax.shape)}, the layout of x Wx + bx and h Wh + bh")
    g.update(dx=dax @ cell.params["Wx"].T, dh_prev=dh * z + dah @ cell.params["Wh"].T,
             dWx=x_t.T @ dax, dWh=h_t.T @ dah, dbx=dax.sum(axis=0), dbh=dah.sum(axis=0))
    for name, value in g.items():
        L.show(name, value)
    dx_cell, dh_prev_cell = cell.backward(dh)
    dbx = cell.grads["bx"][None]
    L.say("The cell returns dx, dh_prev and the weight gradients; its dbx is dax (one row), "
          "whose blocks are da_r, da_z and da_n.")
    L.compare([(k, g[k], dbx[:, n * H:(n + 1) * H])
               for n, k in enumerate(("da_r", "da_z", "da_n"))]
              + [("dx", g["dx"], dx_cell), ("dh_prev", g["dh_prev"], dh_prev_cell)]
              + [(f"d{k}", g[f"d{k}"], cell.grads[k]) for k in ("Wx", "Wh", "bx", "bh")])
    work_weight_gradient(L, "dWh", h_t, dah, 0, 2 * H, cell.grads["Wh"], "h", "dah")
    L.savefig(graph_diagram.draw(GRAPH, "One GRU step (D9)", loss="L (later steps)"), "graph")


# %% [markdown]
# ### Parameters: RNN, GRU, LSTM
#
# $$ RNN: D H + H H + H \quad GRU: 3 (D H + H H) + 2 (3H) \quad LSTM: 4 (D H + H H) + 4H $$

# %%
with L.step("Parameters: RNN, GRU, LSTM",
            formula="RNN: D H + H H + H    GRU: 3 (D H + H H) + 2 (3H)    "
                    "LSTM: 4 (D H + H H) + 4H"):
    D2, H2 = 16, 32
    counts = {"RNN": nn.RNN(D2, H2).num_parameters(), "GRU": nn.GRU(D2, H2).num_parameters(),
              "LSTM": nn.LSTM(D2, H2).num_parameters()}
    L.say(f"D = {D2}, H = {H2}: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    L.check("the counts follow the formulas",
            counts == {"RNN": D2 * H2 + H2 * H2 + H2,
                       "GRU": 3 * (D2 * H2 + H2 * H2) + 6 * H2,
                       "LSTM": 4 * (D2 * H2 + H2 * H2) + 4 * H2})

T = 12 if L.fast else 40
steps = 60 if L.fast else 150


# %% [markdown]
# ### The gates of a trained GRU over a behaviour sequence

# %%
with L.step("The gates of a trained GRU over a behaviour sequence",
            formula="task: y_t = 1 while a cart waits for a purchase (lesson 03's task)\n"
                    f"GRU({D}, 8) -> Linear(8, 1) -> BCEWithLogitsLoss, Adam"):
    minseq.manual_seed(7)
    gru = nn.GRU(D, 8, record_gates=True)
    seq, y, events, pred = train_cart_pending(L, gru, 8, steps, T)
    z = gru.gates["z"][0]                                            # (T, H)
    held = (y[0] > 0.5) & (events[0] != EVENTS.index("cart"))       # the bit kept, not set
    z_held = z[held].mean(axis=0)                                     # (H,) per unit
    z_else = z[~held].mean(axis=0)
    keepers = [int(k) for k in backend.to_numpy(xp.flatnonzero(z_held > 0.8))]
    L.check("while the cart is pending some unit keeps z near 1 (h' = h: it copies the state "
            "forward), well above its z at the other steps",
            bool(keepers) and all(float(z_else[k]) < float(z_held[k]) - 0.3 for k in keepers),
            ", ".join(f"unit {k}: mean z {float(z_held[k]):.2f} pending, "
                      f"{float(z_else[k]):.2f} else" for k in keepers) or "no unit above 0.8")
    rest = [k for k in range(z.shape[1]) if k not in keepers]
    others = float(z_held[backend.asarray(rest)].mean()) if rest else float("nan")
    L.say(f"In the figure: unit(s) {keepers} hold z near 1 while the cart is pending, so "
          "h' = (1 - z) n + z h copies their state forward, the memory of the cart. The other "
          f"units average z {others:.2f} there: they are rewritten from the candidate n every "
          "step.")

fig, axes = plt.subplots(3, 1, figsize=(9, 6), sharex=True)
for ax, gate in zip(axes[:2], "rz"):
    im = ax.imshow(backend.to_numpy(gru.gates[gate][0]).T, aspect="auto", vmin=0, vmax=1)
    ax.set_ylabel(f"{gate}: unit")
    fig.colorbar(im, ax=ax, pad=0.01)
plot_tags(axes[2], y, pred, events)
axes[0].set_title("Reset and update gates of a trained GRU (H = 8) over a behaviour "
                  "sequence")
L.savefig(fig, "gru_gates_over_sequence")

# %%
conclude(L.finish(summary=[
    "A GRU step has two gates: r decides how much of the old state enters the candidate "
    "n, z interpolates h' = (1 - z) n + z h between the candidate and the old state.",
    "With no separate cell state it needs three weight blocks where the LSTM needs four; "
    "its z plays the LSTM's forget and input gates at once (z and 1 - z).",
    "minseq's GRU is PyTorch's, with two biases because r multiplies W_hn h + b_hn."],
    exercises=EXERCISES + [
        "Write the original paper's candidate n = tanh(W_in x + W_hn (r (.) h) + b_n) and "
        "compare it with minseq's on the sequence above.",
        "Push the update-gate bias to +3 and plot ||dL/dh_t|| against distance as in "
        "lesson 02: does the GRU now keep its gradient like the LSTM?"]))
