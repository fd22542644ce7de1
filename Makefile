# `make demo` and `make test` work on a fresh machine: they create .venv and install the project
# with the exact versions in constraints.txt (the lock); `make upgrade` refreshes the lock.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint types unit asan fuzz bench clean upgrade

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
CSRC := src/alpha/usage/csrc
PY_INCLUDE = -I"$$($(BIN)/python -c 'import sysconfig; print(sysconfig.get_paths()["include"])')"
SANITIZE := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
PRELOAD_SANITIZERS = LD_PRELOAD="$$(gcc -print-file-name=libasan.so) $$(gcc -print-file-name=libubsan.so)"
ASAN_SO := build/asan/_native.so
asan: $(STAMP)
	mkdir -p build/asan
	gcc -O1 -g $(SANITIZE) -std=c11 -DALPHA_NATIVE_FAULTS -fPIC -shared $(PY_INCLUDE) \
		$(CSRC)/native.c -o $(ASAN_SO) -ldl
	ASAN_OPTIONS=detect_leaks=1 LSAN_OPTIONS=suppressions=$(CURDIR)/$(CSRC)/lsan.supp:print_suppressions=0 \
		ALPHA_TEST_NATIVE_SO=$(ASAN_SO) $(PRELOAD_SANITIZERS) \
		$(BIN)/pytest -q -p no:cacheprovider tests/usage/test_native.py tests/usage/test_inflate.py

# A coverage-guided fuzzer (atheris' libFuzzer) over the C scanner for FUZZ_SECONDS, under ASan
# and UBSan, each input in a block of its own size (PYTHONMALLOC=malloc: a read past its end
# is caught): the native path must never crash, and must count what the Python path counts on
# every input it takes (tests/fuzz/fuzz_native.py). Coverage comes from gcc's trace-pc, turned
# into libFuzzer's counters by tests/fuzz/sancov.c (atheris warns that the preloaded libasan
# provides coverage symbols: that concerns Python coverage, which is not used here). The corpus
# grows in build/fuzz/corpus across runs; a failing input is left in build/fuzz/crash-*.
FUZZ_SECONDS ?= 60
FUZZ := build/fuzz
fuzz: $(STAMP)
	mkdir -p $(FUZZ)/corpus
	gcc -O1 -g $(SANITIZE) -fsanitize-coverage=trace-pc -std=c11 -fPIC $(PY_INCLUDE) \
		-c $(CSRC)/native.c -o $(FUZZ)/native.o
	gcc -O1 -g -std=c11 -Wall -Wextra -fPIC -c tests/fuzz/sancov.c -o $(FUZZ)/sancov.o
	gcc -shared -fsanitize=address,undefined $(FUZZ)/native.o $(FUZZ)/sancov.o -o $(FUZZ)/_native.so -ldl
	ASAN_OPTIONS=detect_leaks=0 PYTHONMALLOC=malloc $(PRELOAD_SANITIZERS) \
		$(BIN)/python -m tests.fuzz.fuzz_native --module $(FUZZ)/_native.so --seeds $(FUZZ)/seeds -- \
		$(FUZZ)/corpus $(FUZZ)/seeds -dict=tests/fuzz/cloudtrail.dict -max_total_time=$(FUZZ_SECONDS) \
		-detect_leaks=0 -artifact_prefix=$(FUZZ)/ -print_final_stats=1

test: lint types unit asan fuzz

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
