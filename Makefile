# Two commands do all set-up on a fresh machine with only python3 (with venv):
#   make lessons   every lesson, non-interactive, figures under out/lessons/
#   make test      the test suite (light: no PyTorch)
#   make explore   the hypothesis tests on new random examples (make test replays fixed ones)
#   make mutation  mutation testing of data, tasks, strict, interop and fast (hours; report in
#                  tests/MUTATION.md)
# and two more for CI:
#   make parity    installs PyTorch's CPU build into the same .venv, runs the parity tests
#   make cupy-api  installs CuPy's package (no GPU needed), checks minseq's use of its API
# and one for a machine with an NVIDIA GPU:
#   make test-gpu  everything again on CuPy: suite, gradient checks, lessons, benchmark
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python

.PHONY: lessons test explore mutation parity cupy-api test-gpu gradcheck bench clean

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

test: $(VENV)/.installed-test
	MPLBACKEND=Agg $(PY) -m pytest -q

# make test draws the same hypothesis examples every run (tests/conftest.py); this draws new
# ones, 200 per test, and keeps any that fail in .hypothesis so the next run replays them first.
explore: $(VENV)/.installed-test
	MPLBACKEND=Agg $(PY) -m pytest -q --hypothesis-profile explore

# mutmut plants one small bug at a time and runs the tests that reach it; each group in a
# scratch copy under out/mutation/, at the lowest priority (MUTATION_GROUPS: some of data,
# strict, interop, fast, tasks). Not part of CI.
MUTATION_GROUPS ?=
mutation: $(VENV)/.installed-dev
	$(PY) tests/mutation.py $(MUTATION_GROUPS)

# Every test that takes the torch fixture (marked parity) against PyTorch. MINSEQ_PARITY=1 turns
# a parity test's skip into a failure (tests/conftest.py), and pytest exits 5 when none ran:
# either fails the target.
parity: $(VENV)/.installed-parity
	MINSEQ_PARITY=1 MPLBACKEND=Agg $(PY) -m pytest -q -m parity

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
# machine `make bench BENCH_ARGS=` keeps the libraries' own thread counts.
BENCH_ARGS ?= --threads 1
bench: $(VENV)/.installed
	MPLBACKEND=Agg $(PY) benchmarks/run.py $(BENCH_ARGS) --out benchmarks/results

clean:
	rm -rf $(VENV) out .pytest_cache .hypothesis
