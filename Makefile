# Two commands do all set-up on a fresh machine with only python3 (with venv):
#   make lessons   every lesson, non-interactive, figures under out/lessons/
#   make test      the test suite (light: no PyTorch)
# and one more for CI:
#   make parity    installs PyTorch's CPU build into the same .venv, runs the parity tests
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python

.PHONY: lessons test parity gradcheck bench clean

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
