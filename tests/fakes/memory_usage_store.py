"""`MemoryUsageStore`: the `UsageStore` port in a dict, for tests of what ingests or reports.

It answers as the DuckDB store does (tests/contracts/test_usage_store.py runs both through the
same cases): rows are kept per batch and folded by `usage_rows`, the reference fold the DuckDB
store's SQL reproduces. It is not a `RowFileStore`, so with worker processes the ingest hands it
rows in memory; a `RowFile` it is given anyway is read during `save`, never kept.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import msgspec

from alpha.usage.aggregate import (
    HourlyUsage,
    StoredBatch,
    StoredSummary,
    UnmappedCount,
    UsageOutline,
    UsageQuery,
    UsageRow,
    merge_counts,
    merge_unmapped,
    usage_rows,
)
from alpha.usage.errors import UsageError
from alpha.usage.people import PersonUse, person_uses

HOURS_PER_DAY = 24
DOCUMENT_SLICE = 1_000


@dataclass(frozen=True, slots=True)
class _Kept:
    version: str
    events: int
    rows: tuple[HourlyUsage, ...]
    skipped: Mapping[str, int]
    unmapped: tuple[UnmappedCount, ...]


class MemoryUsageStore:
    """Both halves of the usage store. `saves` lists what each `save` was given, in order, so a
    test can see how the ingest grouped its batches and in what form the rows came."""

    def __init__(self) -> None:
        self._batches: dict[str, _Kept] = {}
        self.saves: list[tuple[StoredBatch, ...]] = []

    # UsageWriter ---------------------------------------------------------------------------
    def versions(self, keys: Collection[str]) -> dict[str, str]:
        return {key: self._batches[key].version for key in keys if key in self._batches}

    def save(self, batches: Sequence[StoredBatch]) -> None:
        # Every batch is decoded before any is kept: a save stores all of them or none.
        try:
            kept = {batch.key: _kept(batch) for batch in batches}
        except (OSError, msgspec.DecodeError) as exc:
            raise UsageError(f"memory usage store: cannot write the usage store: {exc}") from exc
        self.saves.append(tuple(batches))
        self._batches.update(kept)

    # UsageReader ---------------------------------------------------------------------------
    def usage(self, query: UsageQuery) -> list[UsageRow]:
        return usage_rows(self._selected(query))

    def outline(self, query: UsageQuery) -> UsageOutline:
        rows = list(self._selected(query))
        counts = Counter(row.principal for row in rows)
        return UsageOutline(
            principals=tuple(sorted(counts.items())),
            actions=frozenset(row.action for row in rows),
            first_seen=_moment(min((row.first_seen for row in rows), default=None)),
            last_seen=_moment(max((row.last_seen for row in rows), default=None)),
        )

    def active_days(self, query: UsageQuery) -> dict[str, dict[str, int]]:
        days: dict[str, dict[str, set[int]]] = {}
        for row in self._selected(query):
            if row.used > 0:
                per_action = days.setdefault(row.principal, {})
                per_action.setdefault(row.action, set()).add(row.hour // HOURS_PER_DAY)
        return {
            principal: {action: len(found) for action, found in per_action.items()}
            for principal, per_action in days.items()
        }

    def people(self, query: UsageQuery) -> list[PersonUse]:
        return person_uses(self._selected(query))

    def usage_documents(self, query: UsageQuery) -> Iterator[list[str]]:
        rows = self.usage(query)
        encode = msgspec.json.encode
        for start in range(0, len(rows), DOCUMENT_SLICE):
            yield [encode(row).decode() for row in rows[start : start + DOCUMENT_SLICE]]

    def summary(self, keys: Collection[str]) -> StoredSummary:
        kept = self._stored(keys)
        return StoredSummary(
            files=len(kept),
            events=sum(batch.events for batch in kept),
            skipped=merge_counts(batch.skipped for batch in kept),
            unmapped=merge_unmapped(batch.unmapped for batch in kept),
        )

    def _stored(self, keys: Iterable[str]) -> list[_Kept]:
        # A key asked for twice counts once, as in a SQL join on the distinct keys.
        return [self._batches[key] for key in dict.fromkeys(keys) if key in self._batches]

    def _selected(self, query: UsageQuery) -> Iterator[HourlyUsage]:
        for batch in self._stored(query.keys):
            yield from (row for row in batch.rows if query.selects(row))


def _kept(batch: StoredBatch) -> _Kept:
    usage = batch.usage
    return _Kept(
        version=batch.version,
        events=usage.events,
        rows=tuple(usage.hourly()),
        skipped={str(reason): count for reason, count in usage.skipped.items()},
        unmapped=usage.unmapped,
    )


def _moment(seconds: int | None) -> datetime | None:
    return None if seconds is None else datetime.fromtimestamp(seconds, UTC)
