"""The ingest's per-file work, C scanner against the Python fast path, on the same files.

    .venv/bin/python benchmarks/bench_native.py /tmp/ct1m [FILES] [--gunzip | --record-check]
        [--rounds R]

One process, one core, files read into memory first, `gc` off as in the workers; each path runs
twice over the same decompressed files and the better round counts (the first warms the
caches each path keeps). Prints CPU microseconds per event for gunzip alone, the Python fast
path (`LazyLogReader` + `FastTally`) and the native path (`NativeFile`, which gunzips with
the `deflate` wheel's libdeflate), and their ratio.

`--record-check` instead times the Python fast path with and without the reader's record size
check (files over `MAX_RECORD_BYTES` are decoded a second time, untyped, for their records'
sizes), in interleaved rounds; it prints each one's median time and their ratio.

`--gunzip` instead times each way to gunzip the files, in interleaved rounds (so a busy
machine slows every way alike): isal as the reader calls it (stopped past the file size limit)
and without that limit, the wheel's libdeflate through the C `Inflater`, the
system's `libdeflate.so.0` through it (when there is one) and `deflate.gzip_decompress`; it
prints MB/s of output and each way's median per-round time ratio to the wheel's.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import deflate
from isal import igzip

from alpha.usage.fast_tally import FastTally
from alpha.usage.ingest import MapperInterpreter, default_interpreter
from alpha.usage.native import NativeFile, libdeflate, native_module
from alpha.usage.reader import MAX_FILE_BYTES, MAX_RECORD_BYTES, LazyLogReader, ReadLimits
from alpha.usage.reader import gunzip as limited_gunzip
from alpha.usage.tally import BatchTally

Files = list[tuple[str, bytes]]


def limited(way: Callable[[bytes, int], bytes | None]) -> Callable[[bytes], bytes | None]:
    """A gunzip as the ingest calls it: stopped past the file size limit."""
    return lambda data: way(data, MAX_FILE_BYTES)


gunzip = limited(limited_gunzip)


def cpu_seconds(work: Callable[[], None]) -> float:
    start = time.process_time()
    work()
    return time.process_time() - start


def best_of(rounds: int, work: Callable[[], None]) -> float:
    return min(cpu_seconds(work) for _ in range(rounds))


def over_files(files: Files, each: Callable[[bytes], object]) -> Callable[[], None]:
    def work() -> None:
        for _, data in files:
            each(data)

    return work


def python_path(files: Files, reader: LazyLogReader, fast: FastTally) -> Callable[[], None]:
    def work() -> None:
        for name, data in files:
            decoded = reader.decode(data, name)
            tally = BatchTally()
            fast.add_all(decoded.events, tally)
            tally.finish()

    return work


def compare_paths(module: ModuleType, files: Files) -> None:
    interpreter = default_interpreter()
    assert isinstance(interpreter, MapperInterpreter)
    native = NativeFile(module, interpreter.mapper)
    reader, fast = LazyLogReader(), FastTally(interpreter.mapper)
    events = sum(len(reader.decode(data, name).events) for name, data in files)

    def native_path() -> None:
        for name, data in files:
            native.tally(data, name)

    inflater = module.Inflater(libdeflate())
    floor = best_of(2, over_files(files, gunzip))
    slow = best_of(2, python_path(files, reader, fast))
    quick = best_of(2, native_path)
    per = 1e6 / events
    print(f"{len(files)} files, {events:,} events")
    print(f"gunzip alone (isal): {floor * per:5.2f} µs/event")
    if inflater.available:
        unzip = best_of(2, over_files(files, limited(inflater.gunzip)))
        print(f"gunzip (libdeflate): {unzip * per:5.2f} µs/event")
    print(f"python fast path:    {slow * per:5.2f} µs/event")
    print(f"native path:         {quick * per:5.2f} µs/event  ({slow / quick:.1f}x faster)")


def compare_gunzip(module: ModuleType, files: Files, rounds: int) -> None:
    wheel = module.Inflater(libdeflate())
    ways: dict[str, Callable[[bytes], bytes | bytearray | None]] = {
        "wheel libdeflate (Inflater)": limited(wheel.gunzip),
        "isal (reader.gunzip)": gunzip,
        "isal uncapped (igzip.decompress)": igzip.decompress,
        "deflate.gzip_decompress": deflate.gzip_decompress,
    }
    system = module.Inflater("libdeflate.so.0")
    if system.available:
        ways["system libdeflate.so.0 (Inflater)"] = limited(system.gunzip)
    for _, data in files:  # every way reads every file, and alike
        outputs = [way(data) for way in ways.values()]
        assert len({None if out is None else bytes(out) for out in outputs}) == 1
        assert outputs[0] is not None
    size = sum(len(limited_gunzip(data, MAX_FILE_BYTES)) for _, data in files)
    times: dict[str, list[float]] = {name: [] for name in ways}
    for _ in range(rounds):
        for name, way in ways.items():
            times[name].append(cpu_seconds(over_files(files, way)))
    base = times["wheel libdeflate (Inflater)"]
    print(
        f"{len(files)} files, {sum(len(d) for _, d in files) / 1e6:.1f} MB gzipped, "
        f"{size / 1e6:.1f} MB out, {rounds} interleaved rounds"
    )
    for name, spent in times.items():
        ratio = statistics.median(a / b for a, b in zip(spent, base, strict=True))
        median = statistics.median(spent)
        print(
            f"{name:34s} {size / median / 1e6:6.0f} MB/s  median {median * 1e3:6.1f} ms  "
            f"x{ratio:.3f} the wheel's time"
        )


def compare_record_check(files: Files, rounds: int) -> None:
    interpreter = default_interpreter()
    assert isinstance(interpreter, MapperInterpreter)
    fast = FastTally(interpreter.mapper)
    unchecked = ReadLimits(record_bytes=1 << 62)  # no file is over it: no second decode
    ways = {
        "checked (default limits)": python_path(files, LazyLogReader(), fast),
        "unchecked": python_path(files, LazyLogReader(limits=unchecked), fast),
    }
    over = sum(len(limited_gunzip(data, MAX_FILE_BYTES)) > MAX_RECORD_BYTES for _, data in files)
    times: dict[str, list[float]] = {name: [] for name in ways}
    for _ in range(rounds):
        for name, way in ways.items():
            times[name].append(cpu_seconds(way))
    print(f"{len(files)} files, {over} over the record limit, {rounds} interleaved rounds")
    for name, spent in times.items():
        print(f"{name:26s} median {statistics.median(spent):6.3f} s")
    ratios = [
        a / b for a, b in zip(times["checked (default limits)"], times["unchecked"], strict=True)
    ]
    print(f"checked / unchecked: median x{statistics.median(ratios):.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", type=Path)
    parser.add_argument("files", type=int, nargs="?", default=150, help="how many files")
    parser.add_argument("--gunzip", action="store_true", help="time only the ways to gunzip")
    parser.add_argument("--record-check", action="store_true", help="time the size check")
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    paths = sorted(args.root.rglob("*.json.gz"))[: args.files]
    files = [(str(path), path.read_bytes()) for path in paths]
    module = native_module()
    if module is None:
        parser.exit(1, "alpha.usage._native is not built\n")
    gc.disable()
    if args.gunzip:
        compare_gunzip(module, files, args.rounds)
    elif args.record_check:
        compare_record_check(files, args.rounds)
    else:
        compare_paths(module, files)


if __name__ == "__main__":
    main()
