"""The distributed tests on CuPy: each process on a GPU of its own, every sum over NCCL.

    python3 tools/nccl_tests.py              # on a GPU machine (make test-gpu runs it)
    python3 tools/nccl_tests.py --dry-run    # on a CPU: "strict" in CuPy's place (make test-mpi)

NCCL takes one GPU per process, so ``mpiexec -n 2`` needs 2 GPUs. With fewer this says so in
one line (``skipped: 1 GPU(s), NCCL needs 2``) and exits 0. With 2 or more it runs the tests
marked mpi in tests/parallel/test_distributed.py with MINSEQ_MPI_BACKEND=cupy: the processes
they start compute on CuPy, process r on GPU r % count (minseq.backend.switch), and sum over
NCCL (minseq.parallel.comm.for_arrays); MINSEQ_MPI=1 makes a missing mpi4py or mpiexec a
failure, not a skip. The exit status is pytest's. Arguments after the options go to pytest
(``-k evaluate``, ``-x``).

``--dry-run`` counts no GPU: the same tests with the strict backend (NumPy that refuses what
CuPy refuses), whose sums go over MPI through host copies (StagedCommunicator), so a CPU checks
that every buffer the processes sum, and every script the tests run, keeps to the device path.
"""

import argparse
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TESTS = "tests/parallel/test_distributed.py"
#: GPUs NCCL needs for the tests' 2 processes: one each
NEEDED = 2


def gpu_count():
    """How many CUDA devices CuPy sees: 0 without CuPy or a working driver."""
    try:
        import cupy
        return int(cupy.cuda.runtime.getDeviceCount())
    except Exception:  # ImportError, or one of CUDA's several driver and runtime errors
        return 0


def plan(dry_run, gpus):
    """(the backend of the tests' processes, None), or (None, the line that says they skip)."""
    if dry_run:
        return "strict", None
    if gpus < NEEDED:
        return None, f"skipped: {gpus} GPU(s), NCCL needs {NEEDED}"
    return "cupy", None


def environment(backend):
    """This environment, minseq from this tree, and the tests' settings for ``backend``."""
    env = dict(os.environ, MINSEQ_MPI="1", MINSEQ_MPI_BACKEND=backend, MPLBACKEND="Agg",
               PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT),
                                                        os.environ.get("PYTHONPATH")])))
    env.pop("MINSEQ_BACKEND", None)   # the tests' own process reads files: NumPy is its backend
    return env


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], allow_abbrev=False)
    parser.add_argument("--dry-run", action="store_true",
                        help="no GPU: the strict backend in CuPy's place, sums over MPI")
    args, pytest_args = parser.parse_known_args(argv)
    backend, skipped = plan(args.dry_run, 0 if args.dry_run else gpu_count())
    if skipped:
        print(skipped, flush=True)
        return 0
    print(f"nccl tests: {TESTS} under mpiexec -n 2, the processes on {backend}", flush=True)
    return subprocess.call([sys.executable, "-m", "pytest", "-q", "-m", "mpi", TESTS,
                            *pytest_args], cwd=ROOT, env=environment(backend))


if __name__ == "__main__":
    sys.exit(main())
