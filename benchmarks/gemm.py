"""The GEMM probe: float32 matrix-product throughput of NumPy's BLAS and PyTorch, side by side.

    python benchmarks/gemm.py [--threads 1 2] [--quick] [--out out/bench]

At each thread count, NumPy's BLAS (through threadpoolctl) and PyTorch (``set_num_threads``) get
the same threads, and the two multiply the same shapes, interleaved (``minseq.bench.compare``):
the large square product behind the results table's "of GEMM peak", and the products the
layers are made of. Runs on OpenBLAS's native kernel (the script re-runs itself without
OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE when they are set; README, benchmark method). Writes
``gemm.md`` and ``gemm.json`` under ``--out``, naming the CPU, the kernel and the threads.
"""

import argparse
import json
import os
import sys
from pathlib import Path

#: (what it is, m, k, n): a product (m, k) x (k, n)
SHAPES = [("large square (the GEMM peak)", 2048, 2048, 2048),
          ("LSTM step, (B, H) x (H, 4H)", 64, 256, 1024),
          ("input projection, (T B, D) x (D, 4H)", 6400, 128, 1024),
          ("MLP layer, (B, D) x (D, hidden)", 1024, 512, 1024)]
QUICK_SHAPES = [("small square", 128, 128, 128), ("thin", 16, 32, 64)]


def measure(shapes, threads, repeats):
    """{shape label: {library: GFLOP/s}} at ``threads`` threads, the libraries interleaved."""
    import numpy
    from threadpoolctl import threadpool_limits
    from minseq.bench import compare
    from minseq.bench.machine import optional_torch
    torch = optional_torch()
    rng = numpy.random.default_rng(0)
    out = {}
    with threadpool_limits(limits=threads, user_api="blas"):
        if torch is not None:
            torch.set_num_threads(threads)
        for label, m, k, n in shapes:
            a, b = (rng.standard_normal(s, dtype=numpy.float32) for s in ((m, k), (k, n)))
            fns = {"numpy": lambda: numpy.matmul(a, b)}
            if torch is not None:
                ta, tb = torch.from_numpy(a), torch.from_numpy(b)
                fns["torch"] = lambda: torch.matmul(ta, tb)
            timings = compare(fns, repeats=repeats, warmup=1, gap=0.2)
            out[label] = {name: 2 * m * k * n / t.min / 1e9 for name, t in timings.items()}
    return out


def markdown(runs, machine):
    from minseq.bench.report import cpu_line, variables_line
    torch = machine["torch"]["version"] if machine["torch"] else "not installed"
    lines = ["# GEMM probe: float32 GFLOP/s, NumPy's BLAS against PyTorch", "",
             f"{cpu_line(machine)}; NumPy {machine['numpy']} ({machine['blas']['name']}, "
             f"kernel {machine['blas']['kernel']}); {variables_line(machine)}; PyTorch "
             f"{torch}. Best of interleaved "
             f"samples (`benchmarks/gemm.py`).", "",
             "| product | " + " | ".join(f"NumPy, {n} thr | PyTorch, {n} thr" for n in runs)
             + " |", "|---|" + "---:|---:|" * len(runs)]
    for label in next(iter(runs.values())):
        cells = []
        for n in runs:
            g = runs[n][label]
            cells += [f"{g['numpy']:.0f}", f"{g['torch']:.0f}" if "torch" in g else "-"]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--threads", type=int, nargs="+",
                   default=list(range(1, (os.cpu_count() or 1) + 1)),
                   help="thread counts (default: 1 .. the number of cores)")
    p.add_argument("--out", default="out/bench", help="folder for gemm.md and gemm.json")
    p.add_argument("--quick", action="store_true", help="two tiny products: checks the script")
    args = p.parse_args(argv)
    if any(n < 1 for n in args.threads):
        p.error(f"--threads: counts must be >= 1, got {args.threads}")
    from minseq.bench.machine import machine_info
    from minseq.files import atomic_write
    shapes, repeats = (QUICK_SHAPES, 2) if args.quick else (SHAPES, 5)
    runs = {n: measure(shapes, n, repeats) for n in args.threads}
    machine = machine_info()
    out = Path(args.out)
    text = markdown(runs, machine)
    with atomic_write(out / "gemm.md", "w") as f:
        f.write(text)
    with atomic_write(out / "gemm.json", "w") as f:
        json.dump({"machine": machine, "gflops": {str(n): g for n, g in runs.items()}}, f,
                  indent=1)
    print(text + f"wrote {out / 'gemm.md'}, {out / 'gemm.json'}")
    return 0


if __name__ == "__main__":
    from minseq.bench.kernel import run_natively
    run_natively(sys.argv, "benchmarks/gemm.py")
    raise SystemExit(main())
