"""Counting one batch: its interpreted events tallied into hourly rows, skips and unmapped
events, and source IPs, then finished into a `BatchUsage` (see `alpha.usage.aggregate`).

`BatchTally` is the Python tally; the ingest's native one (`alpha.usage.native`) counts the
same way, and both go through `count_outcome`. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from alpha.usage.aggregate import (
    MAX_SOURCE_IPS,
    SECONDS_PER_HOUR,
    BatchUsage,
    UnmappedCount,
    encode_rows,
    names_of,
)
from alpha.usage.interpret import (
    ActionUse,
    EventUsage,
    IgnoredEvent,
    SkippedEvent,
    UnmappedEvent,
)

RowKey = tuple[str, str | None, str, str, int, str | None]


class UsageCounter(Protocol):
    """What counts one batch's interpreted events: `BatchTally`, or the ingest's native tally
    (`alpha.usage.native`)."""

    events: int

    def skip(self, reason: str, count: int = 1, /) -> None: ...

    def unmapped(self, event_source: str, event_name: str, /) -> None: ...

    def use(  # noqa: PLR0917 - the hot loop's positional call
        self,
        principal: str,
        session: str | None,
        second: int,
        region: str | None,
        source_ip: str | None,
        denied: bool,
        uses: Sequence[ActionUse],
        /,
    ) -> None: ...

    def add(self, outcome: EventUsage | IgnoredEvent | UnmappedEvent | SkippedEvent, /) -> None: ...


def count_outcome(
    counter: UsageCounter, outcome: EventUsage | IgnoredEvent | UnmappedEvent | SkippedEvent
) -> None:
    """Count one interpreted event into `counter`."""
    counter.events += 1
    if isinstance(outcome, UnmappedEvent):
        counter.unmapped(outcome.event_source, outcome.event_name)
        outcome = outcome.usage  # and the principal's activity, under a stand-in action
    if isinstance(outcome, EventUsage):
        counter.use(
            outcome.principal,
            outcome.session,
            int(outcome.time.timestamp()),
            outcome.region,
            outcome.source_ip,
            outcome.denied,
            outcome.uses,
        )
    else:
        counter.skip(outcome.reason)


@dataclass(slots=True)
class BatchTally:
    """Accumulates one batch's interpreted events. Mutable on purpose: it is the hot loop."""

    events: int = 0
    _rows: dict[RowKey, list[int]] = field(default_factory=dict)
    _skipped: dict[str, int] = field(default_factory=dict)
    _unmapped: dict[tuple[str, str], int] = field(default_factory=dict)
    # (principal, action) -> {source IP: allowed calls}; the overflow under the key None
    _ips: dict[tuple[str, str], dict[str | None, int]] = field(default_factory=dict)

    def add(self, outcome: EventUsage | IgnoredEvent | UnmappedEvent | SkippedEvent) -> None:
        count_outcome(self, outcome)

    def skip(self, reason: str, count: int = 1) -> None:
        reason = str(reason)  # a StrEnum member becomes its plain text
        self._skipped[reason] = self._skipped.get(reason, 0) + count

    def unmapped(self, event_source: str, event_name: str) -> None:
        key = (event_source, event_name)
        self._unmapped[key] = self._unmapped.get(key, 0) + 1

    def use(  # noqa: PLR0917 - the hot loop: positional arguments are the cheap ones
        self,
        principal: str,
        session: str | None,
        second: int,
        region: str | None,
        source_ip: str | None,
        denied: bool,
        uses: Sequence[ActionUse],
    ) -> None:
        """Count one call (already counted in `events`) needing these (action, resource)s."""
        hour = second // SECONDS_PER_HOUR
        rows = self._rows
        for use in uses:
            key = (principal, session, use.action, use.resource, hour, region)
            tally = rows.get(key)
            if tally is None:
                rows[key] = [0 if denied else 1, 1 if denied else 0, second, second]
            else:
                tally[1 if denied else 0] += 1
                if second < tally[2]:
                    tally[2] = second
                elif second > tally[3]:
                    tally[3] = second
        if not denied:
            self._count_ip(principal, source_ip, uses)

    def _count_ip(self, principal: str, source_ip: str | None, uses: Sequence[ActionUse]) -> None:
        actions = (uses[0].action,) if len(uses) == 1 else dict.fromkeys(u.action for u in uses)
        ip_tallies = self._ips
        for action in actions:
            counts = ip_tallies.get((principal, action))
            if counts is None:
                counts = ip_tallies[(principal, action)] = {}
            key = source_ip
            if (
                key is not None
                and key not in counts
                and len(counts) - (None in counts) >= MAX_SOURCE_IPS
            ):
                key = None
            counts[key] = counts.get(key, 0) + 1

    def finish(self) -> BatchUsage:
        rows, count = encode_rows((*key[:5], *tally, key[5]) for key, tally in self._rows.items())
        unmapped = tuple(UnmappedCount(s, n, c) for (s, n), c in sorted(self._unmapped.items()))
        ips, ip_count = encode_rows(
            (principal, action, ip, n)
            for (principal, action), counts in self._ips.items()
            for ip, n in counts.items()
        )
        names, regions = names_of((k[0], k[1], k[2], k[5]) for k in self._rows)
        return BatchUsage(
            self.events,
            rows,
            count,
            dict(self._skipped),
            unmapped,
            ips,
            ip_count,
            names,
            regions,
        )
