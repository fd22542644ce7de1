"""The ingest's per-file work, C scanner against the Python fast path, on the same files.

    .venv/bin/python benchmarks/bench_native.py /tmp/ct1m [FILES]

One process, one core, files read into memory first, `gc` off as in the workers; each path runs
twice over the same decompressed files and the better round counts (the first warms the
caches each path keeps). Prints CPU microseconds per event for gunzip alone, the Python fast
path (`LazyLogReader` + `FastTally`) and the native path (`NativeFile`, which gunzips with
the system's libdeflate when it has one), and their ratio.
"""

from __future__ import annotations

import gc
import sys
import time
from collections.abc import Callable
from pathlib import Path

from alpha.usage.fast_tally import FastTally
from alpha.usage.ingest import MapperInterpreter, default_interpreter
from alpha.usage.native import NativeFile, native_module
from alpha.usage.reader import LazyLogReader, gunzip
from alpha.usage.tally import BatchTally


def best_of(rounds: int, work: Callable[[], None]) -> float:
    best = float("inf")
    for _ in range(rounds):
        start = time.process_time()
        work()
        best = min(best, time.process_time() - start)
    return best


def main() -> None:
    root = Path(sys.argv[1])
    limit = int(sys.argv[2]) if len(sys.argv) > 2 else 150
    paths = sorted(root.rglob("*.json.gz"))[:limit]
    files = [(str(path), path.read_bytes()) for path in paths]
    interpreter = default_interpreter()
    assert isinstance(interpreter, MapperInterpreter)
    module = native_module()
    if module is None:
        sys.exit("alpha.usage._native is not built")
    native = NativeFile(module, interpreter.mapper)
    reader, fast = LazyLogReader(), FastTally(interpreter.mapper)
    events = sum(len(reader.decode(data, name).events) for name, data in files)

    def unzip() -> None:
        for _, data in files:
            gunzip(data)

    def python_path() -> None:
        for name, data in files:
            decoded = reader.decode(data, name)
            tally = BatchTally()
            fast.add_all(decoded.events, tally)
            tally.finish()

    def native_path() -> None:
        for name, data in files:
            native.tally(data, name)

    inflater = module.Inflater()

    def native_unzip() -> None:
        for _, data in files:
            inflater.gunzip(data)

    gc.disable()
    floor, slow, quick = best_of(2, unzip), best_of(2, python_path), best_of(2, native_path)
    per = 1e6 / events
    print(f"{len(files)} files, {events:,} events")
    print(f"gunzip alone (isal): {floor * per:5.2f} µs/event")
    if inflater.available:
        print(f"gunzip (libdeflate): {best_of(2, native_unzip) * per:5.2f} µs/event")
    print(f"python fast path:    {slow * per:5.2f} µs/event")
    print(f"native path:         {quick * per:5.2f} µs/event  ({slow / quick:.1f}x faster)")


if __name__ == "__main__":
    main()
