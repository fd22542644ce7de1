"""Interpretation speed: `interpret()` per event, against decoding the same events in the same run.

Usage:
    python ../shared/bench/gen_cloudtrail.py --events 100000 --roles 500 --days 2 \
        --out /tmp/gen100k --jobs 1 --no-account-snapshot
    .venv/bin/python benchmarks/bench_interpret.py /tmp/gen100k

Prints events/s for msgspec decoding (the baseline: work every pipeline does anyway) and for
interpret() over the decoded structs, and their ratio. One core.
"""

from __future__ import annotations

import gzip
import sys
import time
from pathlib import Path

import msgspec

from alpha.catalog import load_catalog
from alpha.usage.events import CloudTrailEvent
from alpha.usage.interpret import interpret
from alpha.usage.mapping import EventMapper, load_mapping_table


class _File(msgspec.Struct):
    Records: list[CloudTrailEvent]


def main(folder: str) -> None:
    blobs = [gzip.decompress(p.read_bytes()) for p in sorted(Path(folder).rglob("*.json.gz"))]
    decoder = msgspec.json.Decoder(_File)
    mapper = EventMapper(load_catalog(), load_mapping_table())

    start = time.perf_counter()
    events = [e for blob in blobs for e in decoder.decode(blob).Records]
    decode = time.perf_counter() - start

    for event in events[:2000]:  # warm the per-(source, name) caches, as a long run would
        interpret(event, mapper)
    start = time.perf_counter()
    for event in events:
        interpret(event, mapper)
    spent = time.perf_counter() - start

    n = len(events)
    print(f"events: {n}")
    print(f"decode (baseline): {n / decode:,.0f} events/s ({decode / n * 1e6:.2f} us/event)")
    print(f"interpret:         {n / spent:,.0f} events/s ({spent / n * 1e6:.2f} us/event)")
    print(f"interpret / decode time: {spent / decode:.2f}")


if __name__ == "__main__":
    main(sys.argv[1])
