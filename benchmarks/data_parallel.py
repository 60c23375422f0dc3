"""Data parallel against threads: ``python benchmarks/data_parallel.py`` (needs the mpi extra).

For the LSTM classifier, GRU4Rec and SASRec at the bench sizes it times the training epochs of
``minseq train`` (examples/s of the training pass, read off the progress line of the last
epoch, so the first epoch's warm-up is left out) in four set-ups, interleaved, ``--repeats``
times each:

- 1 process, 1 thread;  1 process, 2 threads (``--threads 2``: BLAS and the batch shards);
- 2 processes of 1 thread each (``mpiexec -n 2``, minseq.parallel.processes), the same global
  batch;

and the all-reduce of each model's gradients (one flat float32 buffer of its parameters) on 2
processes, beside the cost model of a ring all-reduce,

    t = 2 (N - 1) / N * bytes / bandwidth,

with the bandwidth measured by a 64 MiB all-reduce on the same processes. It writes
``data_parallel.md`` and ``data_parallel.json`` under ``--out`` (default out/bench/data_parallel/).
Run it on an idle machine: two processes or two threads need two free cores. PyTorch is not
timed here (its columns are the layer benchmark's, ``run.py``).
"""

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from minseq import checkpoint
from minseq.bench.kernel import native_environment
from minseq.tasks.folder import checkpoint_in

BIN = Path(sys.executable).parent
#: model -> the flags of its bench size (the registry's defaults otherwise)
MODELS = {
    "lstm": ["--model", "lstm", "--task", "next-behaviour", "--batch-size", "64",
             "--d-model", "128", "--maxlen", "50"],
    "gru4rec": ["--model", "gru4rec", "--batch-size", "64", "--d-model", "64",
                "--maxlen", "50"],
    "sasrec": ["--model", "sasrec", "--batch-size", "128", "--d-model", "50",
               "--maxlen", "50"],
}
SETUPS = {"1 process, 1 thread": (1, 1), "1 process, 2 threads": (1, 2),
          "2 processes, 1 thread each": (2, 1)}
RATE = re.compile(r"epoch (\d+)/\d+ .*?([\d,]+) examples/s")

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


def train_rate(model, processes, threads, args):
    """Examples/s of the last training epoch of one run."""
    with tempfile.TemporaryDirectory() as out:
        cmd = [sys.executable, "-m", "minseq", "train", *MODELS[model], *args.sizes, "--users",
               str(args.users), "--epochs", str(args.epochs), "--patience", str(args.epochs),
               "--threads", str(threads), "--out", out]
        if processes > 1:
            cmd = [str(BIN / "mpiexec"), "-n", str(processes)] + cmd
        env = dict(native_environment(), MPLBACKEND="Agg", OMP_NUM_THREADS=str(threads))
        done = subprocess.run(cmd, capture_output=True, text=True, env=env, check=True,
                              timeout=args.timeout)
    rates = RATE.findall(done.stderr)
    return float(rates[-1][1].replace(",", ""))


def gradient_bytes(model, args):
    """float32 bytes of the model's parameters at its bench size, read off the checkpoint of
    a one-epoch run (what the all-reduce sums each step)."""
    with tempfile.TemporaryDirectory() as out:
        subprocess.run([sys.executable, "-m", "minseq", "train", *MODELS[model], *args.sizes,
                        "--users", str(args.users), "--epochs", "1", "--quiet", "--out", out],
                       capture_output=True, check=True, timeout=args.timeout,
                       env=dict(os.environ, MPLBACKEND="Agg"))
        state = checkpoint.read(checkpoint_in(out))[0]
        return 4 * sum(int(v.size) for v in state.values())


def allreduce_seconds(sizes, timeout):
    done = subprocess.run([str(BIN / "mpiexec"), "-n", "2", sys.executable, "-c", ALLREDUCE,
                           *map(str, sizes)], capture_output=True, text=True, check=True,
                          timeout=timeout, env=dict(native_environment()))
    return {int(k): v for k, v in json.loads(done.stdout).items()}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default="out/bench/data_parallel")
    p.add_argument("--users", type=int, default=2000)
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--timeout", type=int, default=1800)
    p.add_argument("--quick", action="store_true",
                   help="a smoke run of the script, not a measurement: 100 users, width 8, "
                        "histories of 10, 1 repeat")
    args = p.parse_args(argv)
    args.sizes = ["--d-model", "8", "--maxlen", "10"] if args.quick else []
    if args.quick:
        args.users, args.repeats = 100, 1
    if not (BIN / "mpiexec").exists():
        sys.exit(f"data_parallel.py: no mpiexec beside {sys.executable}: "
                 "pip install -e '.[mpi]'")
    rates = {m: {s: [] for s in SETUPS} for m in MODELS}
    for _ in range(args.repeats):                       # interleaved: every set-up each round
        for model in MODELS:
            for setup, (processes, threads) in SETUPS.items():
                rates[model][setup].append(train_rate(model, processes, threads, args))
    sizes = {m: gradient_bytes(m, args) for m in MODELS}
    big = 64 * 2**20
    seconds = allreduce_seconds(sorted(set(sizes.values())) + [big], args.timeout)
    n = 2
    bandwidth = 2 * (n - 1) / n * big / seconds[big]
    rows = []
    for model in MODELS:
        median = {s: statistics.median(v) for s, v in rates[model].items()}
        rows.append(dict(model=model, rates=median, runs=rates[model],
                         speedup=median["2 processes, 1 thread each"] /
                         median["1 process, 1 thread"],
                         gradient_bytes=sizes[model],
                         allreduce_ms=1e3 * seconds[sizes[model]],
                         model_ms=1e3 * 2 * (n - 1) / n * sizes[model] / bandwidth))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "data_parallel.json").write_text(json.dumps(dict(
        rows=rows, bandwidth_bytes_per_s=bandwidth, users=args.users, epochs=args.epochs,
        repeats=args.repeats), indent=2))
    lines = ["| model | " + " | ".join(f"{s} ex/s" for s in SETUPS) +
             " | 2 processes / 1 | gradients (bytes) | all-reduce ms | cost model ms |",
             "|---|" + "---:|" * (len(SETUPS) + 4)]
    for r in rows:
        lines.append(f"| {r['model']} | " + " | ".join(f"{r['rates'][s]:,.0f}" for s in SETUPS)
                     + f" | {r['speedup']:.2f}x | {r['gradient_bytes']:,} | "
                       f"{r['allreduce_ms']:.3f} | {r['model_ms']:.3f} |")
    lines.append(f"\nAll-reduce bandwidth (64 MiB, 2 processes): {bandwidth / 1e9:.2f} GB/s; "
                 "cost model t = 2 (N - 1) / N * bytes / bandwidth.")
    (out / "data_parallel.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
