"""Peak memory of `alpha usage` over hostile log folders, and over the largest files it accepts.

    .venv/bin/python benchmarks/bench_hostile.py /tmp/ct1m [--cases bomb,line,...] [--work DIR]

`/tmp/ct1m` is any folder written by gen_cloudtrail.py (see bench_usage.py): its records fill the
realistic cases. Each case is a folder of its own, written under `--work` (a temporary folder
by default, removed after), and `alpha usage <folder> --format json` runs over it once in a
fresh store; the peak is the summed RSS of the process and its workers sampled from /proc every
20 ms, plus its files in /dev/shm (`bench_usage.timed`). The cases:

- bomb: a 6 MB gzip member of 6 GiB of zeros (issue 11: 12.4 GB before the limit);
- line: a 2 GiB file of one line, a record whose one string never ends (10.3 GB before);
- hostile: both, beside a few real files (the folder the issue asks about);
- at-limit: the largest files the reader accepts, two just under `MAX_FILE_BYTES` of real
  records, one `{"Records": [...]}` (the native path) and one JSON lines (the Python path),
  read by the two workers at once; at-limit-lines: two such JSON-lines files (the Python path
  in both workers, the worst the limit accepts);
- dense-records / dense-lines: 16 MiB of tiny records (`1,` in a Records array; `{}` lines),
  where every record is skipped with a problem.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import shutil
import sys
import tempfile
import time
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path

from alpha.usage.reader import MAX_FILE_BYTES
from bench_usage import ALPHA, timed

MIB = 1 << 20


def gzip_bomb(path: Path, mib: int) -> None:
    """One gzip member of `mib` MiB of zeros: a compressed MiB repeated (its checksum left
    wrong: no reader gets that far)."""
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    one = packer.compress(bytes(MIB)) + packer.flush(zlib.Z_FULL_FLUSH)
    last = zlib.compressobj(9, zlib.DEFLATED, -15).flush()
    size = (mib * MIB) % (1 << 32)
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"
    path.write_bytes(header + one * mib + last + bytes(4) + size.to_bytes(4, "little"))


def one_line(path: Path, size: int) -> None:
    with path.open("wb") as out:
        out.write(b'{"Records": [{"eventName": "')
        chunk = b"x" * (64 * MIB)
        for _ in range(size // len(chunk)):
            out.write(chunk)


def real_records(data: Path) -> Iterator[bytes]:
    for path in sorted(data.rglob("*.json.gz")):
        for found in json.loads(gzip.decompress(path.read_bytes()))["Records"]:
            yield json.dumps(found, separators=(",", ":")).encode()


def filled(data: Path, limit: int) -> list[bytes]:
    """Real records, as many as fit in `limit` bytes of JSON lines."""
    records: list[bytes] = []
    size = 0
    while True:
        for found in real_records(data):
            if size + len(found) + 1 > limit:
                return records
            records.append(found)
            size += len(found) + 1


def logs_folder(root: Path) -> Path:
    folder = root / "AWSLogs" / "111122223333" / "CloudTrail" / "eu-west-1" / "2024" / "03" / "10"
    folder.mkdir(parents=True)
    return folder


def bomb(root: Path, data: Path) -> None:
    gzip_bomb(logs_folder(root) / "bomb.json.gz", 6 * 1024)


def line(root: Path, data: Path) -> None:
    one_line(logs_folder(root) / "line.json", 2 << 30)


def hostile(root: Path, data: Path) -> None:
    folder = logs_folder(root)
    gzip_bomb(folder / "bomb.json.gz", 6 * 1024)
    one_line(folder / "line.json", 2 << 30)
    for path in sorted(data.rglob("*.json.gz"))[:4]:
        shutil.copy(path, folder / path.name)


def at_limit(root: Path, data: Path) -> None:
    folder = logs_folder(root)
    records = filled(data, MAX_FILE_BYTES - 64)
    (folder / "lines.json").write_bytes(b"\n".join(records))
    (folder / "records.json").write_bytes(b'{"Records":[' + b",".join(records) + b"]}")


def at_limit_lines(root: Path, data: Path) -> None:
    folder = logs_folder(root)
    text = b"\n".join(filled(data, MAX_FILE_BYTES - 64))
    (folder / "one.json").write_bytes(text)
    (folder / "two.json").write_bytes(text)


def dense_records(root: Path, data: Path) -> None:
    (logs_folder(root) / "ones.json").write_bytes(b'{"Records":[' + b"1," * (8 * MIB) + b"1]}")


def dense_lines(root: Path, data: Path) -> None:
    (logs_folder(root) / "empty.jsonl").write_bytes(b"{}\n" * (16 * MIB // 3))


CASES: dict[str, Callable[[Path, Path], None]] = {
    "bomb": bomb,
    "line": line,
    "hostile": hostile,
    "at-limit": at_limit,
    "at-limit-lines": at_limit_lines,
    "dense-records": dense_records,
    "dense-lines": dense_lines,
}


def folder_size(root: Path) -> int:
    return sum(path.stat().st_size for path in root.rglob("*") if path.is_file())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("data", type=Path, help="folder written by gen_cloudtrail.py")
    parser.add_argument("--cases", default=",".join(CASES), help="which, comma-separated")
    parser.add_argument("--work", type=Path, help="where to write the cases (kept)")
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="bench-hostile-"))
    print(f"load {os.getloadavg()[0]:.2f}, file limit {MAX_FILE_BYTES:,} bytes", flush=True)
    try:
        for name in args.cases.split(","):
            root = work / name
            if not root.exists():
                CASES[name](root, args.data)
            store = work / f"{name}.duckdb"
            store.unlink(missing_ok=True)
            out = work / f"{name}.out"
            command = [str(ALPHA), "usage", str(root), "--store", str(store), "--format", "json"]
            started = time.perf_counter()
            found = timed(command, out)
            summary = json.loads(out.read_bytes())["summary"]
            reasons = sorted({p["reason"] for p in summary["problems"]})
            print(
                f"{name:14s} {folder_size(root) / MIB:8,.0f} MiB on disk  "
                f"peak {found.peak_rss_mb:6,.0f} MB  {found.seconds:6.2f} s "
                f"(cpu {found.cpu_seconds:.2f} s; {time.perf_counter() - started:.1f} s)  "
                f"events {summary['events']:,}  skipped {summary['skipped']}  "
                f"problems {len(summary['problems']):,} {reasons}",
                flush=True,
            )
    finally:
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
