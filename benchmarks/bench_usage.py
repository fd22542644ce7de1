"""`alpha usage` over generated CloudTrail, against gunzipping the same files (the floor).

Make the data first (see /work/shared/bench/README.md or the project's benchmarks/README.md):

    python3 gen_cloudtrail.py --events 1000000 --roles 500 --days 30 --out /tmp/ct1m --jobs 2
    .venv/bin/python benchmarks/bench_usage.py /tmp/ct1m

In one run, on the same files: the floor (two `zcat` processes over half the files each), the
first ingest into a fresh store, a re-run with nothing new, and the same re-run with `--people`
(the people behind shared roles instead of the rows). Each `alpha usage` runs as its
own process (`--format json`, stdout to a file); its wall time is measured from outside and its
memory is the peak of the summed RSS of the process and its workers, sampled from /proc, plus
what it keeps in files in the RAM folder `/dev/shm` (rows spooled for the store), which RSS does
not count.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

ALPHA = Path(sys.executable).with_name("alpha")


@dataclass(frozen=True)
class Measure:
    seconds: float
    peak_rss_mb: float  # RSS of the process tree plus its growth of the RAM folder
    cpu_seconds: float  # user + system of the process and every worker it waited for
    # PSS: forked workers' shared pages counted once between them (RSS counts them in each)
    peak_pss_mb: float = 0.0


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def log_files(data: Path) -> list[Path]:
    return sorted(data.rglob("*.json.gz"))


def tree_kb(pid: int, *, pss: bool = True) -> tuple[int, int]:
    """The summed RSS and PSS of a process and its descendants, from /proc (0 once gone).
    Without `pss`, RSS alone from the cheap `status` (PSS 0): `smaps_rollup` walks every
    mapping, which at a 20 ms pace costs a quarter of a core for a three-process tree."""
    rss = found_pss = 0
    stack = [pid]
    name, fields = ("smaps_rollup", ("Rss:", "Pss:")) if pss else ("status", ("VmRSS:", "-"))
    while stack:
        current = stack.pop()
        try:
            text = Path(f"/proc/{current}/{name}").read_text()
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except OSError:
            continue
        for line in text.splitlines():
            if line.startswith(fields[0]):
                rss += int(line.split()[1])
            elif line.startswith(fields[1]):
                found_pss += int(line.split()[1])
        stack.extend(int(c) for c in children)
    return rss, found_pss


def ram_folder_kb() -> int:
    """What files in /dev/shm take (0 where there is none)."""
    try:
        found = os.statvfs("/dev/shm")
    except OSError:
        return 0
    return (found.f_blocks - found.f_bfree) * found.f_frsize // 1024


def timed(
    argv: list[str],
    stdout: Path | None = None,
    env: dict[str, str] | None = None,
    ok: tuple[int, ...] = (0,),
) -> Measure:
    """Run a command (in `env`, or this environment) that should exit with one of `ok`; wall
    time and the peak memory of its process tree (RSS plus RAM-folder files it made)."""
    peak = peak_pss = 0
    shm_before = ram_folder_kb()
    out = stdout.open("wb") if stdout else subprocess.DEVNULL
    cpu_before = children_cpu()
    start = time.perf_counter()
    process = subprocess.Popen(argv, stdout=out, stderr=subprocess.PIPE, env=env)
    done = threading.Event()

    def sample() -> None:
        nonlocal peak, peak_pss
        samples = 0
        while not done.is_set():
            shm = max(0, ram_folder_kb() - shm_before)
            rss, pss = tree_kb(process.pid, pss=samples % 10 == 0)  # PSS every 0.2 s
            peak, peak_pss = max(peak, rss + shm), max(peak_pss, pss + shm)
            samples += 1
            time.sleep(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, err = process.communicate()
    elapsed = time.perf_counter() - start
    done.set()
    sampler.join()
    if not isinstance(out, int):
        out.close()
    if process.returncode not in ok:
        raise SystemExit(f"{argv[0]} failed ({process.returncode}): {err.decode()[-2000:]}")
    return Measure(elapsed, peak / 1024, children_cpu() - cpu_before, peak_pss / 1024)


def floor(files: list[Path]) -> Measure:
    """Two zcat processes, half the files each, in parallel."""
    halves = [files[0::2], files[1::2]]
    cpu_before = children_cpu()
    start = time.perf_counter()
    procs = [
        subprocess.Popen(["zcat", *map(str, half)], stdout=subprocess.DEVNULL) for half in halves
    ]
    for proc in procs:
        proc.wait()
    return Measure(time.perf_counter() - start, 0.0, children_cpu() - cpu_before)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("data", type=Path, help="folder written by gen_cloudtrail.py")
    parser.add_argument("--format", default="json", choices=["json", "jsonl", "csv"])
    args = parser.parse_args()
    files = log_files(args.data)
    if not files:
        raise SystemExit(f"{args.data}: no .json.gz files (run gen_cloudtrail.py first)")
    work = Path(tempfile.mkdtemp(prefix="bench-usage-"))
    try:
        store = work / "usage.duckdb"
        command = [str(ALPHA), "usage", str(args.data), "--store", str(store)]
        command += ["--format", args.format]
        floor(files)  # warm the page cache, so both sides read from memory
        base = floor(files)
        first = timed(command, work / "first.out")
        again = timed(command, work / "again.out")
        people = timed([*command, "--people"], work / "people.out")
        shared = (
            json.loads((work / "people.out").read_bytes())["people"]
            if args.format == "json"
            else []
        )
        base_after = floor(files)
        summary = (
            json.loads((work / "first.out").read_bytes())["summary"]
            if args.format == "json"
            else {}
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    events = summary.get("events", 0)
    floor_s = min(base.seconds, base_after.seconds)
    print(f"files: {len(files)}, events: {events:,}, load: {os.getloadavg()[0]:.2f}")
    print(
        f"floor (2 x zcat):     {base.seconds:6.2f} s (after: {base_after.seconds:.2f} s)"
        f"  cpu {base.cpu_seconds:.2f} s"
    )
    print(
        f"first ingest:         {first.seconds:6.2f} s  {events / first.seconds:>9,.0f} events/s"
        f"  {first.seconds / floor_s:4.2f}x floor  peak memory {first.peak_rss_mb:,.0f} MB"
        f"  cpu {first.cpu_seconds:.2f} s ({first.cpu_seconds / base.cpu_seconds:.2f}x floor's)"
    )
    print(
        f"re-run, nothing new:  {again.seconds:6.2f} s  peak memory {again.peak_rss_mb:,.0f} MB"
        f"  cpu {again.cpu_seconds:.2f} s"
    )
    print(
        f"re-run, --people:     {people.seconds:6.2f} s  peak memory {people.peak_rss_mb:,.0f} MB"
        f"  cpu {people.cpu_seconds:.2f} s  ({len(shared):,} shared principals,"
        f" {sum(len(p['people']) for p in shared):,} people)"
    )
    if summary:
        print(
            f"usage summary: events_read {summary['events_read']:,}, "
            f"skipped {summary['skipped']}, unmapped kinds {len(summary['unmapped'])}"
        )


if __name__ == "__main__":
    main()
