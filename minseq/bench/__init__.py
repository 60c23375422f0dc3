"""Benchmarks: minseq against PyTorch (and NumPy against CuPy), timed honestly.

Host-side code (it may use numpy directly). The timing functions are the public API that the
curriculum's lessons use instead of timers of their own:

    from minseq.bench import time_call, compare
    t = time_call(fn, repeats=5, warmup=1)               # -> Timing(median, min, max, ...)
    both = compare({"numpy": f, "cupy": g}, sync=backend.synchronize)

``run_benchmark`` runs every case; ``write_report`` writes JSON, a markdown table and figures;
``python -m minseq bench`` and ``make bench`` do both.
"""

from .harness import run_benchmark
from .machine import gemm_probe, machine_info
from .report import write_report
from .timing import Timing, compare, time_call

__all__ = ["Timing", "time_call", "compare", "run_benchmark", "write_report", "machine_info",
           "gemm_probe"]
