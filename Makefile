# `make demo` and `make test` work on a fresh machine: they create .venv and install the project
# with the exact versions in constraints.txt (the lock); `make upgrade` refreshes the lock.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint types unit asan bench clean upgrade

$(STAMP): pyproject.toml setup.py constraints.txt $(wildcard src/alpha/usage/csrc/*)
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev]'
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

# The C scanner's tests again, on a build with AddressSanitizer, UBSan and LeakSanitizer: it
# parses untrusted input, so every out-of-bounds read, undefined step or leaked block must fail
# the suite. The build fails allocations on demand (csrc/alloc.h) for the tests of those paths;
# lsan.supp names only CPython's own leaks at exit.
ASAN_SO := build/asan/_native.so
CSRC := src/alpha/usage/csrc
asan: $(STAMP)
	mkdir -p build/asan
	gcc -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer \
		-std=c11 -DALPHA_NATIVE_FAULTS -fPIC -shared \
		-I"$$($(BIN)/python -c 'import sysconfig; print(sysconfig.get_paths()["include"])')" \
		$(CSRC)/native.c -o $(ASAN_SO) -ldl
	ASAN_OPTIONS=detect_leaks=1 LSAN_OPTIONS=suppressions=$(CURDIR)/$(CSRC)/lsan.supp:print_suppressions=0 \
		ALPHA_TEST_NATIVE_SO=$(ASAN_SO) \
		LD_PRELOAD="$$(gcc -print-file-name=libasan.so) $$(gcc -print-file-name=libubsan.so)" \
		$(BIN)/pytest -q -p no:cacheprovider tests/usage/test_native.py tests/usage/test_inflate.py

test: lint types unit asan

# Re-solve every dependency at its newest release into constraints.txt, then run the suite on
# it: a lock that fails the suite is for you to fix or pin back before committing.
upgrade:
	rm -rf build/upgrade-venv
	$(PY) -m venv build/upgrade-venv
	build/upgrade-venv/bin/pip install --quiet --upgrade pip
	build/upgrade-venv/bin/pip install --quiet -c holds.txt -e '.[dev]'
	(echo '# The lock: exact versions `make` installs (pip -c). Refresh with `make upgrade`.'; \
	  build/upgrade-venv/bin/pip freeze --exclude-editable | grep -v '^pip==') > constraints.txt
	rm -rf build/upgrade-venv
	rm -f $(STAMP)
	$(MAKE) test

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_evaluate.py

clean:
	rm -rf $(VENV) .alpha alpha-demo .pytest_cache .mypy_cache .ruff_cache
