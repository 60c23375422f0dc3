"""Run the benchmark: ``python benchmarks/run.py [--quick] [--threads N] [--out DIR]``.

The same as ``python -m minseq bench`` (see ``--help`` for every option); results go to
benchmarks/results/ by default. ``--threads N`` gives NumPy's BLAS, minseq's fast tier and PyTorch the
same N threads: the libraries read these variables when they load, so they are set here, before
anything imports NumPy or PyTorch.
"""

import os
import sys

# PyTorch's, NumPy's BLAS and minseq's own (its fast tier's batch shards: minseq.threads)
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "MINSEQ_THREADS")


def main(argv):
    if "--threads" in argv:
        i = argv.index("--threads")
        for name in THREAD_VARIABLES:
            os.environ[name] = argv[i + 1]
        argv = argv[:i] + argv[i + 2:]
    from minseq.cli import main as minseq_main
    return minseq_main(["bench", *argv])


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
