# `make demo` and `make test` work on a fresh machine: they create .venv and install the project.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint types unit bench clean

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

# The whole loop (scan, propose, approve, staged rollout, automatic rollback) on the bundled
# sample, in ./alpha-demo/ (cleared and rewritten on each run).
demo: $(STAMP)
	$(BIN)/alpha demo

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

types: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest -n 2 -q

test: lint types unit

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_evaluate.py

clean:
	rm -rf $(VENV) .alpha alpha-demo .pytest_cache .mypy_cache .ruff_cache
