"""The NCCL stage of make test-gpu (tools/nccl_tests.py): with fewer than 2 GPUs it says in one
line that it skipped; with 2 or more it runs the distributed tests with their processes on CuPy;
its dry run runs them here, the strict backend in CuPy's place."""

import importlib.util
import os
import subprocess
import sys

import pytest

from paths import ROOT

SCRIPT = ROOT / "tools" / "nccl_tests.py"


@pytest.fixture
def tool():
    spec = importlib.util.spec_from_file_location("nccl_tests", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def started(tool, monkeypatch):
    """The commands the tool starts, and their environments (none is run)."""
    calls = []
    monkeypatch.setattr(tool.subprocess, "call",
                        lambda argv, cwd, env: calls.append((argv, env)) or 0)
    return calls


@pytest.mark.parametrize("gpus", [0, 1])
def test_fewer_than_two_gpus_is_one_line_saying_it_skipped(tool, started, monkeypatch, capsys,
                                                          gpus):
    monkeypatch.setattr(tool, "gpu_count", lambda: gpus)
    assert tool.main([]) == 0
    assert capsys.readouterr().out == f"skipped: {gpus} GPU(s), NCCL needs 2\n"
    assert started == []


@pytest.mark.parametrize("gpus", [2, 8])
def test_two_gpus_or_more_run_the_distributed_tests_on_cupy(tool, started, monkeypatch, gpus):
    monkeypatch.setattr(tool, "gpu_count", lambda: gpus)
    monkeypatch.setenv("MINSEQ_BACKEND", "cupy")
    assert tool.main(["-k", "evaluate"]) == 0
    [(argv, env)] = started
    assert argv == [sys.executable, "-m", "pytest", "-q", "-m", "mpi",
                    "tests/parallel/test_distributed.py", "-k", "evaluate"]
    assert (env["MINSEQ_MPI_BACKEND"], env["MINSEQ_MPI"]) == ("cupy", "1")
    assert "MINSEQ_BACKEND" not in env and str(ROOT) in env["PYTHONPATH"].split(os.pathsep)


def test_the_dry_run_counts_no_gpu_and_puts_strict_in_cupy_s_place(tool, started, monkeypatch):
    monkeypatch.setattr(tool, "gpu_count", lambda: pytest.fail("the dry run counted GPUs"))
    assert tool.main(["--dry-run"]) == 0
    assert started[0][1]["MINSEQ_MPI_BACKEND"] == "strict"


def test_without_cupy_there_is_no_gpu(tool, monkeypatch):
    monkeypatch.setitem(sys.modules, "cupy", None)          # import cupy raises ImportError
    assert tool.gpu_count() == 0


@pytest.mark.mpi
def test_the_dry_run_runs_the_distributed_tests_on_the_strict_backend(mpiexec):
    """Through the tool, one test: its processes compute on the strict backend and sum through
    the StagedCommunicator."""
    done = subprocess.run([sys.executable, str(SCRIPT), "--dry-run", "-k",
                           "sums_over_the_communicator"], capture_output=True, text=True,
                          cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.splitlines()[0] == ("nccl tests: tests/parallel/test_distributed.py under "
                                           "mpiexec -n 2, the processes on strict")
    assert "1 passed" in done.stdout
