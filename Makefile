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

# Until `alpha demo` runs the whole loop, the demo walks the policy engine and usage on the
# bundled examples and real CloudTrail samples.
demo: $(STAMP)
	$(BIN)/alpha --version
	$(BIN)/alpha lint --guardrails examples/policies/s3-reader.json
	$(BIN)/alpha simulate --policy examples/policies/s3-reader.json \
		--action s3:GetObject --resource arn:aws:s3:::reports/2026/q3.csv
	$(BIN)/alpha diff examples/policies/admin-ish-role.json examples/policies/s3-reader.json
	-$(BIN)/alpha check-access --existing examples/policies/s3-reader.json \
		--proposed examples/policies/admin-ish-role.json
	$(BIN)/alpha usage tests/data/cloudtrail --store .alpha/demo-usage.duckdb \
		--principal arn:aws:iam::123837392027:user/bert-jan

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
	rm -rf $(VENV) .alpha .pytest_cache .mypy_cache .ruff_cache
