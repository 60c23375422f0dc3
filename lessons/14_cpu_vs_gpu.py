# %%
"""CPU against GPU: the same LSTM and Transformer training step on NumPy and CuPy, timed honestly.

No document formula here: this lesson is about running the others fast. It times one training
step (forward, backward, Adam) of an LSTM and of a Transformer encoder layer with the benchmark
harness's timers (minseq.bench.time_call), synchronising with the device before every clock
reading, measures what the Python loop costs per time step, and explains when a GPU wins. On a
machine without a GPU it runs the CPU half and says plainly what it skipped.
"""

import time
from unittest import mock

import matplotlib.pyplot as plt
import numpy as np

import minseq
import minseq.bench.timing as timing_module
from minseq import backend, fast, nn, optim
from minseq.bench import compare, time_call
from minseq.bench.kernel import timing_setup
from minseq.lesson import Exercise, Lesson
from minseq.lessons_support.notebook import conclude
from minseq.threads import one_blas_thread


class Step:
    """One training step of ``layer`` on fixed inputs: forward, a squared-output loss, backward,
    Adam. Built on the active backend, with the layer's fast twins swapped in
    (``minseq.fast.accelerate``: this lesson times the optimised tier); ``run()`` returns
    nothing (the point is the time)."""

    def __init__(self, layer, x):
        self.layer, self.x = fast.accelerate(layer), x
        self.opt = optim.Adam(layer, lr=1e-3)

    def forward_backward(self):
        """loss = mean(y^2) of the layer's output; backward writes every gradient. Returns y."""
        out = self.layer(self.x)
        y = out[0] if isinstance(out, tuple) else out   # a recurrent layer returns (hs, state)
        self.layer.backward(2 * y / y.size)            # d mean(y^2) / dy
        return y

    def run(self):
        self.forward_backward()
        self.opt.step()


def lstm_step(B, T, D, H, seed=0):
    minseq.manual_seed(seed)
    x = backend.asarray(backend.host_rng(seed).standard_normal((B, T, D)), dtype=np.float32)
    return Step(nn.LSTM(D, H), x)


def encoder_step(B, T, d, heads, seed=0):
    minseq.manual_seed(seed)
    x = backend.asarray(backend.host_rng(seed).standard_normal((B, T, d)), dtype=np.float32)
    return Step(nn.TransformerEncoderLayer(d, heads, 4 * d, dropout=0.0), x)


def timed(step, repeats):
    return time_call(step.run, repeats=repeats, warmup=1, sync=backend.synchronize)


def timed_together(steps, repeats):
    """{key: Timing} of every step in ``steps`` ({key: Step}), their samples interleaved
    (one of each in turn), on one BLAS thread: a machine that slows down for a while slows
    them all alike, and no BLAS pool's threads wait for a busy core."""
    with one_blas_thread():
        return compare({k: step.run for k, step in steps.items()}, repeats=repeats, warmup=1,
                       gap=0, sync=backend.synchronize)


class QueuedDevice:
    """A pretend GPU on a pretend clock, for grading a timer without one: ``kernel()`` queues
    ``seconds`` of device work and returns after ``launch`` seconds of host time, as a CuPy call
    does; ``synchronize()`` waits until the queue is empty; ``clock()`` reads the host's time
    (it stands in for time.perf_counter)."""

    def __init__(self, seconds, launch=5e-6):
        self.seconds, self.launch = seconds, launch
        self.now = self.done_at = 0.0
        self.calls = 0

    def clock(self):
        return self.now

    def kernel(self, seconds=None):
        self.calls += 1
        start = max(self.now, self.done_at)             # it waits for the work queued before
        self.done_at = start + (self.seconds if seconds is None else seconds)
        self.now += self.launch

    def synchronize(self):
        self.now = max(self.now, self.done_at)


def grade_timer(L, seconds_per_call):
    """Exercise 1: the student's sample on a pretend device (a 2 ms kernel launched in 5 us,
    behind 0.5 s of earlier work), then inside minseq's time_call on the real clock."""
    device = QueuedDevice(seconds=2e-3)
    with mock.patch("time.perf_counter", device.clock):
        s = seconds_per_call(device.kernel, 1, device.synchronize)
        L.check_close("one call: the kernel's 2 ms, not its 5 us launch", s, 2e-3, rtol=1e-9)
        device.kernel(0.5)                                 # earlier work, still queued
        s = seconds_per_call(device.kernel, 1, device.synchronize)
        L.check_close("work queued before the sample is not counted", s, 2e-3, rtol=1e-9)
        calls = device.calls
        s = seconds_per_call(device.kernel, 4, device.synchronize)
        L.check_close("four calls: 2 ms per call", s, 2e-3, rtol=1e-9)
        L.check("fn ran number = 4 times", device.calls - calls == 4,
                f"{device.calls - calls} calls")
    with mock.patch.object(timing_module, "_sample", seconds_per_call):
        t = time_call(lambda: time.sleep(3e-3), repeats=3)
        L.check("time_call with your samples: a 3 ms sleep lasts at least 3 ms",
                t.min >= 3e-3, f"median {t.median * 1e3:.2f} ms, min {t.min * 1e3:.2f} ms")
        t = timed(lstm_step(8, 10, 4, 8), 3)
        L.check("the LSTM step: a positive median within [min, max]",
                0 < t.min <= t.median <= t.max, str(t))


def grade_fit(L, fit_cost_per_step):
    """Exercise 2: the student's least-squares line against an exact line, np.polyfit (the
    lesson's fit) and the normal equations' conditions, then on this machine's LSTM times."""
    lengths = backend.asarray([4.0, 16.0, 32.0, 64.0])
    a, b = fit_cost_per_step(lengths, 3e-4 + 2e-5 * lengths)
    L.check_close("an exact line: a = 0.3 ms, b = 20 us per step", backend.asarray([a, b]),
                  backend.asarray([3e-4, 2e-5]), rtol=1e-9, atol=1e-15)
    noise = backend.asarray(backend.host_rng(1).normal(0, 2e-5, 4))
    seconds = 3e-4 + 2e-5 * lengths + noise
    a, b = fit_cost_per_step(lengths, seconds)
    b_ref, a_ref = np.polyfit(backend.to_numpy(lengths), backend.to_numpy(seconds), 1)
    L.check_close("noisy times: (a, b) equals np.polyfit's", backend.asarray([a, b]),
                  backend.asarray([a_ref, b_ref]), rtol=1e-9, atol=1e-15)
    # least squares: d/da and d/db of sum_T (a + b T - s_T)^2 vanish at the best line
    residual = seconds - (a + b * lengths)
    L.check_close("the residuals sum to 0 (d/da = 0)", residual.sum(), 0.0, atol=1e-15)
    L.check_close("the residuals are orthogonal to T (d/db = 0)", (residual * lengths).sum(),
                  0.0, atol=1e-13)
    measured = backend.asarray([timed(lstm_step(2, T, 4, 8), 3).median for T in (4, 16, 32)])
    a, b = fit_cost_per_step(lengths[:3], measured)
    b_ref, a_ref = np.polyfit([4, 16, 32], backend.to_numpy(measured), 1)
    L.check_close("this machine's tiny LSTM: (a, b) equals np.polyfit's", backend.asarray([a, b]),
                  backend.asarray([a_ref, b_ref]), rtol=1e-9, atol=1e-15)


EXERCISES = [
    Exercise("seconds_per_call", "Write one timing sample: synchronise, read the clock, call "
             "fn number times, synchronise, read the clock again; seconds per call.",
             grade_timer,
             reference=["minseq.bench.timing._sample"]),
    Exercise("fit_cost_per_step", "Fit time(T) = a + b T to measured times by least squares: "
             "a is the fixed cost of a training step, b the cost of one time step.", grade_fit,
             reference=["numpy.polyfit"])]


# %%
L = Lesson(__file__, "Lesson 14 - CPU against GPU: timing a training step honestly", ids=[],
           goals=["time device code correctly: warm up, repeat, synchronise before reading "
                  "the clock",
                  "measure what the Python loop costs per time step of a recurrent layer",
                  "see when a GPU wins (large matrix products) and when it cannot (many tiny "
                  "steps)",
                  "check that NumPy and CuPy compute the same numbers"])
if L.args.exercise:
    conclude(L.grade(EXERCISES))
cupy_ok, why = backend.cupy_available()
repeats = 3 if L.fast else 5
cpu = L.args.backend if L.args.backend in ("numpy", "strict") else "numpy"


# %% [markdown]
# ### Why timing a GPU needs a synchronise
#
# $$ t0 = clock(); step(); synchronize(); t1 = clock() $$
# $$ without synchronize() the clock stops when the GPU has been *asked*, not when it has *finished* $$

# %%
with L.step("Why timing a GPU needs a synchronise",
            formula=("t0 = clock(); step(); synchronize(); t1 = clock()\n"
                     "without synchronize() the clock stops when the GPU has been *asked*, "
                     "not when it has *finished*")):
    L.say("CuPy queues kernels and returns at once, so a bare timer around GPU code measures "
          "the queueing. minseq.bench.time_call(fn, sync=backend.synchronize) waits for "
          "the device before every clock reading, warms up first (the first call compiles "
          "and allocates) and reports the median of repeated samples, with min and max.")
    backend.use_backend(cpu)
    with one_blas_thread():
        for line in timing_setup():
            print("  " + line)
    t = timed_together({"lstm": lstm_step(8, 10, 4, 8)}, repeats)["lstm"]
    print(f"  LSTM step (B=8, T=10, D=4, H=8) on {cpu}: {t}")
    L.check("the timer reports a positive median within [min, max]",
            0 < t.min <= t.median <= t.max)


# %% [markdown]
# ### The Python loop's cost per time step
#
# $$ time(T) = a + b T \quad for a tiny LSTM (B=2, D=4, H=8): b = cost per step $$

# %%
with L.step("The Python loop's cost per time step",
            formula="time(T) = a + b T   for a tiny LSTM (B=2, D=4, H=8): b = cost per step"):
    lengths = [4, 16, 32, 64] if L.fast else [4, 16, 32, 64, 128]
    steps = timed_together({T: lstm_step(2, T, 4, 8) for T in lengths}, repeats)
    times = [steps[T].median for T in lengths]
    b, a = np.polyfit(lengths, times, 1)
    for T, s in zip(lengths, times):
        print(f"  T = {T:4d}: {s * 1e3:7.3f} ms per training step")
    print(f"  fit: a = {a * 1e3:.3f} ms, b = {b * 1e6:.1f} microseconds per time step")
    L.say("At these sizes the matrix products are a few hundred floating-point operations "
          "each, so nearly all of b is Python and library-call overhead: the time step loop "
          "of a recurrent layer cannot run in parallel, and each step pays it. A GPU adds a "
          "kernel-launch latency (several microseconds per kernel, a dozen kernels per step) "
          "on top, so for small batches and hidden sizes it is no faster than the CPU.")
    # Timings are observations, never checks: a busy machine may reorder any two of them.
    print(f"  observed: T = {lengths[-1]} takes {times[-1] / times[0]:.1f}x the time of "
          f"T = {lengths[0]}")
    cpu_lengths, cpu_times = lengths, times

sizes = ([("small", 8, 32, 32, 2), ("larger", 16, 64, 64, 4)] if L.fast else
         [("small", 8, 32, 32, 2), ("larger", 32, 128, 128, 4)])


# %% [markdown]
# ### Where the work is in large matrix products: the Transformer encoder layer
#
# $$ cost ~ B T d^2 (projections, feed-forward) + B T^2 d (attention) $$

# %%
with L.step("Where the work is in large matrix products: the Transformer encoder layer",
            formula="cost ~ B T d^2 (projections, feed-forward) + B T^2 d (attention)"):
    enc_cpu = timed_together({label: encoder_step(B, T, d, h)
                              for label, B, T, d, h in sizes}, repeats)
    for label, B, T, d, h in sizes:
        print(f"  {label:<7} (B={B}, T={T}, d={d}, heads={h}) on {cpu}: {enc_cpu[label]}")
    (_, B0, T0, d0, _), (_, B1, T1, d1, _) = sizes
    print(f"  observed: the larger step takes "
          f"{enc_cpu[sizes[1][0]].median / enc_cpu[sizes[0][0]].median:.1f}x the time of the "
          f"small one, for {B1 * T1 * d1 ** 2 / (B0 * T0 * d0 ** 2):.0f}x the B T d^2 work")


# %% [markdown]
# ### The same steps on the GPU (CuPy)

# %%
with L.step("The same steps on the GPU (CuPy)"):
    gpu = {}
    if not cupy_ok:
        print(f"  SKIPPED: the GPU half needs CuPy and a CUDA device, and here: {why}")
        L.say("Nothing below was run on a GPU on this machine. On a machine with one, "
              "run `python lessons/14_cpu_vs_gpu.py` again (install the 'gpu' extra): this "
              "step times the same LSTM and encoder steps on CuPy and prints the speed-ups.")
    else:
        backend.use_backend("cupy")
        gpu_steps = timed_together({T: lstm_step(2, T, 4, 8) for T in cpu_lengths}, repeats)
        gpu_times = [gpu_steps[T].median for T in cpu_lengths]
        gpu = timed_together({label: encoder_step(B, T, d, h)
                              for label, B, T, d, h in sizes}, repeats)
        for label, B, T, d, h in sizes:
            ratio = enc_cpu[label].median / gpu[label].median
            print(f"  encoder {label:<7} on cupy: {gpu[label]}   speed-up {ratio:.1f}x")
        for T, s_cpu, s_gpu in zip(cpu_lengths, cpu_times, gpu_times):
            print(f"  tiny LSTM T = {T:4d}: cpu {s_cpu * 1e3:.3f} ms, "
                  f"gpu {s_gpu * 1e3:.3f} ms")


# %% [markdown]
# ### Same numbers on every backend
#
# $$ y and \frac{\partial L}{\partial Wq} of one encoder step: CPU == other backend (float32 rounding) $$

# %%
with L.step("Same numbers on every backend",
            formula="y and dL/dWq of one encoder step: CPU == other backend (float32 rounding)"):
    other = "cupy" if cupy_ok else ("strict" if cpu == "numpy" else "numpy")
    results = {}
    for name in (cpu, other):
        backend.use_backend(name)
        step = encoder_step(4, 12, 16, 2, seed=3)
        y = backend.to_numpy(step.forward_backward())
        results[name] = (y, backend.to_numpy(step.layer.self_attn.grads["Wq"]))
    backend.use_backend(cpu)
    L.show(f"y[0, 0, :4] on {cpu}", results[cpu][0][0, 0, :4])
    L.show(f"y[0, 0, :4] on {other}", results[other][0][0, 0, :4])
    L.check_close(f"outputs agree on {cpu} and {other}", results[other][0],
                  results[cpu][0], rtol=1e-4, atol=1e-5)
    dWq = results[cpu][1]
    L.say(f"dL/dWq is small here (max |entry| {np.abs(dWq).max():.1e}), so it is compared "
          "relative to its own size: an absolute tolerance of 1e-6 would pass anything.")
    L.check_close(f"gradients of Wq agree on {cpu} and {other}", results[other][1],
                  dWq, rtol=1e-4, atol=1e-4 * np.abs(dWq).max())

fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
ax = axes[0]
ax.plot(cpu_lengths, np.array(cpu_times) * 1e3, "o-", label=f"CPU ({cpu})")
if cupy_ok:
    ax.plot(cpu_lengths, np.array(gpu_times) * 1e3, "s-", label="GPU (cupy)")
ax.set_title("Tiny LSTM step: time grows with T (Python per step)")
ax.set_xlabel("sequence length T")
ax.set_ylabel("ms per training step")
ax.legend()
ax.grid(alpha=0.3)
ax = axes[1]
labels = [s[0] for s in sizes]
pos = np.arange(len(labels))
ax.bar(pos - 0.2, [enc_cpu[k].median * 1e3 for k in labels], 0.4, label=f"CPU ({cpu})")
if cupy_ok:
    ax.bar(pos + 0.2, [gpu[k].median * 1e3 for k in labels], 0.4, label="GPU (cupy)")
else:
    ax.text(0.3, 0.6, "no GPU on this machine:\nGPU bars skipped", ha="center",
            transform=ax.transAxes, fontsize=9, va="center",
            bbox={"facecolor": "white", "edgecolor": "0.6"})
ax.set_xticks(pos)
ax.set_xticklabels([f"{s[0]}\nB={s[1]} T={s[2]} d={s[3]}" for s in sizes])
ax.set_yscale("log")              # the small case is milliseconds, the large one far more
shown = [enc_cpu[k].median * 1e3 for k in labels] + (
    [gpu[k].median * 1e3 for k in labels] if cupy_ok else [])
ax.set_ylim(min(shown) / 10, max(shown) * 3)     # bars start a decade below the smallest
ax.set_title("Transformer encoder layer step (log scale)")
ax.set_ylabel("ms per training step (log)")
ax.legend(loc="upper left")
L.savefig(fig, "cpu_vs_gpu")

# %%
conclude(L.finish(
    summary=["Time device code with warm-up, repeated samples and a synchronise before each "
             "clock reading; the benchmark harness's time_call does all three.",
             "A recurrent layer pays a fixed Python and launch cost per time step; for small "
             "batches that cost, not arithmetic, sets the speed, on a CPU and a GPU alike.",
             "A GPU wins when each kernel has a lot of work: large batches, long sequences "
             "in attention, wide layers. The Transformer step, a few large products over "
             "the whole sequence at once, is where it shines.",
             "The same code runs on NumPy, strict and CuPy and computes the same numbers."],
    exercises=EXERCISES + [
        "Double the batch size of the tiny LSTM: does b (the cost per step) change? What "
        "does that say about where the time goes?",
        "Time the encoder step with and without backend.synchronize on a GPU: how large is "
        "the error of the unsynchronised timer?",
        "Run `make bench` and find the size at which the encoder layer's GPU speed-up "
        "passes 10x."]))
