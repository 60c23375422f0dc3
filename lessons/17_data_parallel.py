# %%
"""Data parallelism by hand: shard gradients, a ring all-reduce, its cost, and ZeRO-1.

No catalogue formula here (ids=[]): the lesson takes one training step apart the way N
processes share it. Each worker takes its shard of the batch; the batch-mean gradient is the
shards' gradients weighted by their sizes; a ring all-reduce, written below in plain array code
over N simulated workers, gives every worker that sum while each sends 2(N-1)/N of the
gradient's bytes; the parameters never travel, because every worker applies the same update;
and ZeRO-1 (llm.c's zero_stage 1) shards Adam's state so that each worker keeps 1/N of it.

Run as it is, every worker is simulated in one process and the lesson says so. Under
``mpiexec -n N python lessons/17_data_parallel.py`` (N <= 5, mpi4py installed) each process is
one worker: the lesson also runs the ring over MPI and checks both against MPI's Allreduce, and
times them; only rank 0 prints. mpi4py is imported only when more than one process runs.
"""

import os
import sys

import matplotlib.pyplot as plt
import numpy as np

import minseq
from minseq import backend, nn, optim
from minseq.bench import time_call
from minseq.gradcheck import numerical_gradient
from minseq.lesson import Exercise, Lesson
from minseq.lessons_support.notebook import conclude
from minseq.models import LSTMClassifier
from minseq.parallel.shards import row_bounds

from helpers import EVENTS

#: the batch of step 1 and the sizes of its two shards (unequal on purpose)
B = 5
REDUCE, GATHER = "reduce-scatter", "all-gather"
#: llm.c's GPT-2 (124M): vocabulary padded to 50,304, context 1024, 12 layers of width 768
GPT2 = dict(V=50304, T=1024, L=12, C=768)


def mpi_world():
    """MPI's world communicator when this script runs under mpiexec with more than one process
    (MPICH sets PMI_SIZE, Open MPI OMPI_COMM_WORLD_SIZE), else None. mpi4py is imported only
    then, so the lesson runs where it is not installed."""
    if max(int(os.environ.get(v, "1")) for v in ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE")) <= 1:
        return None
    try:
        from mpi4py import MPI
    except ImportError:
        raise SystemExit("17_data_parallel: mpiexec started several processes but mpi4py is "
                         "not installed: pip install mpi4py (or minseq's mpi extra)") from None
    if MPI.COMM_WORLD.size > B:
        raise SystemExit(f"17_data_parallel: the batch has {B} rows, so at most {B} "
                         f"processes, got {MPI.COMM_WORLD.size}")
    return MPI.COMM_WORLD


def tiny_problem():
    """Step 1's model and batch, the same on every run and every process: a Linear(3, 2)
    classifier in float64 and B = 5 rows x (5, 3) with their classes t (5,)."""
    minseq.manual_seed(0)
    layer = nn.Linear(3, 2).astype(backend.xp.float64)
    rng = backend.host_rng(0)
    x = backend.asarray(np.round(rng.normal(size=(B, 3)), 1))
    t = backend.asarray(np.array([1, 0, 0, 1, 1]))
    return layer, x, t


def mean_loss_gradients(layer, x, t):
    """(mean cross-entropy of layer(x) against t, {name: its gradient}, copies)."""
    ce = nn.CrossEntropyLoss()
    loss = ce(layer(x), t)
    layer.backward(ce.backward())
    return loss, {name: g.copy() for name, g in layer.grads.items()}


def shard_gradients(layer, x, t, bounds):
    """Each shard's gradient of its own mean loss, one dict per (lo, hi) rows of the batch."""
    return [mean_loss_gradients(layer, x[lo:hi], t[lo:hi])[1] for lo, hi in bounds]


def flat(grads):
    """The gradients of a dict as one flat vector, in the dict's order (what travels)."""
    return backend.xp.concatenate([g.reshape(-1) for g in grads.values()])


def unflat(vector, like):
    """A flat vector cut back into arrays shaped as the dict ``like``'s."""
    out, lo = {}, 0
    for name, g in like.items():
        out[name] = vector[lo:lo + g.size].reshape(g.shape)
        lo += g.size
    return out


# -- the ring --------------------------------------------------------------------------------
def ring_chunk(k, s, N, phase):
    """The chunk worker k sends at step s. Reduce-scatter: chunk (k - s) mod N, so the copy
    that reaches worker k+1 holds s + 2 workers' parts. All-gather: chunk (k + 1 - s) mod N,
    starting from the chunk worker k completed."""
    return (k - s) % N if phase == REDUCE else (k + 1 - s) % N


def ring_step(held, s, phase):
    """Step s of a phase: every worker k sends one chunk to worker k+1, all at once (each
    message is read before anyone changes a copy); the receiver adds it to its copy
    (reduce-scatter) or takes it in place of its copy (all-gather). held[k][c] is worker k's
    copy of chunk c. Returns the messages [(from, to, chunk, values)]."""
    N = len(held)
    messages = [(k, (k + 1) % N, c, held[k][c].copy())
                for k in range(N) for c in [ring_chunk(k, s, N, phase)]]
    for _, dst, c, values in messages:
        held[dst][c] = held[dst][c] + values if phase == REDUCE else values
    return messages


def ring_phase(held, phase, on_step=None):
    """The N - 1 steps of one phase; returns the elements each worker sent."""
    sent = [0] * len(held)
    for s in range(len(held) - 1):
        messages = ring_step(held, s, phase)
        for src, _, _, values in messages:
            sent[src] += values.size
        if on_step:
            on_step(phase, s, held, messages)
    return sent


def split_chunks(buffers):
    """Every worker's buffer cut into N chunks as even as can be: held[k][c]."""
    bounds = row_bounds(buffers[0].shape[0], len(buffers))
    return [[b[lo:hi].copy() for lo, hi in bounds] for b in buffers]


def ring_allreduce(buffers, on_step=None):
    """The sum of N workers' 1-D buffers on every worker, by the ring: reduce-scatter, then
    all-gather, N - 1 steps each. Returns (the N results, elements each worker sent)."""
    held = split_chunks(buffers)
    sent = [a + b for a, b in zip(ring_phase(held, REDUCE, on_step),
                                  ring_phase(held, GATHER, on_step))]
    return [backend.xp.concatenate(h) for h in held], sent


def mpi_ring_allreduce(comm, buffer):
    """The same ring on real processes: this rank is worker k, and each step is one Sendrecv,
    one chunk to rank k+1 and one from rank k-1 (host NumPy buffers, as mpi4py takes them)."""
    N, k = comm.size, comm.rank
    held = [buffer[lo:hi].copy() for lo, hi in row_bounds(buffer.size, N)]
    for phase in (REDUCE, GATHER):
        for s in range(N - 1):
            out, into = ring_chunk(k, s, N, phase), ring_chunk((k - 1) % N, s, N, phase)
            got = np.empty_like(held[into])
            comm.Sendrecv(held[out], dest=(k + 1) % N, recvbuf=got, source=(k - 1) % N)
            held[into] = held[into] + got if phase == REDUCE else got
    return np.concatenate(held)


# -- cost and memory -------------------------------------------------------------------------
def ring_seconds(nbytes, N, bandwidth):
    """The cost model: each worker sends 2(N-1)/N of the bytes, all workers at once."""
    return 2 * (N - 1) / N * nbytes / bandwidth


def gpt2_parameters(V, T, L, C):
    """GPT-2's parameter count: token and position embeddings, L blocks of 12 C^2 + 13 C
    (two LayerNorms, the qkv and output projections, the 4C MLP, with biases), a final
    LayerNorm; the output layer shares the token embedding."""
    return V * C + T * C + L * (12 * C * C + 13 * C) + 2 * C


def bytes_per_worker(P, N, zero):
    """Float32 bytes a worker keeps for training with Adam: parameters and gradients (4P
    each) and m and v (8P); ZeRO-1 keeps 1/N of m and v."""
    return 4 * P + 4 * P + 8 * P / (N if zero else 1)


def by_hand_adam(theta, g, m, v, step, lr, b1=0.9, b2=0.999, eps=1e-8):
    """One Adam update of a slice, in place: m, v, then theta (torch.optim.Adam's formula)."""
    m[...] = b1 * m + (1 - b1) * g
    v[...] = b2 * v + (1 - b2) * g * g
    theta -= lr / (1 - b1 ** step) * m / (backend.xp.sqrt(v / (1 - b2 ** step)) + eps)


# -- exercises -------------------------------------------------------------------------------
def grade_combine(L, combine_shard_gradients):
    """Exercise 1: the student's combination of shard gradients against the full-batch
    gradient, on step 1's shards (3 + 2), on 12 rows in shards 1 + 6 + 5, and on equal shards;
    the shards' gradients must come back unchanged."""
    layer, x, t = tiny_problem()
    _, full = mean_loss_gradients(layer, x, t)
    grads = shard_gradients(layer, x, t, row_bounds(B, 2))
    kept = [{k: g.copy() for k, g in d.items()} for d in grads]
    mine = combine_shard_gradients(grads, [3, 2])
    for name in full:
        L.check_close(f"shards 3 + 2: d{name} equals the full batch's", mine[name], full[name],
                      rtol=1e-12, atol=1e-14)
    L.check("the shards' gradients are left as they were",
            all(bool((a[k] == b[k]).all()) for a, b in zip(grads, kept) for k in a))
    rng = backend.host_rng(7)
    x12 = backend.asarray(rng.normal(size=(12, 3)))
    t12 = backend.asarray(rng.integers(0, 2, 12))
    _, full12 = mean_loss_gradients(layer, x12, t12)
    for sizes in ((1, 6, 5), (4, 4, 4)):
        bounds = np.cumsum((0,) + sizes)
        parts = shard_gradients(layer, x12, t12, list(zip(bounds[:-1], bounds[1:])))
        mine = combine_shard_gradients(parts, list(sizes))
        L.check_close(f"12 rows in shards {' + '.join(map(str, sizes))}: dW equals the full "
                      "batch's", mine["W"], full12["W"], rtol=1e-12, atol=1e-14)


def grade_ring(L, ring_allreduce_student):
    """Exercise 2: the student's ring at N = 2 .. 5 on buffers of lengths that N does and
    does not divide: every worker ends with the sum, every message goes to the next worker
    and carries one chunk, 2(N - 1) of them per worker, the first one the sender's own chunk
    unchanged, and the last N - 1 (the all-gather) complete sums."""
    rng = backend.host_rng(8)
    for N, length in ((3, 6), (2, 5), (4, 8), (5, 13)):
        buffers = [backend.asarray(rng.integers(-9, 10, length).astype(float))
                   for _ in range(N)]
        chunks = split_chunks(buffers)
        total = buffers[0].copy()
        for b in buffers[1:]:
            total += b
        sums = [total[lo:hi] for lo, hi in row_bounds(length, N)]
        log = []

        def send(src, dst, c, values):
            log.append((src, dst, c, values.copy()))
            return values.copy()
        result = ring_allreduce_student([[c.copy() for c in w] for w in chunks], send)
        got = backend.xp.stack([backend.xp.concatenate(w) for w in result])
        L.check_close(f"N = {N}, length {length}: every worker holds the sum", got,
                      backend.xp.stack([total] * N))
        per = [[m for m in log if m[0] == k] for k in range(N)]
        L.check(f"N = {N}: every message goes from worker k to worker k + 1",
                bool(log) and all(dst == (src + 1) % N for src, dst, _, _ in log))
        L.check(f"N = {N}: each worker sends 2(N-1) = {2 * (N - 1)} messages of one chunk "
                f"each ({sum(m[3].size for m in per[0])} of {length} elements)",
                all(len(p) == 2 * (N - 1) and all(m[3].size == sums[m[2]].size for m in p)
                    for p in per))
        L.check(f"N = {N}: each worker's first message is its own chunk, unchanged",
                all(p and bool((p[0][3] == chunks[k][p[0][2]]).all())
                    for k, p in enumerate(per)))
        L.check(f"N = {N}: the all-gather's messages (each worker's last N-1) are complete "
                "sums", all(len(p) == 2 * (N - 1) and all(
                    bool(np.allclose(backend.to_numpy(m[3]), backend.to_numpy(sums[m[2]])))
                    for m in p[N - 1:]) for p in per))


EXERCISES = [
    Exercise("combine_shard_gradients", "Combine the shards' gradients, each the gradient of "
             "its own shard's mean loss, into the gradient of the whole batch's mean loss: "
             "weight each by its share of the rows, n_k / B.", grade_combine,
             reference=["numpy.average"]),
    Exercise("ring_allreduce", "Write the ring all-reduce over N simulated workers: N - 1 "
             "reduce-scatter steps, then N - 1 all-gather steps, each worker sending one chunk "
             "to the next worker per step through send(...).", grade_ring,
             reference=["numpy.sum"])]


# %%
comm = mpi_world()
rank = comm.rank if comm else 0
if rank:
    sys.stdout = open(os.devnull, "w")          # only rank 0 prints: the others run quietly
L = Lesson(__file__, "Lesson 17 - Data parallelism by hand", ids=[],
           goals=["combine the gradients of unequal shards into the batch's gradient",
                  "all-reduce N workers' gradients with a ring, step by step",
                  "predict the ring's time from its bytes, and measure it",
                  "see why only gradients travel, and what ZeRO-1 saves"])
if L.args.exercise:
    conclude(L.grade(EXERCISES))
if rank:
    L.args.step = False
xp = backend.xp


def savefig(fig, name):
    """Rank 0 saves the lesson's figures; another rank closes its copy."""
    if rank:
        plt.close(fig)
    else:
        L.savefig(fig, name)


# %% [markdown]
# ### The batch's gradient from its shards (B = 5 = 3 + 2)
#
# $$ L = \frac{1}{B}\sum_{b=1}^{B} \ell_b = \sum_k \frac{n_k}{B} L_k,\qquad
#    L_k = \frac{1}{n_k}\sum_{b \in k} \ell_b
#    \quad\Rightarrow\quad \nabla L = \sum_k \frac{n_k}{B} \nabla L_k $$

# %%
with L.step("The batch's gradient from its shards (B = 5 = 3 + 2)",
            formula=("L = (1/B) sum_b l_b = sum_k (n_k/B) L_k,   L_k = (1/n_k) sum_{b in k} l_b\n"
                     "=> grad L = sum_k (n_k/B) grad L_k")):
    layer, x, t = tiny_problem()
    L.say("A Linear(3, 2) classifier with a cross-entropy loss, float64, on 5 rows; worker 0 "
          "takes rows 0-2, worker 1 rows 3-4.")
    L.show("x", x)
    L.show("t", t)
    _, full = mean_loss_gradients(layer, x, t)
    L.check_close("full batch dW equals central differences of the batch-mean loss",
                  numerical_gradient(lambda: nn.CrossEntropyLoss()(layer(x), t),
                                     layer.params["W"]), full["W"], rtol=1e-6, atol=1e-9)
    shards = row_bounds(B, 2)
    grads = shard_gradients(layer, x, t, shards)
    sizes = [hi - lo for lo, hi in shards]
    for k, (g, n) in enumerate(zip(grads, sizes)):
        L.show(f"worker {k} (n = {n}): dW_{k}", g["W"])
    weighted = {name: sum(n / B * g[name] for g, n in zip(grads, sizes)) for name in full}
    plain = {name: sum(g[name] for g in grads) / len(grads) for name in full}
    L.show("3/5 dW_0 + 2/5 dW_1", weighted["W"])
    L.show("full batch dW      ", full["W"])
    L.show("(dW_0 + dW_1) / 2  ", plain["W"])
    for name in full:
        L.check_close(f"sum_k (n_k/B) d{name}_k equals the full batch's d{name}",
                      weighted[name], full[name], rtol=1e-12, atol=1e-14)
    gap = float(backend.to_numpy(xp.abs(plain["W"] - full["W"]).max()))
    L.check("the plain mean of the shards' dW is not the batch's", gap > 1e-3,
            f"max abs difference {gap:.4f}")
    L.say("The plain mean weighs each row of worker 1's shard 1/2 x 1/2 = 1/4 and each row of "
          "worker 0's 1/2 x 1/3 = 1/6, where the batch mean gives every row 1/5. With equal "
          "shards the two agree; a batch that does not divide evenly needs the weights n_k/B.")


# %% [markdown]
# ### A ring all-reduce over N = 3 simulated workers
#
# $$ \text{buffer} = [c_0 | c_1 | c_2];\ \text{reduce-scatter step } s:\ k \to k{+}1
#    \text{ sends } c_{(k-s) \bmod N},\ \text{the receiver adds};\quad
#    \text{all-gather step } s:\ \text{sends } c_{(k+1-s) \bmod N},\ \text{the receiver keeps it} $$

# %%
def print_step(phase, s, held, messages):
    print(f"  {phase} step {s + 1}: " + ", ".join(
        f"w{src}->w{dst} c{c} {backend.to_numpy(v)}" for src, dst, c, v in messages))
    for k, chunks in enumerate(held):
        print(f"    worker {k}: " + " | ".join(
            " ".join(f"{v:3.0f}" for v in backend.to_numpy(c)) for c in chunks))


def contributions(N, length):
    """How many workers' parts each copy holds, after every step: (2N-1, N, N) counts."""
    counts = [[np.full(hi - lo, 1.0) for lo, hi in row_bounds(length, N)] for _ in range(N)]
    frames = [np.array([[c[0] for c in w] for w in counts])]

    def count(phase, s, held, messages):
        frames.append(np.array([[backend.to_numpy(c)[0] for c in w] for w in held]))
    ring_allreduce([backend.asarray(np.ones(length)) for _ in range(N)], count)
    return frames


with L.step("A ring all-reduce over N = 3 simulated workers",
            formula=("buffer = [c0 | c1 | c2]; reduce-scatter step s: worker k sends "
                     "c_{(k-s) mod N} to k+1, which adds it\n"
                     "all-gather step s: worker k sends c_{(k+1-s) mod N} to k+1, which keeps "
                     "it")):
    N = 3
    rng = backend.host_rng(3)
    buffers = [backend.asarray(rng.integers(0, 10, 6).astype(float)) for _ in range(N)]
    for k, b in enumerate(buffers):
        L.show(f"worker {k}'s gradient", b)
    results, sent = ring_allreduce(buffers, print_step)
    total = buffers[0] + buffers[1] + buffers[2]
    L.show("the plain sum", total)
    for k, r in enumerate(results):
        L.check_close(f"worker {k} ends with the plain sum", r, total, rtol=0, atol=0)
    L.check(f"each worker sent 2(N-1)/N x 6 = {2 * (N - 1) * 6 // N} elements",
            sent == [2 * (N - 1) * 6 // N] * N, f"sent {sent}")
    frames = contributions(N, 6)

    if comm is None:
        L.say("No MPI here: the workers were simulated in one process. With mpi4py, run "
              "mpiexec -n 2 python lessons/17_data_parallel.py to check the ring against "
              "MPI's Allreduce on real processes.")
    else:
        n = comm.size
        layer, x, t = tiny_problem()
        bounds = row_bounds(B, n)
        local = [backend.to_numpy(flat(g)) * (hi - lo) / B
                 for g, (lo, hi) in zip(shard_gradients(layer, x, t, bounds), bounds)]
        mine = local[rank]
        reduced = np.empty_like(mine)
        comm.Allreduce(mine, reduced)
        by_ring = mpi_ring_allreduce(comm, mine)
        simulated = backend.to_numpy(ring_allreduce([backend.asarray(v) for v in local])[0][0])
        lo, hi = bounds[rank]
        print(f"  MPI: {n} processes; rank {rank} took rows {lo}-{hi - 1} of step 1's batch")
        L.show(f"rank {rank}'s (n_k/B) gradient", mine)
        L.show("after comm.Allreduce", reduced)
        mpi_agreed = all([
            L.check_close(f"MPI Allreduce over {n} processes equals the full-batch gradient",
                          reduced, backend.to_numpy(flat(mean_loss_gradients(layer, x, t)[1])),
                          rtol=1e-12, atol=1e-14),
            L.check_close("the ring over MPI (one Sendrecv per step) equals Allreduce", by_ring,
                          reduced, rtol=1e-12, atol=1e-14),
            L.check_close("the simulated ring equals Allreduce", simulated, reduced,
                          rtol=1e-12, atol=1e-14)])

fig, axes = plt.subplots(1, len(frames), figsize=(2.1 * len(frames), 2.6))
titles = ["start"] + [f"{p} {s + 1}" for p in (REDUCE, GATHER) for s in range(N - 1)]
for ax, frame, title in zip(axes, frames, titles):
    ax.imshow(frame, cmap="Blues", vmin=0, vmax=N)
    for (k, c), v in np.ndenumerate(frame):
        ax.text(c, k, f"{v:.0f}", ha="center", va="center", color="white" if v == N else "black")
    ax.set_xticks(range(N), [f"c{c}" for c in range(N)])
    ax.set_yticks(range(N), [f"w{k}" for k in range(N)])
    ax.set_title(title, fontsize=9)
fig.suptitle("How many workers' parts each copy of a chunk holds, step by step (N = 3)")
savefig(fig, "ring_steps")


# %% [markdown]
# ### The ring's cost, model against measurement
#
# $$ t_{\text{ring}} = \frac{2(N-1)}{N}\cdot\frac{S}{\text{bandwidth}} $$
#
# Each worker sends $2(N-1)$ chunks of $S/N$ bytes, and all workers send at once.

# %%
with L.step("The ring's cost: model against measurement",
            formula=("t_ring = 2(N-1)/N x S / bandwidth  (each worker sends 2(N-1) chunks of "
                     "S/N bytes, all at once)")):
    model = LSTMClassifier(len(EVENTS), len(EVENTS), d_model=128, embed_dim=16, dropout=0.0)
    P = model.num_parameters()
    S = 4 * P
    print(f"  the next-behaviour LSTM classifier (d_model 128): P = {P:,} parameters, "
          f"S = 4P = {S / 1e6:.2f} MB of float32 gradient")
    repeats = 3 if L.fast else 5
    src, dst = xp.zeros(P, dtype=xp.float32), xp.empty(P, dtype=xp.float32)

    def copy():
        dst[...] = src
    bandwidth = S / time_call(copy, repeats=repeats, sync=backend.synchronize).median
    print(f"  measured: one copy of S bytes in this process, {bandwidth / 1e9:.2f} GB/s (a "
          f"buffer this small may stay in the CPU's caches)")
    L.say("In one process the N workers' sends run one after another, so the simulation "
          "moves N x 2(N-1)/N x S = 2(N-1) S bytes: it measures array copies (and the "
          "reduce-scatter's adds) in this machine's memory, not a network.")
    print(f"  {'N':>2} {'sent by a worker':>17} {'model, one worker':>18} "
          f"{'model, all N here':>18} {'measured here':>14}")
    simulated = {}
    for n in (2, 3, 4):
        held = split_chunks([xp.zeros(P, dtype=xp.float32) for _ in range(n)])

        def both_phases():
            ring_phase(held, REDUCE)
            ring_phase(held, GATHER)
        simulated[n] = time_call(both_phases, repeats=repeats,
                                 sync=backend.synchronize).median
        one = ring_seconds(S, n, bandwidth)
        print(f"  {n:>2} {2 * (n - 1) / n * S / 1e6:>14.2f} MB {one * 1e3:>15.3f} ms "
              f"{n * one * 1e3:>15.3f} ms {simulated[n] * 1e3:>11.3f} ms")
    L.say(f"At N = 2 the simulation took {simulated[2] / (2 * ring_seconds(S, 2, bandwidth)):.1f}"
          "x the copies' model: the model leaves out the reduce-scatter's adds and the Python "
          "cost of each message.")
    mpi_times = None
    if comm is not None:
        n = comm.size
        send, got = np.zeros(P, dtype=np.float32), np.empty(P, dtype=np.float32)
        fixed = dict(repeats=repeats, warmup=2, number=10)   # the same calls on every rank

        def exchange():
            comm.Sendrecv(send, dest=(rank + 1) % n, recvbuf=got, source=(rank - 1) % n)
        comm.Barrier()
        mpi_bandwidth = S / time_call(exchange, **fixed).median
        comm.Barrier()
        allreduce = time_call(lambda: comm.Allreduce(send, got), **fixed).median
        comm.Barrier()
        ring_mpi = time_call(lambda: mpi_ring_allreduce(comm, send), **fixed).median
        model_mpi = ring_seconds(S, n, mpi_bandwidth)
        mpi_times = (n, allreduce, model_mpi, mpi_bandwidth)
        print(f"  MPI, {n} processes: Sendrecv of S bytes {mpi_bandwidth / 1e9:.2f} GB/s; "
              f"model {model_mpi * 1e3:.3f} ms, MPI Allreduce {allreduce * 1e3:.3f} ms, "
              f"the ring above over MPI {ring_mpi * 1e3:.3f} ms (measured, rank 0)")
    n_mpi = f"; over MPI at N = {mpi_times[0]}: model {mpi_times[2] * 1e3:.3f} ms, Allreduce " \
            f"{mpi_times[1] * 1e3:.3f} ms" if mpi_times else ""
    cost = (f"Ring all-reduce of the LSTM classifier's {S / 1e6:.2f} MB gradient at "
            f"{bandwidth / 1e9:.2f} GB/s (a copy in this process): model "
            f"{ring_seconds(S, 2, bandwidth) * 1e3:.3f} ms per worker at N = 2; the in-process "
            f"simulation of 2 workers took {simulated[2] * 1e3:.3f} ms{n_mpi}.")

fig, (ax, ax_mem) = plt.subplots(1, 2, figsize=(10, 3.8))
Ns = np.arange(2, 17)
ax.plot(Ns, [ring_seconds(S, n, bandwidth) * 1e3 for n in Ns], label="model, one worker")
ax.plot(Ns, [n * ring_seconds(S, n, bandwidth) * 1e3 for n in Ns], "--",
        label="model, all N workers in one process")
ax.plot(list(simulated), [v * 1e3 for v in simulated.values()], "o",
        label="measured: simulated ring, one process")
if mpi_times:
    ax.plot([mpi_times[0]], [mpi_times[1] * 1e3], "s", label="measured: MPI Allreduce")
    ax.plot([mpi_times[0]], [mpi_times[2] * 1e3], "x", ms=9,
            label=f"model at MPI's {mpi_times[3] / 1e9:.1f} GB/s Sendrecv")
ax.set_xlabel("workers N")
ax.set_ylabel("ms per all-reduce")
ax.set_yscale("log")
ax.set_title(f"{S / 1e6:.2f} MB of gradient, {bandwidth / 1e9:.1f} GB/s copies")
ax.legend(fontsize=8)


# %% [markdown]
# ### Only the gradients travel: two workers train one model
#
# $$ \theta^{(k)}_0 = \theta_0 \text{ (broadcast once)},\qquad
#    \theta^{(k)}_{s+1} = \theta^{(k)}_s - \eta \sum_j \frac{n_j}{B} \nabla L_j(\theta^{(k)}_s) $$

# %%
with L.step("Only the gradients travel: two workers train one model",
            formula=("theta_0^(k) = theta_0 (broadcast once);  theta_{s+1}^(k) = theta_s^(k) - "
                     "lr sum_j (n_j/B) grad L_j(theta_s^(k))")):
    layer, x, t = tiny_problem()
    single = layer.copy()
    workers = [layer.copy() for _ in range(2)]     # the copy is the broadcast of rank 0's
    opts = [optim.SGD(w, lr=0.5) for w in workers]
    opt_single = optim.SGD(single, lr=0.5)
    bounds = row_bounds(B, 2)
    for s in range(3):
        local = [flat(mean_loss_gradients(w, x[lo:hi], t[lo:hi])[1]) * (hi - lo) / B
                 for w, (lo, hi) in zip(workers, bounds)]
        reduced, sent = ring_allreduce(local)
        for w, g, opt in zip(workers, reduced, opts):
            for name, value in unflat(g, w.grads).items():
                w.grads[name][...] = value
            opt.step()
        mean_loss_gradients(single, x, t)
        opt_single.step()
    P_tiny = layer.num_parameters()
    print(f"  per step each worker sent {sent[0]} of the {P_tiny} gradient entries; no "
          "parameter travelled after the start")
    L.show("worker 0's W after 3 steps", workers[0].params["W"])
    L.check("the two workers' parameters are equal, bit for bit",
            all(bool((workers[0].params[k] == workers[1].params[k]).all())
                for k in layer.params))
    for name in layer.params:
        L.check_close(f"workers' {name} equals one process trained on the whole batch",
                      workers[0].params[name], single.params[name], rtol=1e-12, atol=1e-14)
    L.say("Each worker applies the same update to the same parameters, so they stay equal "
          "without being sent; they agree with one process to rounding only, since the shard "
          "sums add in another order.")


# %% [markdown]
# ### ZeRO-1: Adam's m and v sharded across the workers
#
# $$ \text{reduce-scatter } g \to \text{worker owns } g_c;\quad
#    m_c, v_c, \theta_c \leftarrow \text{Adam}(g_c);\quad \text{all-gather } \theta $$
# $$ \text{memory per worker: } 4P + 4P + 8P \;\to\; 4P + 4P + 8P/N $$

# %%
with L.step("ZeRO-1: Adam's m and v sharded across the workers",
            formula=("reduce-scatter g -> worker owns g_c; m_c, v_c, theta_c <- Adam(g_c); "
                     "all-gather theta\n"
                     "memory per worker: 4P + 4P + 8P  ->  4P + 4P + 8P/N")):
    N = 2
    layer, x, t = tiny_problem()
    reference = layer.copy()
    adam = optim.Adam(reference, lr=0.1)
    theta = [flat(layer.params) for _ in range(N)]   # each worker's full parameter vector
    bounds = row_bounds(theta[0].size, N)
    owner = {(k + 1) % N: k for k in range(N)}       # the reduce-scatter completes c_{k+1} on k
    m = {c: xp.zeros(hi - lo) for c, (lo, hi) in enumerate(bounds)}
    v = {c: xp.zeros(hi - lo) for c, (lo, hi) in enumerate(bounds)}
    shard_rows = row_bounds(B, N)
    for step in (1, 2, 3):
        local = []
        for k, (lo, hi) in enumerate(shard_rows):
            for name, value in unflat(theta[k], layer.params).items():
                layer.params[name][...] = value
            local.append(flat(mean_loss_gradients(layer, x[lo:hi], t[lo:hi])[1]) * (hi - lo) / B)
        held = split_chunks(local)
        sent = ring_phase(held, REDUCE)
        for c, k in owner.items():                   # worker k updates only its chunk c
            lo, hi = bounds[c]
            by_hand_adam(theta[k][lo:hi], held[k][c], m[c], v[c], step, lr=0.1)
        held = [[th[lo:hi].copy() for lo, hi in bounds] for th in theta]
        sent = [a + b for a, b in zip(sent, ring_phase(held, GATHER))]
        theta = [xp.concatenate(h) for h in held]
        mean_loss_gradients(reference, x, t)
        adam.step()
    P_tiny = theta[0].size
    print(f"  {N} workers, {P_tiny} parameters: worker k keeps m and v of its chunk only "
          f"({', '.join(str(hi - lo) for lo, hi in bounds)} entries)")
    for k in range(N):
        L.check_close(f"worker {k}'s parameters after 3 ZeRO-1 steps equal optim.Adam's on the "
                      "whole batch", theta[k], flat(reference.params), rtol=1e-10, atol=1e-12)
    L.check(f"a worker sent {sent[0]} entries a step: reduce-scatter + all-gather = "
            f"2(N-1)/N x P, one all-reduce's", sent == [2 * (N - 1) * P_tiny // N] * N,
            f"sent {sent}")
    n_gpt2 = gpt2_parameters(**GPT2)
    print(f"  llm.c's GPT-2 (124M), by its formula: {n_gpt2:,} parameters")
    print(f"  {'model':<22} {'N':>2} {'plain DP':>11} {'ZeRO-1':>11} {'saved':>6}")
    for label, count in (("LSTM classifier", P), ("GPT-2 (124M)", n_gpt2)):
        for n in (1, 2, 4, 8):
            plain, zero = (bytes_per_worker(count, n, z) for z in (False, True))
            print(f"  {label:<22} {n:>2} {plain / 1e6:>8.1f} MB {zero / 1e6:>8.1f} MB "
                  f"{1 - zero / plain:>6.0%}")
    memory = (f"GPT-2 (124M) at N = 8: {bytes_per_worker(n_gpt2, 8, False) / 1e9:.2f} GB per "
              f"worker with plain data parallelism, {bytes_per_worker(n_gpt2, 8, True) / 1e9:.2f}"
              f" GB with ZeRO-1 (float32, Adam).")

Ns_memory = np.arange(1, 17)
for zero, label in ((False, "plain: 4P + 4P + 8P"), (True, "ZeRO-1: 4P + 4P + 8P/N")):
    ax_mem.plot(Ns_memory, [bytes_per_worker(n_gpt2, n, zero) / 1e9 for n in Ns_memory],
                label=label)
ax_mem.set_ylim(0, None)
ax_mem.set_xlabel("workers N")
ax_mem.set_ylabel("GB per worker")
ax_mem.set_title("llm.c's GPT-2 (124M), float32, Adam: memory per worker")
ax_mem.legend(fontsize=8)
savefig(fig, "cost_and_memory")

# %%
conclude(L.finish(
    summary=["The batch-mean gradient is sum_k (n_k/B) grad L_k: the shards' gradients "
             "weighted by their rows; their plain mean is wrong when the shards differ in "
             "size.",
             "A ring all-reduce runs N-1 reduce-scatter and N-1 all-gather steps; each worker "
             "sends one chunk per step, 2(N-1)/N of the buffer in all, under twice the "
             "buffer however large N grows.",
             cost,
             "Only the gradients travel: the parameters start equal and every worker applies "
             "the same update.",
             memory,
             ("Every worker here was simulated in one process (no MPI)." if comm is None else
              f"Run under mpiexec on {comm.size} processes: the ring and MPI's Allreduce "
              f"{'agreed' if mpi_agreed else 'DISAGREED'}.")],
    exercises=EXERCISES + [
        "Under mpiexec -n 2, double the gradient's size: does the Allreduce's time double, "
        "and what does the intercept say about a fixed cost per message (latency)?",
        "A ring of N workers takes 2(N-1) steps, each paying a latency: for which buffer "
        "size does a tree all-reduce (2 log2 N steps) win at N = 64?"]))
