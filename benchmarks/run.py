"""Run the benchmark: ``python benchmarks/run.py [--quick] [--threads N] [--out DIR]``.

The same as ``python -m minseq bench`` (see ``--help`` for every option), on OpenBLAS's native
kernel: when OPENBLAS_CORETYPE or OPENBLAS_L2_SIZE is set, the script runs itself again
without them (README, benchmark method). Results go to out/bench/ by default; only
``--out benchmarks/results`` (``make bench-publish``) updates the committed ones. ``--threads N``
gives NumPy's BLAS, minseq's fast tier and PyTorch the same N threads: the libraries read these
variables when they load, so they are set here, before anything imports NumPy or PyTorch.
"""

import os
import sys

# PyTorch's, NumPy's BLAS and minseq's own (its fast tier's batch shards: minseq.threads)
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "MINSEQ_THREADS")


def set_thread_variables(argv):
    """Set THREAD_VARIABLES to the N of ``--threads N`` in ``argv``; returns argv without it."""
    if "--threads" in argv:
        i = argv.index("--threads")
        for name in THREAD_VARIABLES:
            os.environ[name] = argv[i + 1]
        argv = argv[:i] + argv[i + 2:]
    return argv


def main(argv):
    argv = set_thread_variables(argv)
    from minseq.cli import main as minseq_main
    return minseq_main(["bench", *argv])


if __name__ == "__main__":
    set_thread_variables(sys.argv[1:])        # before anything loads NumPy
    from minseq.bench.kernel import run_natively
    run_natively(sys.argv, "benchmarks/run.py")
    raise SystemExit(main(sys.argv[1:]))
