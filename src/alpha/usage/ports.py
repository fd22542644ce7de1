"""Where CloudTrail comes from. Each source is an adapter implementing `UsageSource`.

A source hands out log batches: a delivered log file (local folder, S3) or a closed slice of
time (the LookupEvents API). A batch's `key` and `version` let the store skip what it already
ingested, so a daily run reads only what is new.

Where usage is kept is split as its callers use it: the ingest writes through a `UsageWriter`
(which batches are stored, store new ones), reports read through a `UsageReader`; `UsageStore`
is both, for the adapters that are both (DuckDB) and the callers that ingest and then report.
The test doubles are in tests/fakes, and tests/contracts runs them and every adapter through
the same cases.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Literal, Protocol, runtime_checkable

if TYPE_CHECKING:
    from alpha.usage.aggregate import (
        BatchUsage,
        StoredBatch,
        StoredSummary,
        UsageOutline,
        UsageQuery,
        UsageRow,
    )
    from alpha.usage.people import PersonUse


__all__ = [
    "LogBatch",
    "TalliedSource",
    "TimeWindow",
    "UsageReader",
    "UsageSource",
    "UsageStore",
    "UsageWriter",
]


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


@runtime_checkable
class WorkerReadableSource(UsageSource, Protocol):
    """A source whose `read` works as well in a worker process, given a copy of the source
    (local files: a path, no client, no shared pacing). The ingest then has each worker read
    its own batches instead of sending their bytes over a pipe."""

    reads_in_worker: Literal[True]


@runtime_checkable
class TalliedSource(UsageSource, Protocol):
    """A source that counts the calls itself (a query engine grouping them: Athena) and hands
    out each batch's usage instead of its bytes; the ingest stores it like any other."""

    def tallied(self, batch: LogBatch) -> BatchUsage:
        """The batch's usage; `UsageError` (or `OSError`) when it cannot be had."""
        ...


class UsageWriter(Protocol):
    """The half of the usage store the ingest writes through: which batches it holds, and
    new batches to keep."""

    def versions(self, keys: Collection[str]) -> dict[str, str]:
        """The stored version of each of these batch keys that was ingested before."""
        ...

    def save(self, batches: Sequence[StoredBatch]) -> None:
        """Store these batches in one transaction, replacing earlier versions of their keys.
        What is stored is the rows' content: a `RowFile` among them may be deleted once this
        returns (the ingest deletes each group's files after its save)."""
        ...


class UsageReader(Protocol):
    """The half of the usage store reports read: the stored batches' rows and counts. Every
    read honours all of the query's filters, `principals` among them: a report over many
    principals reads its rows a set of principals at a time (`outline` says who there is)."""

    def usage(self, query: UsageQuery) -> list[UsageRow]:
        """Report rows over the query's batches and filters, by principal, action, resource."""
        ...

    def outline(self, query: UsageQuery) -> UsageOutline:
        """Who has usage under the query (with their stored row counts), which actions, and
        the first and last call: small, whatever the number of rows."""
        ...

    def active_days(self, query: UsageQuery) -> dict[str, dict[str, int]]:
        """Per principal and action, the number of distinct UTC days with an allowed call:
        how often an action recurs, which first and last seen alone cannot tell."""
        ...

    def people(self, query: UsageQuery) -> list[PersonUse]:
        """Per principal, person and action, the calls of the rows that name a person (the
        people behind shared roles), by principal, person, action."""
        ...

    def usage_documents(self, query: UsageQuery) -> Iterator[list[str]]:
        """The same rows, each already a compact JSON object of `UsageRow`'s fields (times
        RFC 3339 UTC), in slices: for output that is JSON anyway, without building objects."""
        ...

    def summary(self, keys: Collection[str]) -> StoredSummary:
        """Record counts over these batches (ingested now or in an earlier run)."""
        ...


class UsageStore(UsageWriter, UsageReader, Protocol):
    """Where usage is kept between runs, per batch, so a daily run reads only new logs and a
    report covers exactly the batches (and filters) asked for: both halves, for the adapters
    that are both and the callers that ingest and then report."""


@runtime_checkable
class RowFileStore(UsageWriter, Protocol):
    """A store that bulk-loads rows from files, and so takes a batch's rows as a `RowFile` as
    well as in memory. With worker processes, the ingest then has each worker leave its rows
    in a file (a folder under `spool_base`) rather than send them through the parent."""

    def spool_base(self, needed: int) -> str:
        """The folder to make the spool folder in, for about `needed` bytes of row files."""
        ...
