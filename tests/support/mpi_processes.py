"""Processes under ``mpiexec`` for the tests that start them (tests/parallel/test_distributed.py,
lesson 17): the ``mpiexec`` fixture finds the mpich wheel's program beside this Python, and
``run`` starts a command in a session of its own, killed whole on timeout (a hang fails the test).
Without the ``mpi`` extra the tests skip; ``make test-mpi`` installs it and sets MINSEQ_MPI=1,
under which a skip is a failure.

MINSEQ_MPI_BACKEND names the backend of the processes started (``environment``): unset, the
environment's (NumPy); "cupy" (``make test-gpu`` on 2 GPUs: each process its GPU, the sums over
NCCL) or "strict" (its dry run on a CPU: tools/nccl_tests.py)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from minseq.bench.sessions import run_in_session
from paths import ROOT

BIN = Path(sys.executable).parent
TIMEOUT = 60


def find_mpiexec():
    """The path of mpiexec beside this Python (the ``mpiexec`` fixture of tests/conftest.py);
    a skip without it, a failure when MINSEQ_MPI is set."""
    try:
        import mpi4py  # noqa: F401
    except ImportError as exc:
        missing = f"mpi4py does not import ({exc})"
    else:
        program = BIN / "mpiexec"
        missing = None if program.exists() else f"no mpiexec beside {sys.executable}"
    if missing:
        if os.environ.get("MINSEQ_MPI"):
            pytest.fail(f"MINSEQ_MPI is set but {missing}")
        pytest.skip(f"{missing} (make test-mpi installs the mpi extra)")
    return str(BIN / "mpiexec")


def environment(env=None):
    """The environment of a started process: this one's, minseq from this tree, figures to
    files, MINSEQ_MPI_BACKEND (when set) as its backend, and ``env`` over them."""
    chosen = os.environ.get("MINSEQ_MPI_BACKEND", "").strip()
    return dict(os.environ, PYTHONPATH=str(ROOT), MPLBACKEND="Agg",
                **({"MINSEQ_BACKEND": chosen} if chosen else {}), **(env or {}))


def run(command, processes=None, mpiexec=None, timeout=TIMEOUT, env=None):
    """Run ``command`` (a list), under ``mpiexec -n processes`` when given, in a session of its
    own that is killed whole on timeout (a hang fails the test)."""
    if processes:
        command = [mpiexec, "-n", str(processes)] + command
    try:
        return run_in_session(command, timeout, cwd=ROOT, env=environment(env))
    except subprocess.TimeoutExpired:
        pytest.fail(f"timed out after {timeout} s: {' '.join(command)}")
