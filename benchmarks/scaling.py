"""How the fast tier and PyTorch scale with threads: ``python benchmarks/scaling.py``.

For each thread count (default: 1 up to the machine's cores) it runs the benchmark in a fresh
process (``run.py --threads N``: NumPy's BLAS and PyTorch get the same N threads, set before
they load), on the layers of the targets (LSTM, GRU, MultiHeadAttention,
TransformerEncoderLayer, MLP), each side interleaved with the other inside that process. Those
processes run without OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE, on OpenBLAS's native kernel
(README, benchmark method). It then writes, under ``--out`` (default out/bench/scaling/;
``make bench-publish`` writes the committed benchmarks/results/scaling/):

- ``scaling.md``: forward+backward milliseconds and fast / PyTorch at every thread count;
- ``scaling.png``: milliseconds against threads, one panel per case, fast and PyTorch;
- ``threads-N/``: each run's own results.

On a machine with more cores, the same command measures every count up to its core count
(``--threads 1 2 4 8 16`` picks some); run it on an idle machine: two-thread pools stall when
other work holds a core.
"""

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

from minseq.bench.kernel import blas_variables, native_environment
from minseq.bench.report import blas_line, cpu_line, variables_line

HERE = Path(__file__).resolve().parent
LAYERS = ["LSTM", "GRU", "MultiHeadAttention", "TransformerEncoderLayer", "MLP"]
#: the cases of the issue's targets, shown in the figure
HEADLINE = {"LSTM": "(64, 100, 128, 256)", "GRU": "(64, 100, 128, 256)",
            "MultiHeadAttention": "(64, 200, 128, 4)",
            "TransformerEncoderLayer": "(64, 200, 128, 4)", "MLP": "(1024, 512, 1024, 10)"}


def run_threads(n, out, quick=False):
    """The benchmark rows of one run at ``n`` threads, written under ``out``/threads-n."""
    folder = out / f"threads-{n}"
    cmd = [sys.executable, str(HERE / "run.py"), "--threads", str(n), "--no-gpu",
           "--only", *LAYERS, "--out", str(folder)] + (["--quick"] if quick else [])
    subprocess.run(cmd, check=True, env=dict(native_environment(), MPLBACKEND="Agg"))
    return json.loads((folder / "results.json").read_text())


def fb_rows(result):
    """The forward+backward CPU rows of one run's results, by (layer, size label), in order."""
    return {(r["layer"], r["label"]): r for r in result["rows"]
            if r["mode"] == "forward+backward" and r["device"] == "cpu"}


def table(runs):
    """Markdown: one row per case, fast and PyTorch ms and their ratio at each thread count."""
    counts = sorted(runs)
    fb = {n: fb_rows(runs[n]) for n in counts}
    head = "| layer | size | " + " | ".join(
        f"{n} thr fast ms | {n} thr PyTorch ms | {n} thr fast / PyTorch" for n in counts) + " |"
    lines = [head, "|---|---|" + "---:|" * (3 * len(counts))]
    for layer, label in fb[counts[0]]:
        cells = []
        for n in counts:
            row = fb[n][layer, label]
            cells += [f"{row['fast']['median'] * 1e3:.1f}",
                      f"{row['torch']['median'] * 1e3:.1f}" if row["torch"] else "-",
                      f"{row['ratio_to_torch']:.2f}" if row["ratio_to_torch"] else "-"]
        lines.append(f"| {layer} | {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def figure(runs, path):
    """Milliseconds against threads, a panel per layer at its headline size (or, in a
    ``--quick`` run, its only size)."""
    import matplotlib.pyplot as plt
    counts = sorted(runs)
    fb = {n: fb_rows(runs[n]) for n in counts}
    fig, axes = plt.subplots(1, len(LAYERS), figsize=(3.6 * len(LAYERS), 3.6))
    for ax, layer in zip(axes, LAYERS):
        labels = [label for name, label in fb[counts[0]] if name == layer]
        label = HEADLINE[layer] if HEADLINE[layer] in labels else labels[0]
        rows = [fb[n][layer, label] for n in counts]
        for side, style in (("fast", "o-"), ("torch", "s--")):
            if all(r[side] for r in rows):
                ax.plot(counts, [r[side]["median"] * 1e3 for r in rows], style,
                        label={"fast": "minseq fast", "torch": "PyTorch CPU"}[side])
        ax.set(title=f"{layer}\n{label}", xlabel="threads", ylabel="forward+backward ms",
               xticks=counts, ylim=(0, None))
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--threads", type=int, nargs="+",
                   default=list(range(1, (os.cpu_count() or 1) + 1)),
                   help="thread counts to measure (default: 1 .. the number of cores)")
    p.add_argument("--out", default="out/bench/scaling",
                   help="folder (default out/bench/scaling; the committed tables are under "
                        "benchmarks/results/scaling)")
    p.add_argument("--quick", action="store_true",
                   help="tiny sizes, 2 samples: checks the script in seconds")
    args = p.parse_args(argv)
    if any(n < 1 for n in args.threads):
        p.error(f"--threads: counts must be >= 1, got {args.threads}")
    out = Path(args.out)
    if blas_variables():
        print(f"scaling.py: timing on OpenBLAS's native kernel: {', '.join(blas_variables())} "
              f"set aside for the timed processes (README, benchmark method)", file=sys.stderr)
    runs = {n: run_threads(n, out, args.quick) for n in args.threads}
    machine = runs[args.threads[0]]["machine"]
    kernels = "; ".join(f"{n} thr: {blas_line(runs[n]['machine'])}" for n in sorted(runs))
    text = (f"# Thread scaling: minseq fast against PyTorch CPU\n\n"
            f"{cpu_line(machine)}; NumPy {machine['numpy']} ({kernels}); "
            f"{variables_line(machine)}; "
            f"PyTorch {(machine['torch'] or {}).get('version', 'not installed')}. Forward+"
            f"backward, float32, medians of interleaved samples, one process per thread count "
            f"(`python benchmarks/scaling.py`).\n\n{table(runs)}\n")
    (out / "scaling.md").write_text(text)
    figure(runs, out / "scaling.png")
    print(text)
    print(f"wrote {out / 'scaling.md'}, {out / 'scaling.png'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
