# Two commands matter: `make demo` and `make test`. Both set up everything they need.
# `make check` is the quick loop while working (< 2 min on 2 cores); `make test` is the whole.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

# pytest-xdist: one worker per core; a module's tests (a class's, for test classes) stay on one
# worker, so the module-scoped fixtures (simulated elections, real-data fits) are built once.
PYTEST_PARALLEL ?= -n auto --dist loadscope
# make check's subset: no long runs, no PostgreSQL, no browser, no real data
FAST_TESTS := -m "not slow and not postgres and not browser and not realdata"

.PHONY: demo test check lint typecheck bench system-deps clean install-test

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev,service,timestamp,video,census,distributed]'
	touch $(STAMP)

## make demo: set up, then run the reference-case demo on built-in simulated data.
demo: $(STAMP)
	$(VENV)/bin/pollwatch demo

## make test: set up (Python packages and Debian chromium/postgresql), lint and format check, check the layers
## (lint-imports, docs/architecture.md), mypy against its baseline, run every test (2 workers on 2 cores).
test: $(STAMP) system-deps
	$(PY) -m ruff check src tests benchmarks scripts
	$(PY) -m ruff format --check src tests benchmarks scripts
	$(VENV)/bin/lint-imports
	$(PY) scripts/mypy_baseline.py
	$(PY) -m pytest $(PYTEST_PARALLEL)

## make check: the fast subset while working: the same lint, layer and mypy checks, then the tests
## not marked slow, postgres, browser or realdata (docs/testing.md). No system packages needed.
check: $(STAMP)
	$(PY) -m ruff check src tests benchmarks scripts
	$(PY) -m ruff format --check src tests benchmarks scripts
	$(VENV)/bin/lint-imports
	$(PY) scripts/mypy_baseline.py
	$(PY) -m pytest $(PYTEST_PARALLEL) $(FAST_TESTS)

## make install-test: build the wheel and install it in a fresh venv (pollwatch --version, pollwatch
## demo from an empty directory), and install every dependency at its floor (constraints/minimum.txt)
## to run a smoke subset. Minutes each, from the package index: `make test` skips them unless
## POLLWATCH_INSTALL_TESTS=1 is set (tests/packaging/).
install-test: $(STAMP)
	POLLWATCH_INSTALL_TESTS=1 $(PY) -m pytest -p no:xdist tests/packaging

## make typecheck: mypy on the package, compared with mypy-baseline.txt (it may only shrink).
typecheck: $(STAMP)
	$(PY) scripts/mypy_baseline.py

system-deps:
	bash scripts/system-deps.sh

lint: $(STAMP)
	$(PY) -m ruff check src tests benchmarks scripts
	$(VENV)/bin/lint-imports
	$(PY) -m ruff format --check src tests benchmarks scripts

bench: $(STAMP)
	for b in benchmarks/*.py; do $(PY) $$b || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache .numba_cache
