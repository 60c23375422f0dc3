# Two commands do all set-up on a fresh machine with only python3 (with venv):
#   make lessons   every lesson, non-interactive, figures under out/lessons/
#   make notebooks every lesson as a notebook, executed, under out/notebooks/
#   make test      the test suite (light: no PyTorch)
#   make explore   the hypothesis tests on new random examples (make test replays fixed ones)
#   make mutation  mutation testing of data, tasks, strict, interop and fast (hours; report in
#                  tests/MUTATION.md)
# and three more for CI:
#   make parity    installs PyTorch's CPU build into the same .venv, runs the parity tests
#   make cupy-api  installs CuPy's package (no GPU needed), checks minseq's use of its API
#   make test-mpi  installs the mpi extra (mpi4py, mpich's mpiexec), runs the tests under mpiexec,
#                  then the distributed ones again on the strict backend (test-gpu's NCCL stage dry)
# and, for a machine with an NVIDIA GPU:
#   make gpu-check      under 8 minutes: preflight, the backend tests, gradient checks, three
#                       lessons and the LSTM / encoder benchmark rows on CuPy; logs and a summary
#                       under out/gpu-check/run-N/ (tools/gpu_check.py; exit 1 if a stage failed)
#   make test-gpu       everything again on CuPy: suite, gradient checks, lessons, benchmark;
#                       with 2 GPUs or more the distributed tests on CuPy, their sums over NCCL
#                       (tools/nccl_tests.py; with fewer it says in one line that it skipped)
#   make gpu-check-dry  the GPU check on a CPU, the strict backend in CuPy's place
# Where $(PYTHON) already imports cupy (a GPU machine with CuPy and PyTorch installed, maybe no
# package registry), the GPU targets run from the tree with it (PYTHONPATH=.) and install
# nothing: a second CuPy beside the first would break both. Elsewhere they install the gpu
# extra into .venv (GPU_EXTRA=gpu-cuda13 for CUDA 13's wheel). Without make:
#   PYTHONPATH=. python3 tools/gpu_check.py
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
GPU_EXTRA ?= gpu

.PHONY: lessons notebooks test explore mutation parity cupy-api test-mpi test-gpu gpu-check gpu-check-dry gradcheck bench bench-publish clean

# Decided only when a GPU target is asked for: importing cupy takes a while.
ifneq ($(filter test-gpu gpu-check,$(MAKECMDGOALS)),)
ifeq ($(shell $(PYTHON) -c "import cupy" >/dev/null 2>&1 && echo yes),yes)
GPU_PY  := PYTHONPATH=$(CURDIR) $(PYTHON)
GPU_ENV :=
GPU_MPI :=
else
GPU_PY  := $(PY)
GPU_ENV := $(VENV)/.installed-$(GPU_EXTRA)
GPU_MPI := $(VENV)/.installed-mpi
endif
endif

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

$(VENV)/.installed-dev: setup.cfg pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e '.[test,dev]'
	touch $@ $(VENV)/.installed-test $(VENV)/.installed

$(VENV)/.installed-parity: setup.cfg pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e '.[test,parity]'
	touch $@ $(VENV)/.installed-test $(VENV)/.installed

lessons: $(VENV)/.installed
	MPLBACKEND=Agg $(PY) -m minseq lessons all --out out/lessons

$(VENV)/.installed-notebooks: setup.cfg pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e '.[notebooks]'
	touch $@ $(VENV)/.installed

# Each lesson script (jupytext percent format) built into out/notebooks/NN_name.ipynb and
# executed in a fresh kernel, outputs and figures inline; a cell that raises (a failed check
# does, in the last cell) fails the target. Built with the lessons' --fast settings so that all
# of them execute in a few minutes: `make notebooks NOTEBOOK_FLAGS=` for the default settings.
NOTEBOOK_FLAGS ?= --fast
notebooks: $(VENV)/.installed-notebooks
	$(PY) -m minseq.lessons_support.build --out out/notebooks $(NOTEBOOK_FLAGS)

test: $(VENV)/.installed-test
	MPLBACKEND=Agg $(PY) -m pytest -q

# make test draws the same hypothesis examples every run (tests/conftest.py); this draws new
# ones, 200 per test, and keeps any that fail in .hypothesis so the next run replays them first.
explore: $(VENV)/.installed-test
	MPLBACKEND=Agg $(PY) -m pytest -q --hypothesis-profile explore

# mutmut plants one small bug at a time and runs the tests that reach it; each group in a
# scratch copy under out/mutation/, at the lowest priority (MUTATION_GROUPS: some of data,
# strict, interop, fast, tasks; "--again data": rerun data's survivors; "--children 2 tasks":
# two test processes at a time). Not part of CI.
MUTATION_GROUPS ?=
mutation: $(VENV)/.installed-dev
	$(PY) tests/mutation.py $(MUTATION_GROUPS)

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
	$(PY) tools/nccl_tests.py --dry-run

$(VENV)/.installed-gpu $(VENV)/.installed-gpu-cuda13: setup.cfg pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e '.[test,$(patsubst $(VENV)/.installed-%,%,$@)]'
	touch $@ $(VENV)/.installed-test $(VENV)/.installed

# CuPy's wheel installs and imports without a GPU: CI checks every name, Generator method,
# ufunc method and keyword minseq's compute code uses against it. MINSEQ_CUPY_API=1 makes a
# missing cupy a failure (plain make test skips that test).
cupy-api: $(VENV)/.installed-gpu
	MINSEQ_CUPY_API=1 MPLBACKEND=Agg $(PY) -m pytest -q tests/test_cupy_api.py

# On a GPU machine: stops at once, in one line, when CuPy sees no device; then the whole suite
# with CuPy as the backend of every backend-parametrised test (MINSEQ_BACKEND, see
# tests/conftest.py), but the tests marked mpi: the distributed ones run next, on CuPy with
# their sums over NCCL, where there are 2 GPUs for their 2 processes (else one line says they
# skipped; the mpi extra is installed where .venv serves); then every gradient check, every
# lesson and the benchmark on CuPy.
test-gpu: $(GPU_ENV) $(GPU_MPI)
	@$(GPU_PY) -c "import sys; from minseq.backend import cupy_available; ok, why = cupy_available(); sys.exit(0 if ok else 'make test-gpu: no usable GPU: ' + why)"
	MINSEQ_BACKEND=cupy MINSEQ_CUPY_API=1 MPLBACKEND=Agg $(GPU_PY) -m pytest -q -m "not mpi"
	$(GPU_PY) tools/nccl_tests.py
	$(GPU_PY) -m minseq gradcheck --backend cupy
	MPLBACKEND=Agg $(GPU_PY) -m minseq lessons all --backend cupy --out out/lessons-gpu
	$(NATIVE) $(GPU_PY) benchmarks/run.py $(BENCH_ARGS) --out out/bench-gpu

# The short GPU check (see the header); GPU_CHECK_ARGS passes options on, e.g. --stages tests.
gpu-check: $(GPU_ENV)
	$(GPU_PY) tools/gpu_check.py $(GPU_CHECK_ARGS)

gpu-check-dry: $(VENV)/.installed-test
	$(PY) tools/gpu_check.py --dry-run $(GPU_CHECK_ARGS)

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
