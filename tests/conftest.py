"""Shared fixtures: every layer test runs once per backend; CuPy cases skip without a GPU."""

import os

import numpy as np
import pytest
from hypothesis import HealthCheck, settings
from hypothesis.database import DirectoryBasedExampleDatabase

import minseq
from minseq import backend

os.environ.setdefault("MPLBACKEND", "Agg")

# The xp fixture only switches the backend, so hypothesis may reuse it across examples.
# The suite (make test, CI) draws the same examples on every run and keeps no database: a
# random draw never turns a run red by chance, and a red run is red again on rerun.
# `make explore` (the "explore" profile) draws new examples, more of them, and keeps those
# that fail in .hypothesis; a case it finds is pinned in the test it broke, with its fix.
_COMMON = dict(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
settings.register_profile("ci", max_examples=25, derandomize=True, database=None,
                          print_blob=True, **_COMMON)
# explicit: with CI set, hypothesis's own defaults are derandomised and keep no database
settings.register_profile("explore", max_examples=200, derandomize=False,
                          database=DirectoryBasedExampleDatabase(".hypothesis/examples"),
                          **_COMMON)
# `make mutation` runs a group's tests once per planted bug: fewer draws keep that in hours.
settings.register_profile("mutation", max_examples=5, derandomize=True, database=None,
                          **_COMMON)
settings.load_profile("ci")

_CUPY_OK, _CUPY_WHY = backend.cupy_available()
# "strict" is NumPy that refuses what CuPy refuses (minseq.strict): it runs everywhere, so CI
# without a GPU still catches device mistakes.
BACKEND_PARAMS = [
    pytest.param("numpy", id="numpy"),
    pytest.param("strict", id="strict"),
    pytest.param("cupy", id="cupy", marks=pytest.mark.skipif(
        not _CUPY_OK, reason=f"CuPy backend unavailable: {_CUPY_WHY}")),
]
# MINSEQ_BACKEND (make test-gpu sets "cupy") makes that backend the one every
# backend-parametrised test runs on; chosen, it never skips: a CuPy that cannot run fails each
# test. Tests written for host arrays (no xp fixture) run on NumPy either way.
CHOSEN = os.environ.get("MINSEQ_BACKEND", "").strip().lower()
if CHOSEN:
    BACKEND_PARAMS = [pytest.param(CHOSEN, id=CHOSEN)]
minseq.use_backend("numpy")


@pytest.fixture(params=BACKEND_PARAMS)
def xp(request):
    """The array module of each available backend, made active for the test."""
    minseq.use_backend(request.param)
    minseq.manual_seed(0)
    return backend.xp


@pytest.fixture(autouse=True)
def _host_backend():
    """Whatever a test switched to, the next one starts on NumPy."""
    yield
    minseq.use_backend("numpy")


@pytest.fixture
def torch():
    """PyTorch, for the parity tests (every test that takes this fixture is marked ``parity``).
    Without it they skip, so ``make test`` stays light; ``make parity`` installs it and sets
    MINSEQ_PARITY=1, under which a missing PyTorch is a failure, never a skip."""
    try:
        import torch as module
    except ImportError:
        if os.environ.get("MINSEQ_PARITY"):
            pytest.fail("MINSEQ_PARITY is set but PyTorch is not installed")
        pytest.skip("PyTorch not installed (make parity installs it)")
    return module


def pytest_collection_modifyitems(items):
    for item in items:
        if "torch" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.parity)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Under MINSEQ_PARITY a parity test that skips, for whatever reason, fails: ``make parity``
    must run every one of them."""
    outcome = yield
    report = outcome.get_result()
    if (report.skipped and not hasattr(report, "wasxfail") and os.environ.get("MINSEQ_PARITY")
            and item.get_closest_marker("parity")):
        reason = report.longrepr[-1] if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome = "failed"
        report.longrepr = f"parity test skipped under MINSEQ_PARITY: {reason}"


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


def pytest_terminal_summary(terminalreporter):
    """The bad-input coverage: cases passed per public entry point (tests that record an
    ``entry_point`` property), so a missing entry point shows."""
    counts = {}
    for report in terminalreporter.stats.get("passed", []):
        for key, value in report.user_properties:
            if key == "entry_point":
                counts[value] = counts.get(value, 0) + 1
    if not counts:
        return
    terminalreporter.write_sep("-", f"bad-input cases passed: {sum(counts.values())} over "
                                    f"{len(counts)} public entry points (each backend counts)")
    cells = [f"{name:<29}{n:>4}" for name, n in sorted(counts.items())]
    for i in range(0, len(cells), 3):
        terminalreporter.write_line("   ".join(cells[i:i + 3]))


@pytest.fixture(scope="module")
def mpiexec():
    """The mpich wheel's mpiexec beside this Python, for the tests marked ``mpi``: they skip
    without the mpi extra, and fail instead when MINSEQ_MPI is set (make test-mpi)."""
    from mpi_processes import find_mpiexec
    return find_mpiexec()
