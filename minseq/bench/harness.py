"""Run the benchmark: every case on every backend present, checked, timed, reported.

    >>> from minseq.bench import run_benchmark
    >>> result = run_benchmark(quick=True)          # a dict, as written to results.json

For each case, on the CPU: build the minseq layer (the reference tier, ``minseq.nn``), its
accelerated copy (``minseq.fast.accelerate``) and its PyTorch twin, all with the same weights;
check that the three agree on forward outputs and input gradients, then time forward and
forward+backward of all three interleaved in one run (``compare``), measure the fast tier's
peak host memory for one forward+backward, and time its matrix products alone
(``split.gemm_seconds``: the GEMM part of its forward+backward). A layer with no fast twin (the MLP's Linear and
ReLU) is its own fast path: it is timed once, as "fast". On a GPU (CuPy and a CUDA device
present): the same on CuPy against PyTorch on CUDA, every sample synchronised with the device,
with PyTorch's TF32 off (its defaults may let matrix products and convolutions round to 10-bit
mantissas, which fails the 1e-3 agreement check and is not the float32 minseq computes).

A case whose sides disagree is still timed: its rows carry the failure in
``agreement_failure``, the result's notes repeat it, and the run goes on.
"""

import time

from .. import backend
from ..fast import TWINS, accelerate
from . import models
from .cases import (AgreementError, BenchCase, agreement, build_module, layer_cases, minseq_side,
                    torch_side)
from .kernel import forced_kernel_note, native_probe
from .machine import gemm_probe, machine_info, optional_torch
from .report import blas_line, variables_line
from .split import gemm_seconds
from .timing import compare

MODES = ("forward", "forward+backward")


def _settings(quick, repeats, warmup, gap):
    if quick:
        return {"repeats": repeats or 2, "warmup": warmup or 1, "gap": 0.0 if gap is None else gap}
    return {"repeats": repeats or 5, "warmup": warmup or 1, "gap": 0.2 if gap is None else gap}


def _ratio(a, b):
    return a.median / b.median if a and b else None


def _row(case, mode, device, timings, flops, peak, err, torch_note, reference_note=None,
         failure=None):
    fast, reference, theirs = (timings.get(k) for k in ("fast", "reference", "torch"))
    return {
        "layer": case.layer, "size": list(case.size), "label": case.label, "dims": case.dims,
        "mode": mode, "device": device,
        "flops": flops or None,
        "fast": fast and fast.as_dict(),
        "reference": reference and reference.as_dict(),
        "reference_note": reference_note,
        "torch": theirs and theirs.as_dict(),
        "torch_note": torch_note,
        "ratio_to_torch": _ratio(fast, theirs),
        "reference_ratio_to_torch": _ratio(reference, theirs),
        "reference_to_fast": _ratio(reference, fast),
        "gflops_fast": flops / fast.median / 1e9 if flops else None,
        "gflops_torch": flops / theirs.median / 1e9 if theirs and flops else None,
        "agreement_error": err,
        "agreement_failure": failure,
        "peak_memory_mb": peak,
    }


NO_TWIN = "no fast twin: the layer is its own fast path"


def no_tf32(torch):
    """PyTorch on CUDA in true float32: TF32 off for matrix products and cuDNN."""
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False


def bench_case(case, torch, device, settings, log=print):
    """Rows (forward, forward+backward) of one case on "cpu" or "gpu"; the active backend
    must match (numpy / cupy). If the tiers or PyTorch disagree, the rows say so in
    ``agreement_failure`` (the AgreementError's message) and the case is timed all the same."""
    module = build_module(case)
    fast_module = accelerate(module.copy())
    fast = minseq_side(case, fast_module)
    sides, errors, failures, note, reference_note = {"fast": fast}, [0.0], [], None, NO_TWIN

    def check(ours, theirs, name):
        try:
            errors.append(agreement(ours.step(), theirs.step(), name=name))
        except AgreementError as exc:
            failures.append(str(exc))

    if any(type(m) in TWINS.values() for m in fast_module.modules()):
        sides["reference"] = minseq_side(case, module)
        check(sides["reference"], fast, case.name + " reference")
        reference_note = None
    if torch is None:
        note = "not installed"
    elif device == "gpu" and not torch.cuda.is_available():
        note = "no CUDA device for PyTorch"
    else:
        if device == "gpu":
            no_tf32(torch)
        theirs = torch_side(case, torch, module, "cuda" if device == "gpu" else "cpu")
        check(fast, theirs, case.name)
        sides["torch"] = theirs
    err, failure = max(errors), "; ".join(failures) or None
    if failure:
        log(f"  {device} {case.name}: DISAGREES, timed anyway: {failure}")
    syncs = {name: backend.synchronize for name in sides}
    if "torch" in sides:
        syncs["torch"] = torch.cuda.synchronize if device == "gpu" else None
    peak = models.peak_memory_mb(fast.step) if device == "cpu" else None
    rows = []
    for mode in MODES:
        fns = {name: (s.forward if mode == "forward" else s.step) for name, s in sides.items()}
        timings = compare(fns, sync=syncs, **settings)
        flops = case.flops * (1 if mode == "forward" else 3)
        rows.append(_row(case, mode, device, timings, flops, peak, err, note, reference_note,
                         failure))
        r = rows[-1]
        ref = f"reference {r['reference']['median'] * 1e3:9.2f} ms" if r["reference"] else ""
        log(f"  {device} {case.name:<44} {mode:<17} fast {timings['fast'].median * 1e3:9.2f} ms"
            f"  {ref:<24}"
            + (f"  fast/PyTorch {r['ratio_to_torch']:5.2f}" if r["ratio_to_torch"]
               else f"  (PyTorch {note})"))
    for r in rows:    # the fast tier's products replayed alone: the GEMM part of its time
        r["gemm_seconds"] = (gemm_seconds(case, settings["repeats"])
                             if device == "cpu" and r["mode"] == "forward+backward" else None)
    return rows


def bench_models(quick, settings, notes, log=print, names=None):
    """Rows for one training step of each next-item model (``names``: these labels only),
    reference and accelerated interleaved."""
    rows = []
    for name in names or models.MODELS:
        for size in models.model_sizes(name, quick):
            sides = {tier: models.model_step_side(name, size, fast=tier == "fast")
                     for tier in ("reference", "fast")}
            timings = compare({tier: side.step for tier, side in sides.items()}, **settings)
            case = BenchCase(f"{name} training step", size, "B, T, n_items, d", 0, None, ())
            rows.append(_row(case, "training step", "cpu", timings, None,
                             models.peak_memory_mb(sides["fast"].step), None,
                             "no PyTorch counterpart"))
            log(f"  cpu {name} {case.label:<30} training step fast "
                f"{timings['fast'].median * 1e3:9.2f} ms  reference "
                f"{timings['reference'].median * 1e3:9.2f} ms")
    return rows


def kernel_check(result, n):
    """The one-line note (``kernel.forced_kernel_note``) when a BLAS variable forces an older
    OpenBLAS kernel than this CPU's: the native kernel and its GEMM probe come from a child
    process without the variables, on the same thread count, and are kept in
    ``result["native_kernel"]``. None, and no child, when no variable is set."""
    m = result["machine"]
    variables = m["blas_variables"]
    if not variables:
        return None
    native = result["native_kernel"] = native_probe(n, m["blas"]["threads"] or 1)
    return forced_kernel_note(variables, m["blas"]["kernel"], m["vector_extensions"],
                              result["gemm_gflops"]["numpy"], native)


def run_benchmark(quick=False, repeats=None, warmup=None, gap=None, only=None, gpu=True,
                  log=print):
    """Every case (``only``: layer names to keep) on every backend present -> the result dict
    (machine, GEMM peaks, settings, rows, notes). Restores the active backend afterwards."""
    settings = _settings(quick, repeats, warmup, gap)
    torch = optional_torch()
    notes = []
    if torch is None:
        notes.append("PyTorch is not installed: the PyTorch columns say 'not installed'.")
    cases = [c for c in layer_cases(quick) if not only or c.layer in only]
    started = time.time()
    log("machine and GEMM probe ...")
    n = 256 if quick else 2048
    result = {"machine": machine_info(), "settings": dict(settings, quick=quick),
              "gemm_gflops": gemm_probe(n=n), "rows": [], "notes": notes}
    log(f"BLAS: {blas_line(result['machine'])}; {variables_line(result['machine'])}")
    forced = kernel_check(result, n)
    if forced:
        log(forced)
        notes.append(forced)
    previous = backend.get_backend()
    try:
        backend.use_backend("numpy")
        for case in cases:
            result["rows"] += bench_case(case, torch, "cpu", settings, log)
        names = [m for m in models.MODELS if not only or m in only]
        if names:
            result["rows"] += bench_models(quick, settings, notes, log, names)
        ok, reason = backend.cupy_available()
        if gpu and ok:
            backend.use_backend("cupy")
            for case in cases:
                result["rows"] += bench_case(case, torch, "gpu", settings, log)
        else:
            notes.append("No GPU rows: " + (reason if gpu else "GPU runs switched off") + ".")
    finally:
        backend.use_backend(previous)
    notes += sorted({f"Disagreement ({r['device']}): {r['agreement_failure']}"
                     for r in result["rows"] if r["agreement_failure"]})
    result["seconds"] = round(time.time() - started, 1)
    return result


__all__ = ["run_benchmark", "bench_case", "AgreementError"]
