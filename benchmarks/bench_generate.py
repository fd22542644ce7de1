"""`alpha generate --all` end to end: ingest plus a proposal per principal.

    python3 /work/shared/bench/gen_cloudtrail.py --events 1000000 --roles 500 --days 30 \\
        --out /tmp/ct1m --jobs 2
    .venv/bin/python benchmarks/bench_generate.py /tmp/ct1m

Runs, in one go on the same files: the floor (two `zcat` processes over half the files each),
then `alpha generate --all --format json` with a fresh store (ingest included), then the same
command again (nothing new to ingest: generation alone). Wall time from outside.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _floor(files: list[Path]) -> float:
    start = time.perf_counter()
    halves = [files[0::2], files[1::2]]
    procs = [
        subprocess.Popen(["zcat", *map(str, half)], stdout=subprocess.DEVNULL) for half in halves
    ]
    for proc in procs:
        proc.wait()
    return time.perf_counter() - start


def _generate(data: Path, account: Path, store: Path, out: Path) -> tuple[float, int]:
    command = [
        str(Path(sys.executable).parent / "alpha"), "generate", "--all", "--format", "json",
        "--usage", str(data), "--account", str(account), "--store", str(store),
    ]  # fmt: skip
    start = time.perf_counter()
    with out.open("wb") as sink:
        done = subprocess.run(command, stdout=sink, stderr=subprocess.PIPE, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode not in (0, 1):
        raise SystemExit(done.stderr.decode())
    return elapsed, done.returncode


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("data", type=Path)
    args = parser.parse_args()
    account = next(args.data.glob("account-*.json"))
    files = sorted(args.data.rglob("*.json.gz"))
    floor = _floor(files)
    with tempfile.TemporaryDirectory() as tmp:
        store, out = Path(tmp) / "usage.duckdb", Path(tmp) / "proposals.json"
        first, code = _generate(args.data, account, store, out)
        again, _ = _generate(args.data, account, store, out)
        proposals = json.loads(out.read_bytes())
    replay = [p["replay"] for p in proposals]
    print(f"files {len(files)}, floor (2 x zcat) {floor:.2f} s")
    print(f"generate --all, fresh store (ingest included): {first:.2f} s, exit {code}")
    print(f"generate --all, nothing new to ingest:         {again:.2f} s")
    print(
        f"proposals {len(proposals)}; replay {sum(r['allowed'] for r in replay):,} of "
        f"{sum(r['observed'] for r in replay):,} calls; "
        f"blocked {sum(p['blocked'] for p in proposals)}"
    )


if __name__ == "__main__":
    main()
