"""Coverage-guided fuzzing of the C ingest scanner (atheris), against the Python path.

    make fuzz    # builds build/fuzz/_native.so, then runs this for FUZZ_SECONDS (60)
    python -m tests.fuzz.fuzz_native --module SO --seeds DIR -- [libFuzzer flags] CORPUS...

Each input is one log file as the ingest gets it. On every input the native path (a worker's
`NativeFile`, ones whose memos hold two keys and one, and one whose size limits are small enough
that inputs reach them) must not crash or trip sanitizers, and on every input it takes it must
count exactly what the Python path with the same limits counts; a gzip member
libdeflate reads must read as isal reads it. Coverage is the C module's own (gcc's trace-pc,
see sancov.c); the seeds are the real samples of tests/data/cloudtrail as delivery documents,
written to `--seeds` on each run. A failing input is left in build/fuzz/ as crash-<sha1>;
the same command with that file instead of the corpus folders (and `make fuzz`'s LD_PRELOAD,
ASAN_OPTIONS and PYTHONMALLOC) runs it again.
"""

from __future__ import annotations

import argparse
import ctypes
import gzip
import importlib
import json
import shutil
import sys
from pathlib import Path
from typing import Any, cast

import atheris
from isal import igzip

from alpha.catalog import load_catalog
from alpha.usage.mapping import EventMapper, load_mapping_table
from alpha.usage.native import NativeFile, libdeflate
from alpha.usage.reader import GZIP_MAGIC, MAX_FILE_BYTES, ReadLimits
from tests.usage.test_native import (
    ODD_RECORDS,
    assert_same,
    load_module,
    python_path,
    sample_records,
)

SEED_RECORDS = 4  # records per seed: small inputs mutate faster
TIGHT = ReadLimits(file_bytes=16_384, record_bytes=1_024)


class Oracle:
    """Runs one input through both paths and fails on any difference."""

    def __init__(self, module: Any) -> None:
        self._mapper = EventMapper(load_catalog(), load_mapping_table())
        self._natives = [  # a worker's, and two that forget and ask again all the time
            NativeFile(module, self._mapper, memo_limits=limits)
            for limits in (None, (2, 2), (1, 1))
        ]
        # one whose small limits most inputs reach: records handed back, files refused
        self._tight = NativeFile(module, self._mapper, limits=TIGHT)
        self._inflater = module.Inflater(libdeflate())
        assert self._inflater.available

    def __call__(self, data: bytes) -> None:
        expected = None
        view = exact(data)
        for native in self._natives:
            found = native.tally(view, "f.json")
            if found is not None:
                expected = expected or python_path(data, self._mapper)
                assert_same(found, expected)
        found = self._tight.tally(view, "f.json")
        if found is not None:
            assert_same(found, python_path(data, self._mapper, TIGHT))
        if data[:2] == GZIP_MAGIC:
            self._check_gunzip(data)

    def _check_gunzip(self, data: bytes) -> None:
        fast = self._inflater.gunzip(data, MAX_FILE_BYTES)
        if fast is not None:
            assert fast == igzip.decompress(data)  # type: ignore[no-untyped-call]


def exact(data: bytes) -> bytes:
    """`data` in a block of exactly its size, for the native path (which reads any buffer):
    a bytes object ends in a NUL that would hide a read one byte past the end. Under
    PYTHONMALLOC=malloc (`make fuzz`) the block comes from malloc, and ASan guards its end."""
    block = (ctypes.c_char * len(data)).from_buffer_copy(data)
    return cast(bytes, memoryview(block).cast("B"))


def write_seeds(folder: Path) -> int:
    """Every real sample's first records as a delivery document, some escaped or gzipped."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    documents: list[bytes] = [json.dumps({"Records": list(ODD_RECORDS.values())}).encode()]
    for index, (_, raws) in enumerate(sample_records()):
        text = json.dumps({"Records": raws[:SEED_RECORDS]}, ensure_ascii=index % 4 == 0)
        documents.append(text.encode())
        if index % 16 == 0:
            documents.append(gzip.compress(documents[-1], mtime=0))
    for index, document in enumerate(documents):
        (folder / f"seed-{index:03d}").write_bytes(document)
    return len(documents)


def instrumented(path: Path) -> Any:
    """The fuzzing build of the extension, its coverage handed to atheris' libFuzzer."""
    libfuzzer = importlib.import_module("atheris.core_with_libfuzzer")
    module = load_module(path)
    if ctypes.CDLL(str(path)).alpha_fuzz_register(str(libfuzzer.__file__).encode()) != 1:
        sys.exit(f"{path}: libFuzzer does not see its coverage (built without sancov.c?)")
    return module


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--module", type=Path, required=True, help="the instrumented build")
    parser.add_argument("--seeds", type=Path, help="write the seed corpus to this folder")
    parser.add_argument("libfuzzer", nargs="*", help="libFuzzer's flags and corpus folders")
    args = parser.parse_args()
    if args.seeds:
        print(f"{write_seeds(args.seeds)} seeds in {args.seeds}", flush=True)
    oracle = Oracle(instrumented(args.module))
    atheris.Setup([sys.argv[0], *args.libfuzzer], oracle)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
