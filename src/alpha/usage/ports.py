"""Where CloudTrail comes from. Each source is an adapter implementing `UsageSource`.

A source hands out log batches: a delivered log file (local folder, S3) or a closed slice of
time (the LookupEvents API). A batch's `key` and `version` let the store skip what it already
ingested, so a daily run reads only what is new.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True, slots=True)
class TimeWindow:
    """Half-open [since, until); either end may be open. Times are timezone-aware UTC."""

    since: datetime | None = None
    until: datetime | None = None

    def contains(self, moment: datetime) -> bool:
        if self.since is not None and moment < self.since:
            return False
        return self.until is None or moment < self.until


@dataclass(frozen=True, slots=True)
class LogBatch:
    """One unit of ingest. `key` is stable across runs (a path, `s3://bucket/key`, ...);
    `version` changes when the content does (size+mtime, ETag, ...)."""

    key: str
    size: int
    version: str


class UsageSource(Protocol):
    """A place CloudTrail records can be read from."""

    @property
    def name(self) -> str:
        """What the user named (a folder, `s3://bucket/prefix`, ...), for messages."""
        ...

    def batches(self, window: TimeWindow) -> Iterator[LogBatch]:
        """The batches that may hold records inside the window (never a full scan when the
        layout allows narrowing by date)."""
        ...

    def read(self, batch: LogBatch) -> bytes:
        """The batch's raw bytes: JSON, gzipped JSON, `{"Records": [...]}`, an array or JSON
        lines. The reader detects the format."""
        ...
