"""Usage, aggregated: per batch and hour while ingesting, per principal for the report.

Pure: no I/O. While a log file is read, its interpreted events are tallied (`alpha.usage.tally`)
into `HourlyUsage` rows keyed by (principal, session, action, resource, hour, region); the store
keeps those rows per batch, so a report can cover exactly the sources and the time filter asked
for. `usage_rows` folds them
into the report's rows; the DuckDB store does the same fold in SQL.

Counting: `count` is the calls that were allowed (including calls that failed for reasons other
than authorisation, which IAM did allow), `denied` the calls IAM refused. A denied call is never
counted as used. Times are whole seconds since the epoch, UTC; an hour bucket is
`seconds // 3600`. First and last seen are exact to the second; time filters select whole hours.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from typing import NamedTuple

import msgspec

from alpha.usage.ports import TimeWindow

__all__ = [
    "BatchUsage",
    "HourlyUsage",
    "RowFile",
    "SourceIpCount",
    "SourceIps",
    "StoredBatch",
    "StoredSummary",
    "UnmappedCount",
    "UsageOutline",
    "UsageQuery",
    "UsageRow",
    "UsageSummary",
    "source_ips_of",
]


SECONDS_PER_HOUR = 3600


class HourlyUsage(NamedTuple):
    """One stored row. A NamedTuple, not a dataclass: there are millions of these, and they
    travel between processes encoded as JSON arrays (see `BatchUsage.rows`)."""

    principal: str
    session: str | None
    action: str
    resource: str
    hour: int
    used: int  # allowed calls (not `count`: that name is tuple's method)
    denied: int
    first_seen: int
    last_seen: int
    # Last and defaulted, so rows built positionally without it still work. The event's
    # `awsRegion` (None when the record had none): part of the row's key.
    region: str | None = None


# Source IPs have too many distinct values to key rows on: per (principal, action) a batch keeps
# the first this many distinct ones with their counts, and counts the rest as overflow.
MAX_SOURCE_IPS = 16


class SourceIpCount(NamedTuple):
    """Allowed calls of `action` by `principal` from `source_ip`. `source_ip` None is the
    overflow: allowed calls whose IP is not listed (beyond `MAX_SOURCE_IPS`, or not recorded),
    so a list with overflow is incomplete."""

    principal: str
    action: str
    source_ip: str | None
    calls: int  # not `count`: that name is tuple's method


@dataclass(frozen=True, slots=True)
class SourceIps:
    """The source IPs of one (principal, action) over stored batches: at most `MAX_SOURCE_IPS`,
    most calls first, and the allowed calls from IPs not listed (0: the list is complete)."""

    counts: tuple[tuple[str, int], ...]
    overflow: int

    @property
    def ips(self) -> tuple[str, ...]:
        return tuple(ip for ip, _ in self.counts)


@dataclass(frozen=True, slots=True)
class UnmappedCount:
    event_source: str
    event_name: str
    count: int


@dataclass(frozen=True, slots=True)
class RowFile:
    """Rows as JSON lines (`BatchUsage.rows`' form) that a worker process left in a file, so
    they never pass through the parent: a store that loads files reads this one where it is."""

    path: str

    def read(self) -> bytes:
        with open(self.path, "rb") as rows:
            return rows.read()


@dataclass(frozen=True, slots=True)
class BatchUsage:
    """What one log batch contributed: rows, and the records that gave no usage.

    `rows` holds the `HourlyUsage` rows as JSON lines, each a JSON array in field order: that is
    how they cross from a worker process (pickling a million tuples costs seconds, this bytes
    object nothing) and how the DuckDB store bulk-loads them. `hourly()` decodes them.
    `source_ips` holds the batch's `SourceIpCount` rows the same way (`ip_counts()`).
    Either may instead be a `RowFile` holding those lines (see `alpha.usage.worker`).
    `names` lists the distinct principals, sessions and actions of the rows and `regions` their
    regions, so a store can add those before it loads the rows (`of` and the tallies fill
    them; the DuckDB store refuses rows that name anything missing from them)."""

    events: int
    rows: bytes | RowFile
    row_count: int
    skipped: Mapping[str, int]
    unmapped: tuple[UnmappedCount, ...]
    source_ips: bytes | RowFile = b""
    source_ip_count: int = 0
    names: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()

    @classmethod
    def of(
        cls,
        events: int,
        rows: Iterable[HourlyUsage],
        skipped: Mapping[str, int] | None = None,
        unmapped: tuple[UnmappedCount, ...] = (),
        source_ips: Iterable[SourceIpCount] = (),
    ) -> BatchUsage:
        listed = list(rows)
        encoded, count = encode_rows(listed)
        ips, ip_count = encode_rows(source_ips)
        names, regions = names_of((r.principal, r.session, r.action, r.region) for r in listed)
        return cls(
            events, encoded, count, dict(skipped or {}), unmapped, ips, ip_count, names, regions
        )

    def hourly(self) -> list[HourlyUsage]:
        lines = _lines(self.rows)
        return _row_decoder().decode_lines(lines) if lines else []

    def ip_counts(self) -> list[SourceIpCount]:
        lines = _lines(self.source_ips)
        return _ip_decoder().decode_lines(lines) if lines else []


def _lines(data: bytes | RowFile) -> bytes:
    return data.read() if isinstance(data, RowFile) else data


def names_of(
    keys: Iterable[tuple[str, str | None, str, str | None]],
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The distinct principals, sessions and actions, and regions, of rows' (principal,
    session, action, region), each sorted."""
    names: set[str] = set()
    regions: set[str | None] = set()
    for principal, session, action, region in keys:
        names.add(principal)
        names.add(action)
        if session is not None:
            names.add(session)
        regions.add(region)
    regions.discard(None)
    return tuple(sorted(names)), tuple(sorted(r for r in regions if r is not None))


def encode_rows(rows: Iterable[tuple[object, ...]]) -> tuple[bytes, int]:
    """Rows as JSON lines of arrays, and how many."""
    encode_into = _row_encoder().encode_into
    buffer = bytearray()
    count = 0
    for row in rows:
        encode_into(row, buffer, -1)
        buffer += b"\n"
        count += 1
    return bytes(buffer), count


@cache
def _row_encoder() -> msgspec.json.Encoder:
    return msgspec.json.Encoder()


@cache
def _row_decoder() -> msgspec.json.Decoder[HourlyUsage]:
    return msgspec.json.Decoder(HourlyUsage)


@cache
def _ip_decoder() -> msgspec.json.Decoder[SourceIpCount]:
    return msgspec.json.Decoder(SourceIpCount)


@dataclass(frozen=True, slots=True)
class StoredBatch:
    """A batch as the store keeps it: its identity and what it contributed."""

    key: str
    version: str
    size: int
    usage: BatchUsage


@dataclass(frozen=True, slots=True)
class StoredSummary:
    """Counts over stored batches: how many of the asked keys are stored, their records."""

    files: int
    events: int
    skipped: Mapping[str, int]
    unmapped: tuple[UnmappedCount, ...]


@dataclass(frozen=True, slots=True)
class UsageQuery:
    """Which stored usage a report covers: these batches, one principal or all, a window.
    The window selects whole hours: every hour bucket that overlaps it. `principals` narrows
    it further to a set of principals (as stored: CloudTrail's spelling), so a report over
    many can be read a part at a time."""

    keys: tuple[str, ...]
    principal: str | None = None
    window: TimeWindow = field(default_factory=TimeWindow)
    principals: frozenset[str] | None = None

    def among(self, principals: frozenset[str]) -> UsageQuery:
        """The same query over these principals only."""
        return UsageQuery(self.keys, self.principal, self.window, principals)

    def hour_range(self) -> tuple[int | None, int | None]:
        """[first, last) hour buckets the window overlaps; None for an open end."""
        since, until = self.window.since, self.window.until
        first = None if since is None else math.floor(since.timestamp() / SECONDS_PER_HOUR)
        last = None if until is None else math.ceil(until.timestamp() / SECONDS_PER_HOUR)
        return first, last

    def selects(self, row: HourlyUsage) -> bool:
        if self.principal is not None and row.principal != self.principal:
            return False
        if self.principals is not None and row.principal not in self.principals:
            return False
        first, last = self.hour_range()
        return (first is None or row.hour >= first) and (last is None or row.hour < last)


@dataclass(frozen=True, slots=True)
class UsageOutline:
    """What a report over many principals needs before reading any one's rows, in little
    memory: each principal with usage (as stored, sorted) and its number of stored rows (an
    upper bound on its report rows, to read the report in parts of bounded size), every
    action anyone used, and the first and last call (None without usage)."""

    principals: tuple[tuple[str, int], ...]
    actions: frozenset[str]
    first_seen: datetime | None
    last_seen: datetime | None


class UsageRow(msgspec.Struct, frozen=True):
    """One line of the report. A msgspec Struct rather than a dataclass: a report can hold
    hundreds of thousands of rows, which the store decodes from JSON and the CLI encodes to
    JSON in one C call each (times as RFC 3339, UTC)."""

    principal: str
    action: str
    resource: str
    count: int
    denied: int
    first_seen: datetime
    last_seen: datetime
    sessions: tuple[str, ...]
    # the distinct `awsRegion`s of the calls in this row, sorted (last: positional use stays)
    regions: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class UsageSummary:
    files: int
    events: int
    events_read: int
    skipped: Mapping[str, int]
    unmapped: tuple[UnmappedCount, ...]


def usage_rows(hourly: Iterable[HourlyUsage]) -> list[UsageRow]:
    """Fold hourly rows into report rows, sorted by principal, action, resource."""
    folded: dict[tuple[str, str, str], list[int]] = {}
    sessions: dict[tuple[str, str, str], set[str]] = {}
    regions: dict[tuple[str, str, str], set[str]] = {}
    for row in hourly:
        key = (row.principal, row.action, row.resource)
        tally = folded.setdefault(key, [0, 0, row.first_seen, row.last_seen])
        tally[0] += row.used
        tally[1] += row.denied
        tally[2] = min(tally[2], row.first_seen)
        tally[3] = max(tally[3], row.last_seen)
        if row.session is not None:
            sessions.setdefault(key, set()).add(row.session)
        if row.region is not None:
            regions.setdefault(key, set()).add(row.region)
    return [
        UsageRow(
            principal=key[0],
            action=key[1],
            resource=key[2],
            count=tally[0],
            denied=tally[1],
            first_seen=datetime.fromtimestamp(tally[2], UTC),
            last_seen=datetime.fromtimestamp(tally[3], UTC),
            sessions=tuple(sorted(sessions.get(key, ()))),
            regions=tuple(sorted(regions.get(key, ()))),
        )
        for key, tally in sorted(folded.items())
    ]


def source_ips_of(counts: Iterable[SourceIpCount], principal: str) -> dict[str, SourceIps]:
    """Per action, the principal's source IPs summed over batches (see `SourceIps`)."""
    per_action: dict[str, dict[str | None, int]] = {}
    for row in counts:
        if row.principal == principal:
            tally = per_action.setdefault(row.action, {})
            tally[row.source_ip] = tally.get(row.source_ip, 0) + row.calls
    found = {}
    for action, tally in sorted(per_action.items()):
        overflow = tally.pop(None, 0)
        ranked = sorted(((ip, n) for ip, n in tally.items() if ip is not None), key=_by_count)
        kept = ranked[:MAX_SOURCE_IPS]
        overflow += sum(n for _, n in ranked[MAX_SOURCE_IPS:])
        found[action] = SourceIps(tuple(kept), overflow)
    return found


def _by_count(item: tuple[str, int]) -> tuple[int, str]:
    return -item[1], item[0]


def merge_counts(parts: Iterable[Mapping[str, int]]) -> dict[str, int]:
    total: dict[str, int] = {}
    for part in parts:
        for reason, count in part.items():
            total[str(reason)] = total.get(str(reason), 0) + count
    return dict(sorted(total.items()))


def merge_unmapped(parts: Iterable[Iterable[UnmappedCount]]) -> tuple[UnmappedCount, ...]:
    """Sum unmapped counts; most frequent first."""
    total: dict[tuple[str, str], int] = {}
    for part in parts:
        for item in part:
            key = (item.event_source, item.event_name)
            total[key] = total.get(key, 0) + item.count
    ordered = sorted(total.items(), key=lambda kv: (-kv[1], kv[0]))
    return tuple(UnmappedCount(s, n, c) for (s, n), c in ordered)
