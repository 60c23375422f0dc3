"""Data parallel against threads and against PyTorch: ``python benchmarks/data_parallel.py``
(needs the mpi and parity extras).

For the LSTM classifier (next behaviour), GRU4Rec and SASRec at the bench sizes, on the
synthetic log of ``--users`` users, it times training epochs in five set-ups, interleaved
(each round runs every set-up of every model once, ``--repeats`` rounds):

- minseq (``minseq train``), 1 process on 1 thread; 1 process on 2 threads (``--threads 2``:
  NumPy's BLAS and the fast tier's batch shards); 2 processes of 1 thread each
  (``mpiexec -n 2``, minseq.parallel.processes), the same global batch;
- PyTorch on 1 and on 2 threads (``torch.set_num_threads``): the same model (the counterpart of
  minseq.bench.torch_models, from the same first weights, with the same dropout) trained on the
  same batches of the same data with the same Adam and clipping (minseq.bench.torch_epochs, run
  by ``pytorch_epochs.py`` with the very flags of ``minseq train``).

Each run trains ``--epochs`` epochs and gives the examples/s of the last one's training pass
(the examples over the time from the epoch's start to its last step: minseq's progress line,
and PyTorch's the same way), so the first epoch's warm-up, the validation and the checkpoints
are left out. The table gives each set-up's median and the ratios of the targets:
2 processes / 1 process >= 1.7 and 2 processes / PyTorch on 2 threads >= 1.0, each marked met
or not; its header names the CPU, NumPy's BLAS and its kernel, PyTorch's build, and the threads
of every set-up. Then the all-reduce of each model's gradients (one flat float32 buffer of its
parameters) on 2 processes, beside the cost model of a ring all-reduce,

    t = 2 (N - 1) / N * bytes / bandwidth,

with the bandwidth measured by a 64 MiB all-reduce on the same processes. Every timed process
runs on OpenBLAS's native kernel (README, benchmark method). It writes ``data_parallel.md``,
``data_parallel.json`` and the figure ``data_parallel.png`` (examples/s of every set-up, a
panel per model) under ``--out``: out/bench/data_parallel/ by default; the committed
benchmarks/results/ only when given as ``--out``. Run it on an idle machine with two free
cores: two processes or two threads need them.
"""

import argparse
import importlib.util
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from minseq.bench.kernel import native_environment
from minseq.bench.machine import machine_info
from minseq.bench.report import cpu_line, variables_line, write_json
from minseq.bench.sessions import run_in_session
from minseq.files import atomic_write, can_write_in
from minseq.plot import pyplot, save_figure

BIN = Path(sys.executable).parent
HERE = Path(__file__).resolve().parent
#: model -> the ``minseq train`` flags of its bench size (the registry's defaults otherwise:
#: dropout, learning rate, clipping)
MODELS = {
    "lstm": ["--model", "lstm", "--task", "next-behaviour", "--batch-size", "64",
             "--d-model", "128", "--maxlen", "50"],
    "gru4rec": ["--model", "gru4rec", "--batch-size", "64", "--d-model", "64",
                "--maxlen", "50"],
    "sasrec": ["--model", "sasrec", "--batch-size", "128", "--d-model", "50",
               "--maxlen", "50"],
}
#: set-up -> (library, processes, threads per process)
SETUPS = {"1 process, 1 thread": ("minseq", 1, 1), "1 process, 2 threads": ("minseq", 1, 2),
          "2 processes, 1 thread each": ("minseq", 2, 1), "PyTorch, 1 thread": ("torch", 1, 1),
          "PyTorch, 2 threads": ("torch", 1, 2)}
TWO_PROCESSES = "2 processes, 1 thread each"
#: (name, set-up, over set-up, the least ratio that meets the target)
TARGETS = [("2 processes / 1 process", TWO_PROCESSES, "1 process, 1 thread", 1.7),
           ("2 processes / PyTorch 2 threads", TWO_PROCESSES, "PyTorch, 2 threads", 1.0)]
RATE_LINE = "epoch {epochs}/{epochs} "

ALLREDUCE = """
import json, sys, time
import numpy as np
from minseq.parallel.comm import world
comm = world()
out = {}
for size in map(int, sys.argv[1:]):
    buffer = np.ones(size // 4, dtype=np.float32)
    comm.allreduce(buffer)                                 # warm-up
    comm.barrier()
    times = []
    for _ in range(20):
        t0 = time.perf_counter()
        comm.allreduce(buffer)
        times.append(time.perf_counter() - t0)
    out[size] = sorted(times)[len(times) // 2]
if comm.leads:
    print(json.dumps(out))
"""


def run(cmd, env, timeout):
    """The stdout and stderr of ``cmd``, run in a session of its own (on timeout the whole
    session is killed: mpiexec's processes too); a failure ends the benchmark in one line,
    with the command's last line of stderr."""
    try:
        returncode, out, err = run_in_session(cmd, timeout, env=env)
    except subprocess.TimeoutExpired:
        sys.exit(f"data_parallel.py: timed out after {timeout} s: {' '.join(cmd)}")
    if returncode:
        last = (err.strip().splitlines() or ["(no message)"])[-1]
        sys.exit(f"data_parallel.py: {' '.join(cmd)} failed (exit {returncode}): {last}")
    return out, err


def flags(model, threads, args):
    """The ``minseq train`` flags of one run of ``model`` on ``threads`` threads."""
    return [*MODELS[model], *args.sizes, "--users", str(args.users), "--epochs",
            str(args.epochs), "--patience", str(args.epochs), "--threads", str(threads)]


def minseq_rate(model, processes, threads, args):
    """Examples/s of the last epoch of one ``minseq train`` run, off its progress line."""
    env = dict(native_environment(), MPLBACKEND="Agg", OMP_NUM_THREADS=str(threads))
    with tempfile.TemporaryDirectory() as out:
        cmd = [sys.executable, "-m", "minseq", "train", *flags(model, threads, args),
               "--out", out]
        if processes > 1:
            cmd = [str(BIN / "mpiexec"), "-n", str(processes)] + cmd
        _, err = run(cmd, env, args.timeout)
    line = next((s for s in err.splitlines()
                 if s.startswith(RATE_LINE.format(epochs=args.epochs))), None)
    if line is None:
        sys.exit(f"data_parallel.py: no progress line of epoch {args.epochs} from {model} on "
                 f"{processes} process(es); its stderr ends: {err.strip()[-300:]}")
    return float(line.split(" examples/s")[0].split()[-1].replace(",", ""))


def torch_run(model, threads, args):
    """One run of PyTorch's epochs (benchmarks/pytorch_epochs.py): {"rates" of every epoch,
    "threads", "parameters", "torch"}."""
    env = dict(native_environment(), OMP_NUM_THREADS=str(threads))
    out, _ = run([sys.executable, str(HERE / "pytorch_epochs.py"),
                  *flags(model, threads, args)], env, args.timeout)
    return json.loads(out.strip().splitlines()[-1])


def allreduce_seconds(sizes, timeout):
    """{bytes: median seconds} of one all-reduce of each size on 2 processes."""
    out, _ = run([str(BIN / "mpiexec"), "-n", "2", sys.executable, "-c", ALLREDUCE,
                  *map(str, sizes)], native_environment(), timeout)
    return {int(k): v for k, v in json.loads(out).items()}


def measure(args):
    """{model: {set-up: [examples/s of each round]}}, and the last PyTorch run of each model
    (its parameter count, threads and build)."""
    rates = {m: {s: [] for s in SETUPS} for m in args.models}
    torch_runs = {}
    for round_ in range(1, args.repeats + 1):           # interleaved: every set-up each round
        for model in args.models:
            for setup, (library, processes, threads) in SETUPS.items():
                if library == "torch":
                    torch_runs[model, threads] = torch_run(model, threads, args)
                    rate = torch_runs[model, threads]["rates"][-1]
                else:
                    rate = minseq_rate(model, processes, threads, args)
                rates[model][setup].append(rate)
                print(f"round {round_}/{args.repeats}  {model:<8} {setup:<27} "
                      f"{rate:>10,.0f} examples/s", file=sys.stderr, flush=True)
    return rates, torch_runs


def ring_factor(n=2):
    """2 (N - 1) / N: the bytes each of N processes sends, per byte of the buffer, in a ring
    all-reduce."""
    return 2 * (n - 1) / n


def rows_of(rates, torch_runs, seconds, bandwidth):
    rows = []
    for model, runs in rates.items():
        median = {s: statistics.median(v) for s, v in runs.items()}
        size = 4 * torch_runs[model, 1]["parameters"]
        rows.append(dict(
            model=model, rates=median, runs=runs,
            ratios={name: median[a] / median[b] for name, a, b, _ in TARGETS},
            met={name: median[a] / median[b] >= least for name, a, b, least in TARGETS},
            gradient_bytes=size, allreduce_ms=1e3 * seconds[size],
            model_ms=1e3 * ring_factor() * size / bandwidth))
    return rows


def header(result):
    """The lines that say what ran: machine, libraries, kernel, threads, data, method."""
    m, built = result["machine"], result["torch"]
    blas = m["blas"]
    s = result["settings"]
    load = m.get("load_average_1_5_15min")
    return [
        f"- {cpu_line(m)}. NumPy {m['numpy']} on {blas['name']}, kernel "
        f"{blas.get('kernel') or 'unknown'}; {variables_line(m)}. PyTorch {built['version']} "
        f"(BLAS {built['blas']}, CPU code path {built['cpu_capability']}).",
        f"- Threads per process as each set-up names them: minseq's `--threads N` (NumPy's "
        f"BLAS pool and the batch shards) with OMP_NUM_THREADS=N, PyTorch's "
        f"`torch.set_num_threads(N)` (its processes reported "
        f"{' and '.join(map(str, result['torch_threads']))})."
        + ("" if load is None else f" Load average at the start: {load[0]:.1f} (1 min)."),
        f"- Synthetic log of {s['users']:,} users; float32; {s['epochs']} epochs a run, the "
        f"last one's training pass timed (examples/s); {s['repeats']} interleaved round(s), "
        f"medians." + (" A --quick smoke run (tiny sizes): not a measurement."
                       if s["quick"] else ""),
    ]


def markdown(result):
    rows = result["rows"]
    names = [name for name, *_ in TARGETS]
    lines = ["# Data parallel against threads and PyTorch (training examples/s)", "",
             *header(result), "",
             "| model | " + " | ".join(f"{s} ex/s" for s in SETUPS) + " | "
             + " | ".join(f"{name} (target >= {least})" for name, _, _, least in TARGETS)
             + " |", "|---|" + "---:|" * (len(SETUPS) + len(TARGETS))]
    for r in rows:
        lines.append(f"| {r['model']} | " + " | ".join(f"{r['rates'][s]:,.0f}" for s in SETUPS)
                     + " | " + " | ".join(f"{r['ratios'][n]:.2f}x, "
                                          f"{'met' if r['met'][n] else 'not met'}"
                                          for n in names) + " |")
    lines += ["", "| model | gradients (bytes) | all-reduce ms | cost model ms |",
              "|---|---:|---:|---:|"]
    lines += [f"| {r['model']} | {r['gradient_bytes']:,} | {r['allreduce_ms']:.3f} | "
              f"{r['model_ms']:.3f} |" for r in rows]
    lines.append(f"\nAll-reduce bandwidth (64 MiB, 2 processes): "
                 f"{result['bandwidth_bytes_per_s'] / 1e9:.2f} GB/s; cost model "
                 f"t = 2 (N - 1) / N * bytes / bandwidth.")
    return "\n".join(lines) + "\n"


def figure(result, path):
    """Examples/s of every set-up (median; whiskers: the rounds' least and most), a panel per
    model, with the 1.7x target of 2 processes over 1 as a dashed line."""
    plt = pyplot()
    rows = result["rows"]
    fig, axes = plt.subplots(1, len(rows), figsize=(4.8 * len(rows), 4.4), squeeze=False)
    colours = ["#9ecae1", "#4292c6", "#08519c", "#fdae6b", "#e6550d"]
    base, least = TARGETS[0][2], TARGETS[0][3]
    for ax, r in zip(axes[0], rows):
        medians = [r["rates"][s] for s in SETUPS]
        low = [m - min(r["runs"][s]) for m, s in zip(medians, SETUPS)]
        high = [max(r["runs"][s]) - m for m, s in zip(medians, SETUPS)]
        ax.bar(range(len(SETUPS)), medians, yerr=[low, high], color=colours, capsize=3)
        ax.axhline(least * r["rates"][base], color="k", linestyle="--", linewidth=1,
                   label=f"target: {least} x 1 process")
        ax.set_xticks(range(len(SETUPS)))
        ax.set_xticklabels([s.replace(", ", "\n").replace(" each", "\neach") for s in SETUPS],
                           fontsize=7)
        top = max(least * r["rates"][base], *(max(v) for v in r["runs"].values()))
        ax.set(title=r["model"], ylabel="training examples/s", ylim=(0, 1.3 * top))
        ax.legend(fontsize=7, loc="upper left")
    fig.suptitle("minseq (blue) on 1 and 2 threads and 2 processes; PyTorch (orange)",
                 fontsize=9)
    return save_figure(fig, path)


def parser():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default="out/bench/data_parallel",
                   help="folder of the table, JSON and figure (default out/bench/data_parallel; "
                        "the committed ones: --out benchmarks/results)")
    p.add_argument("--models", nargs="+", choices=list(MODELS), default=list(MODELS),
                   help="the models to time (default all)")
    p.add_argument("--users", type=int, default=2000)
    p.add_argument("--epochs", type=int, default=2,
                   help="epochs a run; the last one is timed (default 2: one of warm-up)")
    p.add_argument("--repeats", type=int, default=3, help="interleaved rounds (default 3)")
    p.add_argument("--timeout", type=int, default=1800, help="seconds a run may take")
    p.add_argument("--quick", action="store_true",
                   help="a smoke run of the script, not a measurement: 100 users, width 8, "
                        "histories of 10, 1 repeat")
    return p


def main(argv=None):
    p = parser()
    args = p.parse_args(argv)
    if args.users < 1 or args.epochs < 1 or args.repeats < 1 or args.timeout < 1:
        p.error("--users, --epochs, --repeats and --timeout must be at least 1")
    args.sizes = ["--d-model", "8", "--maxlen", "10"] if args.quick else []
    if args.quick:
        args.users, args.repeats = 100, 1
    if not (BIN / "mpiexec").exists():
        sys.exit(f"data_parallel.py: no mpiexec beside {sys.executable}: "
                 "pip install -e '.[mpi]'")
    if importlib.util.find_spec("torch") is None:    # its set-ups run in processes of their own
        sys.exit("data_parallel.py: PyTorch is not installed: pip install -e '.[parity]'")
    out = Path(args.out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        sys.exit(f"data_parallel.py: --out {out}: {exc.strerror or exc}")
    if not can_write_in(out):
        sys.exit(f"data_parallel.py: --out {out}: cannot write there")
    machine = machine_info()
    rates, torch_runs = measure(args)
    sizes = {4 * torch_runs[m, 1]["parameters"] for m in args.models}
    big = 64 * 2**20
    seconds = allreduce_seconds(sorted(sizes) + [big], args.timeout)
    bandwidth = ring_factor() * big / seconds[big]
    result = dict(
        machine=machine, torch=next(iter(torch_runs.values()))["torch"],
        torch_threads=sorted({r["threads"] for r in torch_runs.values()}),
        settings=dict(users=args.users, epochs=args.epochs, repeats=args.repeats,
                      quick=args.quick, models={m: MODELS[m] + args.sizes for m in args.models}),
        setups={s: dict(zip(("library", "processes", "threads"), v)) for s, v in SETUPS.items()},
        targets=[dict(name=n, setup=a, over=b, at_least=t) for n, a, b, t in TARGETS],
        rows=rows_of(rates, torch_runs, seconds, bandwidth), bandwidth_bytes_per_s=bandwidth)
    text = markdown(result)
    write_json(result, out / "data_parallel.json")
    with atomic_write(out / "data_parallel.md", "w") as f:
        f.write(text)
    figure(result, out / "data_parallel.png")
    print(text)
    print(f"wrote {out / 'data_parallel.md'}, {out / 'data_parallel.json'}, "
          f"{out / 'data_parallel.png'}")
    return 0


if __name__ == "__main__":
    from minseq.bench.kernel import run_natively
    run_natively(sys.argv, "benchmarks/data_parallel.py")
    raise SystemExit(main())
