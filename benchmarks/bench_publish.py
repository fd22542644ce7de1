"""What publishing metrics adds to reading a delivery: the ingest's tally alone against
`tally_delivery` (the same tally plus the per-minute one `alpha monitor publish` needs), on the
same files, and what a delivery becomes in `PutMetricData` requests.

    .venv/bin/python benchmarks/bench_publish.py [FILES...] [--repeat N] [--rounds R]

Without FILES, the real trail in tests/data (55 files, 2,900 events), each file's records
repeated N times (default 20) into one file, as a busy account's 5-minute delivery would hold.
Interleaved rounds (a busy machine slows both alike); prints the median per-round CPU time of
each and their ratio, and the points and requests of the deliveries.
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import time
from datetime import UTC, datetime
from pathlib import Path

from alpha.adapters.aws.cloudwatch_metrics import batches
from alpha.app.monitoring import delivery_points
from alpha.usage.ingest import default_interpreter
from alpha.usage.minutes import tally_delivery
from alpha.usage.worker import TallyJob, tally

SAMPLES = Path(__file__).parent.parent / "tests/data/cloudtrail/invictus_aws_dataset"


def deliveries(files: list[Path], repeat: int) -> list[tuple[str, bytes]]:
    found = []
    for path in files:
        document = json.loads(path.read_bytes())
        records = document["Records"] if isinstance(document, dict) else document
        found.append((path.name, json.dumps({"Records": records * repeat}).encode()))
    return found


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("files", nargs="*", type=Path)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=7)
    arguments = parser.parse_args()
    files = arguments.files or sorted(SAMPLES.glob("*.json"))
    data = deliveries(files, arguments.repeat)
    job = TallyJob(default_interpreter)
    tally(job, *data[0])  # warm the interpreter's caches for both
    gc.disable()
    ingest_only, both = [], []
    for _ in range(arguments.rounds):
        start = time.process_time()
        for key, body in data:
            tally(job, key, body)
        ingest_only.append(time.process_time() - start)
        start = time.process_time()
        found = [tally_delivery(key, body, default_interpreter) for key, body in data]
        both.append(time.process_time() - start)
    events = sum(hourly.events for hourly, _ in found if hourly is not None)
    now = max(m.latest for _, m in found if m.latest is not None)
    points = [p for _, m in found for p in delivery_points(m, now.astimezone(UTC))]
    requests = len(list(batches(points)))
    alone, with_minutes = statistics.median(ingest_only), statistics.median(both)
    print(f"{len(data)} deliveries, {events:,} events")
    for label, seconds in (("ingest tally alone", alone), ("tally + minutes", with_minutes)):
        per_event = seconds / events * 1e6
        print(f"{label:24} {seconds * 1e3:8.1f} ms  ({per_event:.2f} us/event)")
    print(f"ratio:                   {with_minutes / alone:8.2f}")
    print(f"data points: {len(points):,} in {requests} PutMetricData request(s) at 1,000 a request")
    print(f"as of {datetime.now(UTC):%Y-%m-%d}")


if __name__ == "__main__":
    main()
