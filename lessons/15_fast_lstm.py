# %%
"""From the reference LSTM to the fast one, one speed trick at a time, each measured.

No document formula here: the lesson starts from minseq.nn.LSTM, the layer a student reads
beside its formulas, and adds the tricks that minseq.fast.LSTM carries, one at a time. Each
stage is written out below as a whole forward and backward, checked equal to the reference in
float64, and timed in float32 against the others, interleaved in one run:

    0. reference     one cell step per time step, as the formulas read
    1. + one input projection for every step at once: A = X Wx + b, one (T B, D) x (D, 4H) product
    2. + dWh as one product after the loop: dWh = sum_t h_{t-1}^T da_t = H_prev^T dA
    3. + in-place work in reused time-major buffers: minseq.fast.LSTM itself

A trick stays in minseq.fast only when it measures clearly faster: one tanh for all four gates,
act(a) = scale tanh(scale a) + shift, measured 1.00x and was removed.
"""

from unittest import mock

import matplotlib.pyplot as plt
import numpy as np

import minseq
import minseq.fast.lstm as fast_lstm
import minseq.fast.recurrent as fast_recurrent
from minseq import backend, fast, nn
from minseq.bench import compare
from minseq.bench.kernel import blas_pool, timing_setup
from minseq.lesson import Exercise, Lesson
from minseq.lessons_support.notebook import conclude
from minseq.nn.functional import sigmoid
from minseq.nn.recurrent import split_gates
from minseq.threads import one_blas_thread

TRICKS = ("one input projection", "dWh after the loop")


def lstm_with_tricks(p, x, dhs, n_tricks):
    """Forward and backward of one LSTM layer (no mask, zero initial state) with the first
    ``n_tricks`` of TRICKS switched on. Returns hs (B, T, H), dx (B, T, D) and the gradients
    {"Wx", "Wh", "b"}, as nn.LSTM's forward and backward compute them."""
    xp = backend.xp
    one_projection, dWh_once = (n_tricks > k for k in range(2))
    B, T, D = x.shape
    H = p["Wh"].shape[0]
    dtype = x.dtype
    xs = x.transpose(1, 0, 2)                                       # (T, B, D) time-major
    if one_projection:
        A = (xs.reshape(T * B, D) @ p["Wx"] + p["b"]).reshape(T, B, 4 * H)
    h, c = xp.zeros((B, H), dtype=dtype), xp.zeros((B, H), dtype=dtype)
    hs, cache = [], []
    for t in range(T):
        ax = A[t] if one_projection else xs[t] @ p["Wx"] + p["b"]
        a = ax + h @ p["Wh"]                                        # (B, 4H)
        a_i, a_f, a_g, a_o = xp.split(a, 4, axis=1)
        gates = xp.concatenate([sigmoid(a_i), sigmoid(a_f), xp.tanh(a_g), sigmoid(a_o)], axis=1)
        i, f, g, o = xp.split(gates, 4, axis=1)
        c_new = f * c + i * g
        tanh_c = xp.tanh(c_new)
        cache.append((h, c, gates, tanh_c))
        h, c = o * tanh_c, c_new
        hs.append(h)

    grads = {k: xp.zeros_like(v) for k, v in p.items()}
    dA = xp.empty((T, B, 4 * H), dtype=dtype)
    dxs = xp.empty((T, B, D), dtype=dtype)
    dh_next, dc_next = xp.zeros((B, H), dtype=dtype), xp.zeros((B, H), dtype=dtype)
    for t in reversed(range(T)):
        h_prev, c_prev, gates, tanh_c = cache[t]
        i, f, g, o = xp.split(gates, 4, axis=1)
        dh = dhs[:, t] + dh_next
        dc = dc_next + dh * o * (1 - tanh_c ** 2)
        dgates = xp.concatenate([dc * g, dc * c_prev, dc * i, dh * tanh_c], axis=1)
        da = dgates * xp.concatenate([i * (1 - i), f * (1 - f), 1 - g ** 2, o * (1 - o)], axis=1)
        dA[t] = da
        if not dWh_once:
            grads["Wh"] += h_prev.T @ da
        if not one_projection:
            grads["Wx"] += xs[t].T @ da
            grads["b"] += da.sum(axis=0)
            dxs[t] = da @ p["Wx"].T
        dh_next, dc_next = da @ p["Wh"].T, dc * f
    dA2 = dA.reshape(T * B, 4 * H)
    if dWh_once:
        h_prevs = xp.stack([entry[0] for entry in cache])           # (T, B, H)
        grads["Wh"] = h_prevs.reshape(T * B, H).T @ dA2
    if one_projection:
        grads["Wx"] = xs.reshape(T * B, D).T @ dA2
        grads["b"] = dA2.sum(axis=0)
        dxs = (dA2 @ p["Wx"].T).reshape(T, B, D)
    return xp.stack(hs, axis=1), dxs.transpose(1, 0, 2), grads


def layer_pass(layer, x, dhs):
    """hs, dx and the parameter gradients of a minseq LSTM layer (either tier)."""
    hs, _ = layer(x)
    dx = layer.backward(dhs)[0]
    return hs, dx, {k: g.copy() for k, g in layer.grads.items()}


def stages(layer, x, dhs):
    """Stage name -> a function running that stage's forward and backward once."""
    fns = {"0 reference": lambda: layer_pass(layer, x, dhs)}
    for k, trick in enumerate(TRICKS, 1):
        fns[f"{k} + {trick}"] = lambda k=k: lstm_with_tricks(layer.params, x, dhs, k)
    fast_layer = fast.twin_of(layer)
    fns["3 + in-place, reused buffers (fast)"] = lambda: layer_pass(fast_layer, x, dhs)
    return fns


def inputs(B, T, D, H, dtype, seed=0):
    minseq.manual_seed(seed)
    rng = backend.host_rng(seed)
    layer = nn.LSTM(D, H).astype(dtype)
    x = backend.asarray(rng.standard_normal((B, T, D)), dtype=dtype)
    dhs = backend.asarray(rng.standard_normal((B, T, H)), dtype=dtype)
    return layer, x, dhs


def exercise_layers():
    """The graders' set-up: nn.LSTM(4, 3) in float64 and its fast twin (the same parameter
    arrays), a batch x (3, 5, 4) and upstream gradients dhs (3, 5, 3), the same on every run."""
    layer, x, dhs = inputs(3, 5, 4, 3, backend.xp.float64, seed=1)
    return layer, fast.twin_of(layer), x, dhs


def check_fast_equals_reference(L, layer, fast_layer, x, dhs, forward=True):
    """dx and the parameter gradients of the fast twin against the reference layer's, and
    with ``forward`` its outputs hs too."""
    hs, dx, grads = layer_pass(fast_layer, x, dhs)
    hs_ref, dx_ref, grads_ref = layer_pass(layer, x, dhs)
    rows = ([("hs", hs, hs_ref)] if forward else []) + [("dx", dx, dx_ref)] + [
        (f"d{k}", grads[k], grads_ref[k]) for k in grads_ref]
    for name, ours, ref in rows:
        L.check_close(f"fast {type(layer).__name__}: {name} equals the reference's", ours, ref,
                      rtol=1e-12, atol=1e-14)


def by_hand_gates(a):
    """[sigma(a_i), sigma(a_f), tanh(a_g), sigma(a_o)]: one function per gate block."""
    a_i, a_f, a_g, a_o = split_gates(a, 4)
    return backend.xp.concatenate([sigmoid(a_i), sigmoid(a_f), backend.xp.tanh(a_g),
                                   sigmoid(a_o)], axis=-1)


def grade_gates(L, lstm_gates):
    """Exercise 1: the four activations in place, on a spread of pre-activations (up to
    +-1000, where e^-a overflows) against the gate-by-gate functions, in place; then inside
    minseq.fast.LSTM, against the reference layer and central differences."""
    xp, H = backend.xp, 3
    a = backend.asarray(np.concatenate([np.linspace(-12, 12, 4 * H)[None],
                                        np.tile([-1000.0, 1000.0], (1, 2 * H))]))   # (2, 4H)
    expected = by_hand_gates(a)
    gates = lstm_gates(a)
    L.check_close("gates equal [sigma, sigma, tanh, sigma] of the four blocks", gates, expected,
                  rtol=1e-12, atol=1e-15)
    L.check_close("a holds the gates afterwards (written in place)", a, expected,
                  rtol=1e-12, atol=1e-15)
    layer, fast_layer, x, dhs = exercise_layers()
    with mock.patch.object(fast_lstm, "lstm_gates", lstm_gates):
        check_fast_equals_reference(L, layer, fast_layer, x, dhs)
        L.check_gradients(fast_layer, x, label="fast LSTM")


def grade_state_backward(L, lstm_state_backward):
    """Exercise 2: one step's backward with each act' read from act, on one step against the
    lesson's by-hand formulas; then inside minseq.fast.LSTM, against the reference layer and
    central differences."""
    xp, B, H = backend.xp, 2, 3
    rng = backend.host_rng(2)
    a, c_prev, dh, dc = (backend.asarray(rng.standard_normal(shape))
                         for shape in ((B, 4 * H), (B, H), (B, H), (B, H)))
    gates = by_hand_gates(a)
    i, f, g, o = split_gates(gates, 4)
    tanh_c = xp.tanh(f * c_prev + i * g)
    dc_t = dc + dh * o * (1 - tanh_c ** 2)
    expected_da = xp.concatenate([dc_t * g * i * (1 - i), dc_t * c_prev * f * (1 - f),
                                  dc_t * i * (1 - g ** 2), dh * tanh_c * o * (1 - o)], axis=1)
    dc_prev = xp.zeros_like(c_prev)
    overwritten = gates.copy()
    da = lstm_state_backward(overwritten, c_prev, tanh_c, dh, dc.copy(), dc_prev,
                             xp.empty_like(gates))
    L.check_close("dL/da equals [di s(1-s), df s(1-s), dg (1-g^2), do s(1-s)]", da, expected_da,
                  rtol=1e-12, atol=1e-15)
    L.check_close("dL/da is written over the gates (in place)", overwritten, expected_da,
                  rtol=1e-12, atol=1e-15)
    L.check_close("dc_prev = dc_t (.) f, written into dc_prev", dc_prev, dc_t * f,
                  rtol=1e-12, atol=1e-15)
    layer, fast_layer, x, dhs = exercise_layers()
    with mock.patch.object(fast_lstm, "lstm_state_backward", lstm_state_backward):
        check_fast_equals_reference(L, layer, fast_layer, x, dhs, forward=False)
        L.check_gradients(fast_layer, x, label="fast LSTM")


def grade_weight_grads(L, weight_grads):
    """Exercise 3: the weight gradients as one product over all steps, against the sum over
    steps of one product each (trick 2's identity); then inside the fast LSTM and GRU, against
    the reference layers and central differences."""
    layer, fast_layer, x, dhs = exercise_layers()
    xp, (B, T, D), H = backend.xp, x.shape, layer.hidden_size
    rng = backend.host_rng(3)
    xs, h_prevs, dA = (backend.asarray(rng.standard_normal((T, B, n))) for n in (D, H, 4 * H))
    dx = weight_grads(fast_layer, xs.reshape(T * B, D), h_prevs.reshape(T * B, H),
                      dA.reshape(T * B, 4 * H), dA.reshape(T * B, 4 * H), "b")
    L.check_close("dWx = sum_t x_t^T dA_t", fast_layer.grads["Wx"],
                  sum(xs[t].T @ dA[t] for t in range(T)), rtol=1e-12, atol=1e-14)
    L.check_close("dWh = sum_t h_{t-1}^T dA_t", fast_layer.grads["Wh"],
                  sum(h_prevs[t].T @ dA[t] for t in range(T)), rtol=1e-12, atol=1e-14)
    L.check_close("db = sum over steps and rows of dA", fast_layer.grads["b"],
                  dA.sum(axis=(0, 1)), rtol=1e-12, atol=1e-14)
    L.check_close("dx = dA Wx^T", dx, dA.reshape(T * B, 4 * H) @ layer.params["Wx"].T,
                  rtol=1e-12, atol=1e-14)
    minseq.manual_seed(2)
    gru = nn.GRU(D, H).astype(xp.float64)
    # the loop the fast LSTM and GRU share calls weight_grads once, after the last step
    with mock.patch.object(fast_recurrent, "weight_grads", weight_grads):
        check_fast_equals_reference(L, layer, fast_layer, x, dhs, forward=False)
        L.check_gradients(fast_layer, x, label="fast LSTM")
        check_fast_equals_reference(L, gru, fast.twin_of(gru), x, dhs, forward=False)


def pool_against_one_thread(L, size, dtype):
    """Times T recurrent-step products h Wh on one BLAS thread and on the pool's own thread
    count, interleaved (an idle gap after each sample lets the pool's threads fall asleep), and
    prints both; returns the summary sentence, from the measurement."""
    B, T, _, H = size
    threads = (blas_pool() or {}).get("num_threads") or 1
    if threads == 1:
        print("  NumPy's BLAS pool has one thread here: nothing to compare")
        return "NumPy's BLAS had one thread here, so every timing ran on one thread."
    rng = backend.host_rng(0)
    h, Wh = (backend.asarray(rng.standard_normal(s), dtype=dtype) for s in ((B, H), (H, 4 * H)))

    def steps():
        for _ in range(T):
            h @ Wh

    def pinned():
        with one_blas_thread():
            steps()
    t = compare({"pool": steps, "one": pinned}, repeats=5, warmup=1, gap=0.1,
                sync=backend.synchronize)
    ratio = t["pool"].median / t["one"].median
    print(f"  {T} products ({B}, {H}) x ({H}, {4 * H}): {t['one'].median * 1e3:.3f} ms on one "
          f"BLAS thread, {t['pool'].median * 1e3:.3f} ms on the pool's {threads}: "
          f"{ratio:.2f}x")
    L.say("Each product on n threads is cut into n pieces, one per thread, and the product ends "
          "when the slowest piece does. For a product this small the pieces are microseconds "
          "of work, so waking the threads and waiting for them costs more than it saves; and a "
          "thread whose core another program holds waits for the operating system to give it "
          "one, and every product waits with it. That is how a small product can cost many "
          "times more on a busy pool. Every timing below therefore runs on one BLAS thread "
          "(threadpoolctl, minseq.threads.one_blas_thread).")
    verdict = ("cost more on the pool" if ratio > 1.1 else
               "cost about the same" if ratio >= 0.9 else "ran faster on the pool")
    return (f"Here the {T} small products {verdict}: {ratio:.2f}x the one-thread time on "
            f"{threads} threads (machine load decides: measured, not assumed).")


def say_gains(L, gains):
    """What the timings show, each sentence from this run's numbers: the largest step, and
    any stage that measured slower than the one before."""
    best = max(gains, key=gains.get)
    L.say(f"Here the largest step was stage {best}: {gains[best]:.2f}x the stage before. "
          "Tricks 1 and 2 replace T small products (each a library call with a fixed cost) by "
          "one large one; the fast layer's in-place work saves a fresh array at every step.")
    slower = [f"{name} ({g:.2f}x)" for name, g in gains.items() if g < 1]
    if slower:
        L.say("Measured slower than the stage before in this run: " + ", ".join(slower) + ". "
              "Timings are observations, not checks: on a shared machine stages a few percent "
              "apart may swap places from run to run.")


def products_share(timings):
    """The summary's sentence on the products taken out of the loop, from this run."""
    names = list(timings)
    t0, t2, fast_t = (timings[names[k]].median for k in (0, 2, -1))
    return (f"In this run the two tricks that take products out of the loop (the input "
            f"projection and dWh) gave {t0 / t2:.2f}x, of the whole {t0 / fast_t:.2f}x from "
            f"the reference to the fast layer.")


EXERCISES = [
    Exercise("lstm_gates", "Write the fast layer's gates: the four activations of a (B, 4H) "
             "block, sigma on i, f, o and tanh on g, written in place.",
             grade_gates,
             reference=["minseq.fast.lstm.lstm_gates"]),
    Exercise("lstm_state_backward", "Write one step's backward of the fast LSTM: dc_t, dc_prev "
             "and dL/da, reading each activation's derivative from the activation itself: "
             "s (1 - s) for a sigmoid s, 1 - g^2 for g = tanh.", grade_state_backward,
             reference=["minseq.fast.lstm.lstm_state_backward"]),
    Exercise("weight_grads", "Write tricks 1 and 2 backward: dWx, dWh and the biases as one "
             "product over every step's rows, and dx = dA Wx^T.", grade_weight_grads,
             reference=["minseq.fast.recurrent.weight_grads"])]


# %%
L = Lesson(__file__, "Lesson 15 - From the reference LSTM to the fast one", ids=[],
           goals=["see which lines of a plain LSTM cost time, and why",
                  "apply one speed trick at a time and check that the numbers stay equal",
                  "measure each trick's effect honestly: interleaved, median of samples"])
if L.args.exercise:
    conclude(L.grade(EXERCISES))
xp = backend.xp


# %% [markdown]
# ### Every stage computes the same numbers (float64, B=3, T=5, D=4, H=3)
#
# $$ hs, dx, dWx, dWh, db of each stage == those of minseq.nn.LSTM $$

# %%
with L.step("Every stage computes the same numbers (float64, B=3, T=5, D=4, H=3)",
            formula="hs, dx, dWx, dWh, db of each stage == those of minseq.nn.LSTM"):
    layer, x, dhs = inputs(3, 5, 4, 3, xp.float64, seed=1)
    results = {name: run() for name, run in stages(layer, x, dhs).items()}
    ref_hs, ref_dx, ref_grads = results.pop("0 reference")
    L.show("reference hs[0, -1]", ref_hs[0, -1])
    for name, (hs, dx, grads) in results.items():
        L.check_close(f"stage {name}: hs", hs, ref_hs, rtol=1e-12, atol=1e-14)
        L.check_close(f"stage {name}: dx", dx, ref_dx, rtol=1e-12, atol=1e-14)
        for k in ("Wx", "Wh", "b"):
            L.check_close(f"stage {name}: d{k}", grads[k], ref_grads[k], rtol=1e-12,
                          atol=1e-14)

# --full: the benchmark's size (about a minute); the default runs in seconds
size = (16, 30, 32, 64) if L.fast else (64, 100, 128, 256) if L.full else (32, 50, 64, 128)


# %% [markdown]
# ### One BLAS thread for timing: a small product on a busy pool
#
# $$ h_{t-1} W_h:\ (B, H) \times (H, 4H),\ T \text{ times per forward} $$
#
# On n BLAS threads each product is split n ways, and waits for the slowest.

# %%
with L.step("One BLAS thread for timing: a small product on a busy pool",
            formula=("h_{t-1} Wh: (B, H) x (H, 4H), T times per forward\n"
                     "on n BLAS threads each product is split n ways, and waits for the "
                     "slowest")):
    pool = pool_against_one_thread(L, size, xp.float32)


# %% [markdown]
# ### (step)
#
# $$ median of interleaved samples: stage A, B, C, ... A, B, C, ... $$
# $$ so a machine that slows down for a while slows every stage alike $$

# %%
with L.step(f"Time each stage, float32, (B, T, D, H) = {size}",
            formula=("median of interleaved samples: stage A, B, C, ... A, B, C, ...\n"
                     "so a machine that slows down for a while slows every stage alike")):
    layer, x, dhs = inputs(*size, xp.float32)
    with one_blas_thread():
        for line in timing_setup():
            print("  " + line)
        # no idle gap: one library (NumPy) on one thread, so no thread pool to wait out
        timings = compare(stages(layer, x, dhs), repeats=3, warmup=1, gap=0,
                          sync=backend.synchronize)
    base = timings["0 reference"].median
    previous = base
    gains = {}
    for name, t in timings.items():
        gains[name] = previous / t.median
        print(f"  {name:<38} {t.median * 1e3:8.2f} ms   {base / t.median:4.2f}x the "
              f"reference, {gains[name]:4.2f}x the stage before")
        previous = t.median
    gains.pop("0 reference")
    say_gains(L, gains)

fig, ax = plt.subplots(figsize=(8, 3.6))
names = list(timings)
ax.barh(range(len(names)), [timings[n].median * 1e3 for n in names], color="tab:blue")
ax.set_yticks(range(len(names)))
ax.set_yticklabels(names)
ax.invert_yaxis()
ax.set_xlabel("ms per forward + backward (median)")
ax.set_title(f"LSTM {size}: reference to fast, one trick at a time ({backend.get_backend()})")
fig.tight_layout()
L.savefig(fig, "tricks")

# %%
conclude(L.finish(
    summary=["minseq.nn.LSTM is the formula, line by line; minseq.fast.LSTM is the same "
             "function with the tricks above, and the test suite holds the two equal.",
             products_share(timings),
             pool,
             "Each trick is checked for equality before it is timed: a fast layer that "
             "computes another function is not faster, it is wrong."],
    exercises=EXERCISES + [
        "In lstm_with_tricks with no trick on, db is summed inside the loop: move that sum "
        "alone after the loop (db = dA summed over steps and rows) and time it. How much "
        "does it save on its own, and why so little next to dWh?",
        "Run the lesson with --backend strict: which stages does the strict backend slow "
        "down, and why do their results still agree?"]))
