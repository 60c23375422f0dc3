# Two commands do all set-up on a fresh machine with only python3 (with venv):
#   make lessons   every lesson, non-interactive, figures under out/lessons/
#   make test      the test suite (light: no PyTorch)
# and two more for CI:
#   make parity    installs PyTorch's CPU build into the same .venv, runs the parity tests
#   make cupy-api  installs CuPy's package (no GPU needed), checks minseq's use of its API
#   make test-mpi  installs the mpi extra (mpi4py, mpich's mpiexec), runs the tests under mpiexec
# and one for a machine with an NVIDIA GPU:
#   make test-gpu  everything again on CuPy: suite, gradient checks, lessons, benchmark
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python

.PHONY: lessons test parity cupy-api test-mpi test-gpu gradcheck bench bench-publish clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

# Stamps re-install when the package metadata changes.
$(VENV)/.installed: setup.cfg pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: setup.cfg pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.installed

$(VENV)/.installed-parity: setup.cfg pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e '.[test,parity]'
	touch $@ $(VENV)/.installed-test $(VENV)/.installed

lessons: $(VENV)/.installed
	MPLBACKEND=Agg $(PY) -m minseq lessons all --out out/lessons

test: $(VENV)/.installed-test
	MPLBACKEND=Agg $(PY) -m pytest -q

# Every test that takes the torch fixture (marked parity) against PyTorch. MINSEQ_PARITY=1 turns
# a parity test's skip into a failure (tests/conftest.py), and pytest exits 5 when none ran:
# either fails the target.
parity: $(VENV)/.installed-parity
	MINSEQ_PARITY=1 MPLBACKEND=Agg $(PY) -m pytest -q -m parity

$(VENV)/.installed-mpi: setup.cfg pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e '.[test,mpi]'
	touch $@ $(VENV)/.installed-test $(VENV)/.installed

# Every test marked mpi starts mpiexec -n 2 itself (the mpich wheel's, in .venv/bin), each with
# a timeout, so a hang fails. MINSEQ_MPI=1 turns their skip (no mpi4py) into a failure, and
# pytest exits 5 when none ran.
test-mpi: $(VENV)/.installed-mpi
	MINSEQ_MPI=1 MPLBACKEND=Agg $(PY) -m pytest -q -m mpi

$(VENV)/.installed-gpu: setup.cfg pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e '.[test,gpu]'
	touch $@ $(VENV)/.installed-test $(VENV)/.installed

# CuPy's wheel installs and imports without a GPU: CI checks every name, Generator method,
# ufunc method and keyword minseq's compute code uses against it. MINSEQ_CUPY_API=1 makes a
# missing cupy a failure (plain make test skips that test).
cupy-api: $(VENV)/.installed-gpu
	MINSEQ_CUPY_API=1 MPLBACKEND=Agg $(PY) -m pytest -q tests/test_cupy_api.py

# On a GPU machine: stops at once, in one line, when CuPy sees no device; then the whole suite
# with CuPy as the backend of every backend-parametrised test (MINSEQ_BACKEND, see
# tests/conftest.py), every gradient check, every lesson and the benchmark on CuPy.
test-gpu: $(VENV)/.installed-gpu
	@$(PY) -c "import sys; from minseq.backend import cupy_available; ok, why = cupy_available(); sys.exit(0 if ok else 'make test-gpu: no usable GPU: ' + why)"
	MINSEQ_BACKEND=cupy MINSEQ_CUPY_API=1 MPLBACKEND=Agg $(PY) -m pytest -q
	$(PY) -m minseq gradcheck --backend cupy
	MPLBACKEND=Agg $(PY) -m minseq lessons all --backend cupy --out out/lessons-gpu
	$(MAKE) bench

gradcheck: $(VENV)/.installed
	$(PY) -m minseq gradcheck

# PyTorch is optional: without it the PyTorch columns say "not installed". One BLAS / PyTorch
# thread each by default: two-thread pools stall badly when the machine is shared; on an idle
# machine `make bench BENCH_ARGS=` keeps the libraries' own thread counts. A timing runs on
# OpenBLAS's native kernel: OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE, which some machines set
# because old OpenBLAS builds miscompute on some CPUs, are unset for the timed process alone
# (the tests keep them). `make bench` writes out/bench/; only `make bench-publish`, on a quiet
# machine, re-measures every committed table and figure (benchmarks/results/, the README's).
# It installs PyTorch (the parity extra): the targets are ratios to PyTorch.
NATIVE := env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE MPLBACKEND=Agg
BENCH_ARGS ?= --threads 1
bench: $(VENV)/.installed
	$(NATIVE) $(PY) benchmarks/run.py $(BENCH_ARGS) --out out/bench

bench-publish: $(VENV)/.installed-parity
	$(NATIVE) $(PY) benchmarks/publish.py $(PUBLISH_ARGS)

clean:
	rm -rf $(VENV) out .pytest_cache .hypothesis
