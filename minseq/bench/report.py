"""Writers for a benchmark result: JSON, a markdown table, and two figures."""

import json
from pathlib import Path

from ..files import atomic_write
from ..plot import pyplot, save_figure

BACKEND_OF = {("cpu", "reference"): "minseq reference NumPy", ("cpu", "fast"): "minseq fast NumPy",
              ("cpu", "torch"): "PyTorch CPU", ("gpu", "reference"): "minseq reference CuPy",
              ("gpu", "fast"): "minseq fast CuPy", ("gpu", "torch"): "PyTorch CUDA"}
PEAK_OF = {"cpu": "numpy", "gpu": "cupy"}


def write_json(result, path):
    """The whole result as indented JSON, written atomically."""
    with atomic_write(path, "w") as f:
        json.dump(result, f, indent=1)
        f.write("\n")
    return Path(path)


def _ms(t):
    return f"{t['median'] * 1e3:.2f} ({t['min'] * 1e3:.2f}-{t['max'] * 1e3:.2f})"


def _cell(value, fmt):
    return "" if value is None else format(value, fmt)


def blas_line(machine):
    """"openblas 0.3.31, kernel SkylakeX, 1 thread": the BLAS, the kernel it ran, its
    threads. A result written before minseq recorded the kernel says so."""
    blas, threads = machine["blas"], machine["blas"]["threads"]
    kernel = blas.get("kernel", "not recorded") or "unknown"
    return (f"{blas['name']}, kernel {kernel}"
            + (f", {threads} thread{'s' * (threads > 1)}" if threads else ""))


def cpu_line(machine):
    """"AMD EPYC (avx2, avx512f), 2 cores": the CPU, its vector extensions, its cores."""
    extensions = machine.get("vector_extensions")
    return (machine["cpu"] + (f" ({', '.join(extensions) or 'no AVX'})" if extensions is not None
                              else "") + f", {machine['cores']} cores")


def variables_line(machine):
    """"BLAS variables: none" or the OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE in force."""
    variables = machine.get("blas_variables")
    if variables is None:
        return "BLAS variables: not recorded"
    return "BLAS variables: " + (", ".join(f"{k}={v}" for k, v in variables.items()) or "none")


def machine_line(result):
    m = result["machine"]
    gpu = m["gpu"]["name"] if m["gpu"] else "no GPU"
    torch = m["torch"]["version"] if m["torch"] else "not installed"
    peaks = ", ".join(f"{k} {v:.0f}" for k, v in result["gemm_gflops"].items())
    threads = ", ".join(f"{k}={v}" for k, v in m["thread_variables"].items()) or "library defaults"
    load = m.get("load_average_1_5_15min")
    return (f"{cpu_line(m)}; {gpu}. Python {m['python']}, NumPy {m['numpy']} "
            f"({blas_line(m)}), PyTorch {torch}"
            + (f" (threads: {m['torch']['threads']})" if m["torch"] else "")
            + f"; {variables_line(m)}; thread settings: {threads}"
            + ("" if load is None else f"; load average at the start {load[0]:.1f} (1 min), "
               f"{load[1]:.1f} (5 min)")
            + f". Large float32 GEMM, GFLOP/s: {peaks}.")


def markdown_table(result, device="cpu"):
    """One markdown table of the ``device`` rows: times in ms as median (min-max), the two
    minseq tiers and PyTorch side by side."""
    rows = [r for r in result["rows"] if r["device"] == device]
    if not rows:
        return ""
    peak = result["gemm_gflops"].get(PEAK_OF[device])
    ref, fast, theirs = (BACKEND_OF[(device, side)] for side in ("reference", "fast", "torch"))
    lines = [f"| layer | size | pass | {ref} ms | {fast} ms | {theirs} ms | fast / PyTorch | "
             f"reference / fast | GFLOP/s (fast) | of GEMM peak | peak MB |",
             "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        frac = r["gflops_fast"] / peak if r["gflops_fast"] and peak else None
        lines.append(
            f"| {r['layer']} | {r['label']} | {r['mode']} | "
            f"{_ms(r['reference']) if r['reference'] else 'no fast twin'} | {_ms(r['fast'])} | "
            f"{_ms(r['torch']) if r['torch'] else r['torch_note']} | "
            f"{_cell(r['ratio_to_torch'], '.2f')} | {_cell(r['reference_to_fast'], '.2f')} | "
            f"{_cell(r['gflops_fast'], '.0f')} | {'' if frac is None else f'{frac:.0%}'} | "
            f"{_cell(r['peak_memory_mb'], '.1f')} |")
    return "\n".join(lines)


def markdown_report(result):
    """The machine line, the CPU table, the GPU table (or why there is none), the notes."""
    parts = [f"Taken on: {machine_line(result)}",
             f"Settings: median of {result['settings']['repeats']} interleaved samples after "
             f"{result['settings']['warmup']} warm-up, {result['settings']['gap']} s idle gap "
             f"between samples; float32; reference = the plain layers of minseq.nn, fast = "
             f"the same model accelerated with minseq.fast (tested equal); fast / PyTorch "
             f"below 1: minseq faster; GFLOP/s counts matrix products only; peak MB = peak "
             f"host memory of one forward+backward (or training step) of the fast tier, by "
             f"tracemalloc.",
             "### CPU", markdown_table(result, "cpu")]
    gpu = markdown_table(result, "gpu")
    parts += ["### GPU", gpu or "No GPU rows in this run (see the notes)."]
    if result["notes"]:
        parts += ["Notes:", "\n".join(f"- {n}" for n in result["notes"])]
    return "\n\n".join(parts) + "\n"


def _series(result, device, side):
    """{layer: ([size labels], [forward+backward ms])} of one backend."""
    out = {}
    for r in result["rows"]:
        if r["device"] == device and r["mode"] != "forward" and r[side]:
            labels, times = out.setdefault(r["layer"], ([], []))
            labels.append(r["label"])
            times.append(r[side]["median"] * 1e3)
    return out


def time_figure(result, path):
    """Forward+backward time against size, one panel per layer, one line per backend."""
    layers = list(dict.fromkeys(r["layer"] for r in result["rows"] if r["mode"] != "forward"))
    cols = 3
    fig, axes = pyplot().subplots((len(layers) + cols - 1) // cols, cols,
                             figsize=(4.3 * cols, 3.3 * ((len(layers) + cols - 1) // cols)),
                             squeeze=False)
    for ax in axes.flat[len(layers):]:
        ax.axis("off")
    for (device, side), name in BACKEND_OF.items():
        for ax, layer in zip(axes.flat, layers):
            labels, times = _series(result, device, side).get(layer, ([], []))
            if times:
                ax.plot(range(len(times)), times, marker="o", label=name)
                ax.set_xticks(range(len(labels)), labels, fontsize=7)
    for ax, layer in zip(axes.flat, layers):
        ax.set_yscale("log")
        ax.set_title(layer, fontsize=10)
        ax.set_xlabel(next(r["dims"] for r in result["rows"] if r["layer"] == layer), fontsize=8)
        ax.set_ylabel("ms per forward+backward")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.suptitle("minseq (reference and fast) and PyTorch, float32, forward+backward "
                 "(lower is faster)")
    return save_figure(fig, path)


def speedup_figure(result, path):
    """GPU speed-up over the CPU (CPU time / GPU time) for each case; None without GPU rows."""
    cpu = {(r["layer"], r["label"]): r for r in result["rows"]
           if r["device"] == "cpu" and r["mode"] == "forward+backward"}
    pairs = [(k, cpu[k], r) for r in result["rows"] if r["device"] == "gpu"
             and r["mode"] == "forward+backward" for k in [(r["layer"], r["label"])] if k in cpu]
    if not pairs:
        return None
    fig, ax = pyplot().subplots(figsize=(10, 4))
    x = range(len(pairs))
    ours = [c["fast"]["median"] / g["fast"]["median"] for _, c, g in pairs]
    ax.bar([i - 0.2 for i in x], ours, 0.4, label="minseq fast: NumPy / CuPy")
    if all(c["torch"] and g["torch"] for _, c, g in pairs):
        theirs = [c["torch"]["median"] / g["torch"]["median"] for _, c, g in pairs]
        ax.bar([i + 0.2 for i in x], theirs, 0.4, label="PyTorch: CPU / CUDA")
    ax.set_xticks(list(x), [f"{k[0]}\n{k[1]}" for k, _, _ in pairs], fontsize=6, rotation=90)
    ax.set_yscale("log")
    ax.set_ylabel("GPU speed-up (CPU time / GPU time)")
    ax.set_title("GPU speed-up over the CPU, forward+backward, float32")
    ax.legend()
    ax.grid(alpha=0.3, axis="y")
    return save_figure(fig, path)


def write_report(result, out):
    """results.json, results.md and the figures under ``out``; returns the paths written."""
    out = Path(out)
    paths = [write_json(result, out / "results.json")]
    md = out / "results.md"
    with atomic_write(md, "w") as f:
        f.write(markdown_report(result))
    paths += [md, time_figure(result, out / "time_vs_size.png")]
    speedup = speedup_figure(result, out / "gpu_speedup.png")
    if speedup:
        paths.append(speedup)
    return paths
