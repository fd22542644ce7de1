"""`ScriptedMonitor`: the `Monitor` port over a list of calls, and `calls_in`, which turns
CloudTrail records into such calls the way ALPHA interprets them (so the fake and the
CloudTrail monitor can be given the same logs)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import msgspec

from alpha.rollout.iam_ports import ErrorRate, MonitoredCall
from alpha.usage.events import CloudTrailEvent
from alpha.usage.interpret import EventUsage, UnmappedEvent, interpret
from alpha.usage.mapping import EventMapper


@dataclass(frozen=True)
class Call:
    """One call of one action on one resource; denied when IAM refused it."""

    principal: str
    at: datetime
    action: str
    resource: str
    denied: bool = False
    region: str | None = None


@dataclass
class ScriptedMonitor:
    """A `Monitor` over a list of calls; `covered` is how far the logs reach (the latest call
    `add` was given, unless set)."""

    calls_made: list[Call] = field(default_factory=list)
    covered: datetime | None = None

    def add(self, *calls: Call) -> None:
        """Deliver more calls, as new log files would."""
        self.calls_made.extend(calls)
        latest = max((c.at for c in calls), default=None)
        if latest is not None:
            self.covered = latest if self.covered is None else max(self.covered, latest)

    def error_rate(self, principal: str, since: datetime, until: datetime) -> ErrorRate:
        mine = [c for c in self.calls_made if c.principal == principal and since <= c.at < until]
        return ErrorRate(len(mine), sum(c.denied for c in mine), self.covered)

    def calls(self, principal: str, since: datetime, until: datetime) -> list[MonitoredCall]:
        found = Counter(
            (c.action, c.resource, c.region or "")
            for c in self.calls_made
            if c.principal == principal and since <= c.at < until and not c.denied
        )
        return [MonitoredCall(a, r, g or None, n) for (a, r, g), n in sorted(found.items())]

    def covered_until(self) -> datetime | None:
        return self.covered


def calls_in(records: Iterable[dict[str, Any]], mapper: EventMapper) -> list[Call]:
    """One call per action and resource of each record that is a principal's call, as the
    ingest interprets it (an unmapped call under its stand-in action, as the usage store keeps
    it); records that are no principal's call (ignored, skipped) give none."""
    found: list[Call] = []
    for record in records:
        seen = interpret(msgspec.convert(record, CloudTrailEvent), mapper)
        if isinstance(seen, UnmappedEvent):
            seen = seen.usage
        if isinstance(seen, EventUsage):
            found.extend(
                Call(seen.principal, seen.time, use.action, use.resource, seen.denied)
                for use in seen.uses
            )
    return found
