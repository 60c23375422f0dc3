"""What a benchmark ran on: CPU, its vector extensions, cores, BLAS and its kernel, the BLAS
variables set, threads, GPU, library versions; the GEMM probe."""

import contextlib
import io
import os
import platform
import sys
import warnings

import numpy

from .. import __version__, backend
from .kernel import blas_pool, blas_variables, vector_extensions
from .timing import time_call

THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def optional_torch():
    """The ``torch`` module, or None when PyTorch is not installed (it is never required)."""
    try:
        import torch
    except ImportError:
        return None
    return torch


def cpu_model():
    """The CPU's marketing name from /proc/cpuinfo (Linux), else what ``platform`` knows."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def blas_info():
    """The BLAS behind NumPy, its kernel (OpenBLAS's ``architecture``: the code path it picked
    for this CPU, or was told to take) and its thread count: threadpoolctl where installed, else
    the library name from ``numpy.show_config``."""
    try:
        p = blas_pool()
    except ImportError:
        p = None
    if p is not None:
        return {"name": f"{p.get('internal_api')} {p.get('version')}",
                "kernel": p.get("architecture"), "threads": p.get("num_threads"),
                "source": "threadpoolctl"}
    text = io.StringIO()
    with contextlib.redirect_stdout(text), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # NumPy asks for pyyaml to format this nicer
        try:
            numpy.show_config()
        except Exception:  # show_config's format changes between NumPy versions
            pass
    names = [w for w in ("openblas", "mkl", "blis", "accelerate") if w in text.getvalue().lower()]
    return {"name": names[0] if names else "unknown", "kernel": None, "threads": None,
            "source": "numpy.show_config (install threadpoolctl for the thread count)"}


def gpu_info():
    """{"name", "cupy"} of CUDA device 0 under CuPy, or None without a usable GPU."""
    ok, _ = backend.cupy_available()
    if not ok:
        return None
    import cupy
    props = cupy.cuda.runtime.getDeviceProperties(0)
    name = props["name"]
    return {"name": name.decode() if isinstance(name, bytes) else name,
            "cupy": cupy.__version__, "memory_gib": round(props["totalGlobalMem"] / 2**30, 1)}


def machine_info():
    """One dict describing this machine and the software that was timed."""
    torch = optional_torch()
    import matplotlib
    info = {
        "cpu": cpu_model(), "vector_extensions": vector_extensions(), "cores": os.cpu_count(),
        "platform": platform.platform(),
        "python": sys.version.split()[0], "numpy": numpy.__version__,
        "matplotlib": matplotlib.__version__, "minseq": __version__,
        "blas": blas_info(),
        "blas_variables": blas_variables(),
        "thread_variables": {k: os.environ[k] for k in THREAD_VARIABLES if k in os.environ},
        "gpu": gpu_info(),
        # other work on a shared machine slows both sides, and multi-threaded BLAS the most
        "load_average_1_5_15min": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        "torch": None if torch is None else {
            "version": torch.__version__, "threads": torch.get_num_threads(),
            "cuda": torch.cuda.is_available() and torch.cuda.get_device_name(0)},
    }
    return info


def gemm_gflops(matmul, make, n=2048, repeats=3, sync=None):
    """Throughput of one large float32 square product C = A B, in GFLOP/s (2 n^3 / seconds).

    ``make(shape)`` builds a random float32 array in the library under test; ``matmul(a, b)``
    multiplies two of them; ``sync`` waits for a device."""
    a, b = make((n, n)), make((n, n))
    t = time_call(lambda: matmul(a, b), repeats=repeats, warmup=1, sync=sync, number=1)
    return 2 * n ** 3 / t.min / 1e9


def gemm_probe(n=2048, repeats=3):
    """{library: GFLOP/s} of a large float32 GEMM on every library present: the ceiling that
    the table's "fraction of peak" refers to."""
    rng = numpy.random.default_rng(0)
    host = lambda shape: rng.standard_normal(shape, dtype=numpy.float32)  # noqa: E731
    peaks = {"numpy": gemm_gflops(numpy.matmul, host, n, repeats)}
    torch = optional_torch()
    if torch is not None:
        peaks["torch-cpu"] = gemm_gflops(torch.matmul, lambda s: torch.from_numpy(host(s)), n,
                                         repeats)
    if gpu_info() is not None:
        import cupy
        peaks["cupy"] = gemm_gflops(cupy.matmul, lambda s: cupy.asarray(host(s)), 4 * n, repeats,
                                    sync=cupy.cuda.get_current_stream().synchronize)
        if torch is not None and torch.cuda.is_available():
            peaks["torch-cuda"] = gemm_gflops(
                torch.matmul, lambda s: torch.from_numpy(host(s)).cuda(), 4 * n, repeats,
                sync=torch.cuda.synchronize)
    return peaks
