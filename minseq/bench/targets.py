"""The fast tier's targets against PyTorch, and a table of where a run stands.

    targets_markdown({1: result_at_1_thread, 2: result_at_2_threads})

Each target is the largest fast / PyTorch ratio (forward+backward, CPU) allowed at the layer's
larger sizes (every size but the smallest; a run with one size uses it). Where a target is
missed, the table gives that case's time split into its matrix products (GEMM, replayed alone:
``split.gemm_seconds``) and the rest, the elementwise and bookkeeping time a NumPy program can
still close. Each run is named by CPU, BLAS kernel and threads.
"""

from .report import blas_line, cpu_line, variables_line

#: fast / PyTorch at one thread; at two threads every layer's target is TWO_THREADS
TARGETS = {"LSTM": 1.05, "GRU": 0.95, "MultiHeadAttention": 1.05,
           "TransformerEncoderLayer": 1.0, "MLP": 0.95}
TWO_THREADS = 1.0


def target(layer, threads):
    return TARGETS[layer] if threads == 1 else TWO_THREADS


def target_rows(result, layer):
    """The forward+backward CPU rows of ``layer`` that its target is judged on."""
    rows = [r for r in result["rows"] if r["layer"] == layer and r["device"] == "cpu"
            and r["mode"] == "forward+backward"]
    return rows[1:] if len(rows) > 1 else rows


def _split(r):
    fast = r["fast"]["median"]
    gemm = r.get("gemm_seconds")
    if gemm is None:
        return "GEMM / rest not measured"
    return (f"{fast * 1e3:.1f} ms = GEMM {gemm * 1e3:.1f} + rest {(fast - gemm) * 1e3:.1f} ms "
            f"(PyTorch {r['torch']['median'] * 1e3:.1f} ms)")


def targets_markdown(runs):
    """Markdown: the machine of each run, a row per layer with its target, its ratios and
    whether it is met at each thread count of ``runs`` ({threads: result}), then the GEMM /
    rest split of every case that misses its target."""
    counts = sorted(runs)
    lines = [f"- {n} thread{'s' * (n > 1)}: {cpu_line(runs[n]['machine'])}; "
             f"{blas_line(runs[n]['machine'])}; {variables_line(runs[n]['machine'])}"
             for n in counts]
    lines += ["", "| layer | " + " | ".join(
        f"target, {n} thr | fast / PyTorch, {n} thr | met, {n} thr" for n in counts) + " |",
              "|---|" + "---:|---:|---|" * len(counts)]
    missed = []
    for layer in TARGETS:
        cells = []
        for n in counts:
            rows = [r for r in target_rows(runs[n], layer) if r["ratio_to_torch"]]
            if not rows:
                cells += [f"<= {target(layer, n):.2f}", "not measured", ""]
                continue
            ratios = "; ".join(f"{r['ratio_to_torch']:.2f} {r['label']}" for r in rows)
            met = all(r["ratio_to_torch"] <= target(layer, n) for r in rows)
            cells += [f"<= {target(layer, n):.2f}", ratios, "yes" if met else "no"]
            missed += [f"- {layer} {r['label']}, {n} thread{'s' * (n > 1)}: "
                       f"{r['ratio_to_torch']:.2f} > {target(layer, n):.2f}: {_split(r)}"
                       for r in rows if r["ratio_to_torch"] > target(layer, n)]
        lines.append(f"| {layer} | " + " | ".join(cells) + " |")
    if missed:
        lines += ["", "Missed, forward+backward of the fast tier split into its matrix products "
                  "(replayed alone at their shapes, same kernel and threads) and the rest:", ""]
        lines += missed
    return "\n".join(lines) + "\n"
