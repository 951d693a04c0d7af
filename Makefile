# Two commands matter: `make demo` and `make test`. Both set up everything they need.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: demo test lint bench system-deps clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev,service,timestamp,video,distributed]'
	touch $(STAMP)

## make demo: set up, then run the reference-case demo on built-in simulated data.
demo: $(STAMP)
	$(VENV)/bin/pollwatch demo

## make test: set up (Python packages and Debian chromium/postgresql), lint and format check, check the layers
## (lint-imports, docs/architecture.md), run every test.
test: $(STAMP) system-deps
	$(PY) -m ruff check src tests benchmarks
	$(PY) -m ruff format --check src tests benchmarks
	$(VENV)/bin/lint-imports
	$(PY) -m pytest

system-deps:
	bash scripts/system-deps.sh

lint: $(STAMP)
	$(PY) -m ruff check src tests benchmarks
	$(VENV)/bin/lint-imports
	$(PY) -m ruff format --check src tests benchmarks

bench: $(STAMP)
	for b in benchmarks/*.py; do $(PY) $$b || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
