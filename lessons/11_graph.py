# %%
"""Graph message passing: G1 by hand on an item-transition graph, two rounds, a next-item scorer.

Catalogue G1 (document 003 §4.3). Three short shopping sessions become a directed graph of five
items; one round of message passing is computed node by node and as the matrix product A H W + b,
checked against ``nn.GraphConv`` (dense and edge-list forms) and numerical gradients; two rounds
show how far information travels; a tiny scorer on top predicts the next item of a session.
"""

from unittest import mock

import matplotlib.pyplot as plt
import numpy as np

import minseq
import minseq.nn.graph as graph_module
from minseq import backend, nn, optim
from minseq.lesson import Exercise, Lesson
from minseq.lessons_support import graph_diagram
from minseq.lessons_support.notebook import conclude
from minseq.lessons_support.worked import work_weight_gradient

ITEMS = ["phone", "case", "charger", "headphones", "cable"]
SESSIONS = [[0, 1, 2], [0, 4, 2], [3, 0, 1, 2]]
# Two features per item (say, scaled price and popularity): small numbers to follow by hand.
FEATURES = np.array([[0.9, 0.8], [0.1, 0.6], [0.3, 0.5], [0.7, 0.2], [0.05, 0.4]])


class NextItemScorer(nn.Module):
    """logits(next | current item u) = Linear(H'[u]), H' = GraphConv(H, A): item vectors that
    have heard from their graph neighbours, then one score per candidate item."""

    def __init__(self, num_items, hidden):
        super().__init__()
        self.conv = nn.GraphConv(num_items, hidden, "tanh", normalize="mean")
        self.out = nn.Linear(hidden, num_items)

    def forward(self, H, A, current):
        Hp = self.conv(H, A)                                     # (N, hidden)
        self.save_for_backward(Hp.shape, current)
        return self.out(Hp[current])                             # (P, num_items)

    def backward(self, dlogits):
        shape, current = self.saved()
        dHp = backend.xp.zeros(shape, dtype=dlogits.dtype)
        # An item that is the current one of several pairs collects every pair's gradient.
        backend.xp.add.at(dHp, current, self.out.backward(dlogits))
        return self.conv.backward(dHp)


def draw_graph(ax, A):
    angle = np.pi / 2 - 2 * np.pi * np.arange(len(ITEMS)) / len(ITEMS)
    pos = np.stack([np.cos(angle), np.sin(angle)], axis=1)
    for v, u in zip(*np.nonzero(A)):
        ax.annotate("", xy=pos[v] * 0.85 + pos[u] * 0.15, xytext=pos[u] * 0.85 + pos[v] * 0.15,
                    arrowprops=dict(arrowstyle="-|>", lw=1 + A[v, u], color="C0"))
        mid = (pos[u] + pos[v]) / 2
        ax.text(*mid, f"{A[v, u]:.0f}", color="C3", fontsize=9, ha="center")
    for i, name in enumerate(ITEMS):
        ax.text(*pos[i] * 1.12, f"{i}: {name}", ha="center", va="center", fontsize=9,
                bbox=dict(boxstyle="round", fc="w", ec="0.6"))
    ax.set_xlim(-1.5, 1.5)
    ax.set_ylim(-1.4, 1.4)
    ax.set_title("item-transition graph (edge u -> v, width = count)")
    ax.set_xlabel("arrow: the next item of a session")
    ax.set_xticks([])
    ax.set_yticks([])


def first_round():
    """The lesson's first GraphConv(2, 2, tanh) in float64, bias (0.1, -0.1): the same weights
    on every run."""
    minseq.manual_seed(3)
    conv = nn.GraphConv(2, 2, "tanh").astype(backend.xp.float64)
    conv.params["b"][...] = backend.asarray([0.1, -0.1])
    return conv


def session_graph():
    """The graders' graph: the edge list (E, 2) of the three sessions, and its dense A (N, N)
    on the host, A[v, u] = number of transitions u -> v."""
    edges, n = nn.item_transition_graph(SESSIONS)
    return edges, backend.to_numpy(nn.adjacency_from_edges(edges, n, dtype=backend.xp.float64))


def with_self_loops(edges, n):
    """Batched edge rows (b, u, v) of two graphs: the sessions' (b = 0) and the same with a
    self-loop at every item (b = 1)."""
    xp = backend.xp
    loops = xp.stack([xp.arange(n), xp.arange(n)], axis=1)
    pairs = [edges, xp.concatenate([edges, loops])]
    return xp.concatenate([xp.concatenate([xp.full((len(e), 1), b), e], axis=1)
                           for b, e in enumerate(pairs)])


def grade_propagate(L, propagate):
    """Exercise 1: the student's propagate inside GraphConv; the charger and the headphones
    against G1 by hand, the dense and edge-list forms against tanh(A H W + b) and each other,
    'mean' weights, a batch of two graphs, and the gradients (the transposed product)."""
    xp = backend.xp
    edges, A = session_graph()
    n = len(A)
    H = backend.asarray(FEATURES)
    conv = first_round()
    W, b = backend.to_numpy(conv.params["W"]), backend.to_numpy(conv.params["b"])
    mean = nn.GraphConv(2, 2, "tanh", normalize="mean").astype(xp.float64)
    mean.load_state_dict(conv.state_dict())
    batched = with_self_loops(edges, n)
    A_batch = backend.asarray(np.stack([A, A + np.eye(n)]))
    d_in = A.sum(axis=1, keepdims=True)
    A_mean = np.divide(A, d_in, out=np.zeros_like(A), where=d_in > 0)
    with mock.patch.object(graph_module, "propagate", propagate):
        out_edges, out_dense = conv(H, edges), conv(H, backend.asarray(A))
        charger = np.tanh(b + sum(A[2, u] * FEATURES[u] @ W for u in range(n)))
        L.check_close("the charger (2) equals G1 by hand: tanh(b + sum over its in-edges u -> 2 "
                      "of h_u W)", out_edges[2], charger)
        L.check_close("the headphones (3), with no incoming edge, get tanh(b)", out_edges[3],
                      np.tanh(b))
        L.check_close("the dense A gives tanh(A H W + b) on every item", out_dense,
                      np.tanh(A @ FEATURES @ W + b))
        L.check_close("the edge list gives what the dense A gives", out_edges, out_dense,
                      rtol=1e-12)
        L.check_close("normalize='mean' over the edge list (edge weights 1 / d_in(v)) equals "
                      "tanh(A_hat H W + b)", mean(H, edges), np.tanh(A_mean @ FEATURES @ W + b))
        H2 = xp.stack([H, H])
        L.check_close("a batch of two graphs, edge rows (b, u, v), equals its dense (2, N, N) "
                      "form", conv(H2, batched), conv(H2, A_batch), rtol=1e-12)
        L.check_gradients(conv, H, edges, label="GraphConv, edge list")
        L.check_gradients(conv, H, backend.asarray(A), grad_inputs=["H"],
                          label="GraphConv, dense A")


def grade_normalize(L, dense_operator):
    """Exercise 2: the student's A_hat for 'none', 'mean' and 'sym' against the formulas by
    hand (an item that receives nothing gets 0, not NaN), on a batch of graphs, then inside
    GraphConv against the edge-list form, which normalises without it."""
    xp = backend.xp
    edges, A = session_graph()
    n = len(A)
    d_in, d_out = A.sum(axis=1), A.sum(axis=0)
    f_in = np.divide(1.0, d_in, out=np.zeros(n), where=d_in > 0)
    f_out = np.divide(1.0, d_out, out=np.zeros(n), where=d_out > 0)
    by_hand = {"none": A, "mean": f_in[:, None] * A,
               "sym": np.sqrt(f_in)[:, None] * A * np.sqrt(f_out)[None, :]}
    for norm, expected in by_hand.items():
        L.check_close(f"A_hat ({norm}) equals the formula by hand",
                      dense_operator(backend.asarray(A), norm), expected)
    rows = backend.to_numpy(dense_operator(backend.asarray(A), "mean")).sum(axis=1)
    L.check("mean: the weights an item receives sum to 1, or to 0 for the headphones (no "
            "incoming edge)", np.allclose(rows, d_in > 0), f"row sums {np.round(rows, 4)}")
    both = np.stack([A, A + np.eye(n)])
    L.check_close("sym on a batch (2, N, N) equals each graph on its own",
                  dense_operator(backend.asarray(both), "sym"),
                  xp.stack([dense_operator(backend.asarray(a), "sym") for a in both]))
    H = backend.asarray(FEATURES)
    for norm in ("mean", "sym"):
        conv = nn.GraphConv(2, 2, "tanh", normalize=norm).astype(xp.float64)
        conv.load_state_dict(first_round().state_dict())
        with mock.patch.object(graph_module, "dense_operator", dense_operator):
            dense = conv(H, backend.asarray(A))
        L.check_close(f"GraphConv(normalize={norm!r}): the dense A gives what the edge list "
                      "gives", dense, conv(H, edges))


EXERCISES = [
    Exercise("propagate", "Write message passing's sum, A_hat X, for a dense A_hat (a matrix "
             "product) and for an edge list (a scatter-add, so repeated edges all count), and "
             "its transpose A_hat^T X for the backward pass.", grade_propagate,
             reference=["minseq.nn.graph.propagate"]),
    Exercise("dense_operator", "Write the normalised adjacency A_hat of 'none', 'mean' "
             "(divide by the in-degree d_in(v)) and 'sym' (by sqrt(d_in(v) d_out(u))), with "
             "factor 0 for a degree of 0.", grade_normalize,
             reference=["minseq.nn.graph.dense_operator", "minseq.nn.graph._degree_factors"])]


#: GraphConv's forward, one operation a line in G1's names: its graph diagram
GRAPH = [("AH", "A H (sum over neighbours)", ["A", "H"]), ("Z", "AH W + b", ["AH", "W", "b"]),
         ("H'", "tanh", ["Z"])]


# %%
L = Lesson(__file__, "Lesson 11 - Graph message passing on an item-transition graph",
           ids=["G1"],
           goals=["build the directed item graph of consecutive events in sessions",
                  "compute one round of message passing node by node and as A H W + b",
                  "compare the none / mean / sym normalisations of the adjacency",
                  "check GraphConv's backward by hand and by numerical gradients",
                  "see how far two rounds reach, and why a self-loop matters",
                  "train a tiny next-item scorer on top of the graph"])
if L.args.exercise:
    conclude(L.grade(EXERCISES))
xp = backend.xp


# %% [markdown]
# ### The item-transition graph from three sessions
#
# $$ edge u \to v for every consecutive pair (u, v) of a session; \quad A[v, u] = number of times v followed u $$

# %%
with L.step("The item-transition graph from three sessions",
            formula="edge u -> v for every consecutive pair (u, v) of a session;  "
                    "A[v, u] = number of times v followed u"):
    for s in SESSIONS:
        print("  session: " + " -> ".join(ITEMS[i] for i in s))
    edges, n = nn.item_transition_graph(SESSIONS)
    A = nn.adjacency_from_edges(edges, n, dtype=xp.float64)
    L.show("edges (u, v)", edges.T)
    L.show("A (row v receives from column u)", A)
    L.show("in-degree  d_in(v)  = row sums   ", A.sum(axis=1))
    L.show("out-degree d_out(u) = column sums", A.sum(axis=0))
    L.check("every transition is one edge",
            float(A.sum()) == sum(len(s) - 1 for s in SESSIONS))

# Two features per item (FEATURES): small numbers to follow by hand. The hand computations
# run on the active backend, as the layer does.
H = backend.asarray(FEATURES)
conv = first_round()
W, b = conv.params["W"], conv.params["b"]


# %% [markdown]
# ### G1 by hand for one item: charger (2)
#
# $$ h_v^{(k+1)} = \sigma( \sum_{u in N(v)} W^{(k)} h_u^{(k)} + b^{(k)} ) $$
# $$ (rows as vectors: W h_u is written h_u W here, W is (in, out)) $$

# %%
with L.step("G1 by hand for one item: charger (2)",
            formula="h_v^{(k+1)} = sigma( sum_{u in N(v)} W^{(k)} h_u^{(k)} + b^{(k)} )\n"
                    "(rows as vectors: W h_u is written h_u W here, W is (in, out))"):
    L.show("H (one row per item)", H)
    L.show("W", W)
    L.show("b", b)
    v = 2
    total = b.copy()
    for u in range(n):
        for _ in range(int(A[v, u])):                       # a repeated edge sends twice
            msg = H[u] @ W
            total = total + msg
            print(f"  message from {ITEMS[u]:<8} h_{u} W = "
                  f"{np.round(backend.to_numpy(msg), 4)}")
    h2 = xp.tanh(total)
    L.show("sum + b", total)
    L.show("h_2' = tanh(sum + b)", h2)
    out_edges = conv(H, edges)
    out_dense = conv(H, A)
    L.check_close("equals GraphConv (edge list) for the charger", out_edges[v], h2)
    L.check_close("edge-list and dense forms agree on every item", out_edges, out_dense,
                  rtol=1e-12)
    L.say("The sum runs over in-neighbours only: the charger's own features h_2 are not in "
          "it. Headphones (3) receive nothing, so h_3' = tanh(b) whatever h_3 is.")
    L.check_close("an item with no incoming edge gets tanh(b)", out_edges[3], xp.tanh(b))


# %% [markdown]
# ### The matrix form, and three normalisations
#
# $$ H' = \sigma(A_hat H W + b) $$
# $$ \text{none: } \hat{A} = A; \quad \text{mean: } \hat{A}_{vu} = A_{vu} / d_{\mathrm{in}}(v); \quad \text{sym: } \hat{A}_{vu} = A_{vu} / \sqrt{d_{\mathrm{in}}(v)\, d_{\mathrm{out}}(u)} $$

# %%
with L.step("The matrix form, and three normalisations",
            formula="H' = sigma(A_hat H W + b)\n"
                    "none: A_hat = A;  mean: A_hat[v,u] = A[v,u] / d_in(v);  "
                    "sym: A[v,u] / sqrt(d_in(v) d_out(u))"):
    AH = A @ H
    L.show("A H (summed neighbour features)", AH)
    L.check_close("tanh(A H W + b) equals GraphConv", xp.tanh(AH @ W + b), out_edges)
    for norm in ("mean", "sym"):
        A_hat = nn.graph.dense_operator(A, norm)
        L.show(f"A_hat ({norm})", A_hat)
        g = nn.GraphConv(2, 2, "tanh", normalize=norm).astype(xp.float64)
        g.load_state_dict(conv.state_dict())                  # the same W and b
        L.check_close(f"tanh(A_hat H W + b) equals GraphConv(normalize={norm!r})",
                      xp.tanh(A_hat @ H @ W + b), g(H, edges))
    L.say("With 'none' a popular item (many incoming transitions) gets a large sum and "
          "saturates tanh; 'mean' averages, so every row of A_hat with an edge sums to 1.")


# %% [markdown]
# ### Backward: gradients of W, b and H
#
# $$ Z = A H W + b, \quad dZ = dH' \odot (1 - H'^2) $$
# $$ dW = (A H)^\top dZ, \quad db = \sum_{v} dZ_v, \quad dH = A^\top dZ W^\top $$

# %%
with L.step("Backward: gradients of W, b and H",
            formula="Z = A H W + b,  dZ = dH' (.) (1 - H'^2)\n"
                    "dW = (A H)^T dZ,  db = sum_v dZ_v,  dH = A^T dZ W^T"):
    R = backend.asarray(backend.host_rng(0).standard_normal((n, 2)))   # upstream dL/dH'
    Hp = xp.tanh(AH @ W + b)
    dZ = R * (1 - Hp ** 2)
    dW, db, dH = AH.T @ dZ, dZ.sum(axis=0), A.T @ dZ @ W.T
    conv(H, edges)
    dH_layer = conv.backward(R)
    L.compare([("dW", dW, conv.grads["W"]), ("db", db, conv.grads["b"]),
               ("dH", dH, dH_layer)])
    work_weight_gradient(L, "dW", AH, dZ, 0, 0, conv.grads["W"], "(A H)", "dZ")
    L.savefig(graph_diagram.draw(GRAPH, "One graph convolution (G1)", constants=["A"],
                                 loss="L (dH' upstream)"), "graph")
    L.check_gradients(conv, H, edges)


# %% [markdown]
# ### Two rounds of message passing: how far does an item's signal travel?
#
# $$ H'' = \sigma(A \sigma(A H W1 + b1) W2 + b2); \quad after k rounds v hears from u when (A^k)[v, u] != 0 $$

# %%
with L.step("Two rounds of message passing: how far does an item's signal travel?",
            formula="H'' = sigma(A sigma(A H W1 + b1) W2 + b2);  after k rounds v hears from "
                    "u when (A^k)[v, u] != 0"):
    second = nn.GraphConv(2, 2, "tanh").astype(xp.float64)

    def changed(adj, rounds):
        """Items whose output moves when only the headphones' features change."""
        H2 = H.copy()
        H2[3] += 1.0
        outs = []
        for feats in (H, H2):
            h = conv(feats, adj)
            if rounds == 2:
                h = second(h, adj)
            outs.append(h)
        moved = xp.abs(outs[0] - outs[1]).max(axis=1) > 1e-12
        return xp.nonzero(moved)[0].tolist()                  # item ids, in order

    A2 = A @ A
    L.show("A^2 (two-step walks)", A2)
    one, two = changed(A, 1), changed(A, 2)
    print(f"  change headphones (3): round 1 moves items {one}, round 2 moves items {two}")
    L.check("round 1 reaches exactly the items with A[v, 3] != 0", one ==
            xp.nonzero(A[:, 3])[0].tolist())
    L.check("round 2 reaches exactly the items with A^2[v, 3] != 0", two ==
            xp.nonzero(A2[:, 3])[0].tolist())
    L.say("After two rounds the phone (0) no longer carries the headphones' signal: the "
          "document's sum has no self term, so each round forgets what a node held. Adding "
          "self-loops (A + I) keeps it:")
    loops = changed(A + xp.eye(n), 2)
    print(f"  with A + I, round 2 moves items {loops}")
    L.check("with self-loops, two rounds keep the signal at the phone too", 0 in loops and 3
            in loops)


# %% [markdown]
# ### A tiny next-item scorer on top of the graph
#
# $$ p(next | u) = \mathrm{softmax}(Linear(H'[u])), $$
# $$ H' = \tanh(A_hat X W + b), \quad A_hat = \operatorname{mean}-normalised A + I, X = one-hot items $$
# $$ loss: cross-entropy over every observed transition u \to v $$

# %%
with L.step("A tiny next-item scorer on top of the graph",
            formula="p(next | u) = softmax(Linear(H'[u])),\n"
                    "H' = tanh(A_hat X W + b),  A_hat = mean-normalised A + I, X = one-hot items"
                    "\nloss: cross-entropy over every observed transition u -> v"):
    minseq.manual_seed(0)
    current, target = edges[:, 0], edges[:, 1]
    A_loop = (A + xp.eye(n)).astype(xp.float32)
    onehot = xp.eye(n, dtype=xp.float32)
    model = NextItemScorer(n, 8)
    opt = optim.Adam(model, lr=0.05)
    ce = nn.CrossEntropyLoss()
    losses = []
    for _ in range(60 if L.fast else 150):
        losses.append(float(ce(model(onehot, A_loop, current), target)))
        model.backward(ce.backward())
        opt.step()
    # The best any model can do is the entropy of the observed next-item frequencies.
    counts = A.T[A.T.sum(axis=1) > 0]             # counts[u, v]: u -> v, items with a next
    freq = counts / counts.sum(axis=1, keepdims=True)
    seen = freq > 0
    floor = -float((counts[seen] * xp.log(freq[seen])).sum() / counts.sum())
    print(f"  loss {losses[0]:.3f} -> {losses[-1]:.3f}  (the floor, the entropy of the data: "
          f"{floor:.3f})")
    probs = nn.Softmax()(model(onehot, A_loop, xp.arange(n)))
    shown = backend.to_numpy(probs)                          # host copy, to print
    for u in (0, 1, 3, 4):
        top = np.argsort(shown[u])[::-1][:2]
        print(f"  after {ITEMS[u]:<10}: " + ", ".join(f"{ITEMS[v]} {shown[u, v]:.2f}"
                                                    for v in top))
    L.check("training loss falls toward the entropy floor", losses[-1] < floor + 0.1,
            f"{losses[-1]:.3f} vs floor {floor:.3f}")
    L.check("after a phone, a case (2 of 3 times) ranks above a cable (1 of 3)",
            float(probs[0, 1]) > float(probs[0, 4]) > 0.2)
    L.check("after a case the charger comes first",
            int(xp.argmax(probs[1])) == 2)

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.5))
    draw_graph(axes[0], backend.to_numpy(A))
    axes[1].plot(losses, label="training cross-entropy")
    axes[1].axhline(floor, color="C3", ls="--", label="entropy of the transitions (floor)")
    axes[1].set_title("next-item scorer: GraphConv + Linear, Adam lr 0.05")
    axes[1].set_xlabel("step (full batch)")
    axes[1].set_ylabel("cross-entropy")
    axes[1].legend(fontsize=8)
    fig.suptitle("Lesson 11: message passing on an item-transition graph")
    L.savefig(fig, "graph_and_scorer")

# %%
conclude(L.finish(
    summary=["Consecutive events of sessions give a directed item graph; A[v, u] counts the "
             "transitions u -> v, and a repeated edge is a weight, not a duplicate to drop.",
             "One round of message passing is H' = sigma(A H W + b): each item sums what its "
             "in-neighbours send. The node form and the matrix form are the same sum.",
             "Normalising A (mean, sym) keeps popular items from dominating; an edge list "
             "with a scatter-add (xp.add.at) gives the same result as the dense product.",
             "k rounds reach the k-step neighbourhood (A^k); without self-loops an item "
             "forgets its own features each round.",
             "Backward is the same product transposed: dH = A^T dZ W^T."],
    exercises=EXERCISES + [
        "Add a fourth session [4, 4, 2] (a cable viewed twice): which entry of A changes, "
        "and what does the self-loop do to the cable's output?",
        "Train the scorer with normalize='none' and with 'sym': which reaches the entropy "
        "floor faster, and why?",
        "Show that (D_in^-1 A) H W = D_in^-1 (A H W): 'mean' divides each item's summed "
        "message by its in-degree, before the bias and the activation."]))
