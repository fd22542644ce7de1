"""`MemoryUsageSource`: the `UsageSource` port over log files held in memory.

Each batch is one log (`{"Records": [...]}` bytes) under a key the test names; its version is a
hash of those bytes, so it changes exactly when the content does. A log remembers the span of
its records' times, so a window narrows the listing as a dated folder layout does; a log whose
records carry no time is listed for every window. Keys in `unreadable` are listed but cannot be
read, as a file deleted between the listing and the read.
"""

from __future__ import annotations

import errno
import hashlib
import json
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from alpha.usage.interpret import parse_event_time
from alpha.usage.ports import LogBatch, TimeWindow


@dataclass(frozen=True, slots=True)
class _Log:
    data: bytes
    first: datetime | None
    last: datetime | None

    def may_hold(self, window: TimeWindow) -> bool:
        if self.first is None or self.last is None:
            return True
        after_start = window.since is None or self.last >= window.since
        return after_start and (window.until is None or self.first < window.until)


class MemoryUsageSource:
    """Logs by key; `put` adds or replaces one. Picklable, so a subclass that declares
    `reads_in_worker` is read by the ingest's worker processes, as local files are."""

    def __init__(self, name: str = "memory", *, unreadable: Collection[str] = ()) -> None:
        self._name = name
        self._logs: dict[str, _Log] = {}
        self.unreadable = set(unreadable)

    @property
    def name(self) -> str:
        return self._name

    def put(self, key: str, records: Iterable[dict[str, Any]]) -> LogBatch:
        """Deliver (or overwrite) the log `key` holding these records; its batch as listed."""
        listed = list(records)
        times = [_time_of(record) for record in listed]
        known = [moment for moment in times if moment is not None]
        data = json.dumps({"Records": listed}).encode()
        self._logs[key] = _Log(data, min(known, default=None), max(known, default=None))
        return _batch(key, data)

    def batches(self, window: TimeWindow) -> Iterator[LogBatch]:
        for key, log in sorted(self._logs.items()):
            if log.may_hold(window):
                yield _batch(key, log.data)

    def read(self, batch: LogBatch) -> bytes:
        log = self._logs.get(batch.key)
        if log is None or batch.key in self.unreadable:
            raise FileNotFoundError(errno.ENOENT, "No such file or directory", batch.key)
        return log.data


def _batch(key: str, data: bytes) -> LogBatch:
    return LogBatch(key, len(data), hashlib.sha256(data).hexdigest()[:16])


def _time_of(record: dict[str, Any]) -> datetime | None:
    raw = record.get("eventTime")
    return parse_event_time(raw) if isinstance(raw, str) else None
