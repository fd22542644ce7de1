"""Per principal and minute: the calls and AccessDenied calls one CloudTrail delivery holds,
the numbers ALPHA publishes as the `ALPHA/IAM` metrics `Calls`, `AccessDenied` and
`IAMErrorRate` (see `alpha.app.monitoring`).

Counted exactly as the ingest counts them (the same reader, the same interpretation, through
the same `UsageCounter` hooks): one call per IAM action an event needs, so a minute's numbers
sum to the hourly usage rows' `count + denied`. The usage store keeps hours, which would put a
denial at 12:50 into a bake that started at 12:10; metrics need the minute, so a delivery is
tallied again here, into minutes. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from alpha.usage.aggregate import BatchUsage
from alpha.usage.errors import UsageError
from alpha.usage.fast_tally import FastTally
from alpha.usage.interpret import ActionUse, EventUsage, IgnoredEvent, SkippedEvent, UnmappedEvent
from alpha.usage.mapping import EventMapper
from alpha.usage.reader import DEFAULT_LIMITS, LazyLogReader, ReadLimits, ReadProblem, SkipReason
from alpha.usage.tally import count_outcome
from alpha.usage.worker import InterpreterFactory, MapperInterpreter, TallyJob, tally, worker_state

__all__ = [
    "UNREAD_REASONS",
    "DeliveryMinutes",
    "MinuteTally",
    "PrincipalMinute",
    "tally_delivery",
    "tally_minutes",
]

SECONDS_PER_MINUTE = 60
# What the reader could not read (a record cut short, too large, a file refused): any may hide
# an AccessDenied. Events ignored by design (no principal, unauthenticated) are not among them.
UNREAD_REASONS = frozenset(reason.value for reason in SkipReason)


@dataclass(frozen=True, slots=True)
class PrincipalMinute:
    """One principal's calls in the minute starting at `minute` (UTC)."""

    principal: str
    minute: datetime
    calls: int
    denied: int

    @property
    def error_rate(self) -> float:
        return self.denied / self.calls if self.calls else 0.0


@dataclass(frozen=True, slots=True)
class DeliveryMinutes:
    """What one delivery (log file) holds, by principal and minute. `latest` is its latest
    event time with a principal; `unread` the records the reader could not read; `readable`
    False when the file as a whole could not be (then nothing else is known)."""

    key: str
    minutes: tuple[PrincipalMinute, ...]
    latest: datetime | None
    unread: int
    problems: tuple[ReadProblem, ...]
    readable: bool = True


@dataclass(slots=True)
class MinuteTally:
    """A `UsageCounter` that keeps (principal, minute) -> [calls, denied]."""

    events: int = 0
    unread: int = 0
    latest: int | None = None
    _counts: dict[tuple[str, int], list[int]] = field(default_factory=dict)

    def add(self, outcome: EventUsage | IgnoredEvent | UnmappedEvent | SkippedEvent) -> None:
        count_outcome(self, outcome)

    def skip(self, reason: str, count: int = 1) -> None:
        if str(reason) in UNREAD_REASONS:
            self.unread += count

    def unmapped(self, event_source: str, event_name: str) -> None:
        """An event no IAM action is known for: no call to count."""

    def use(  # noqa: PLR0917 - UsageCounter's positional hot-loop signature
        self,
        principal: str,
        session: str | None,
        second: int,
        region: str | None,
        source_ip: str | None,
        denied: bool,
        uses: Sequence[ActionUse],
    ) -> None:
        key = (principal, second - second % SECONDS_PER_MINUTE)
        tally = self._counts.setdefault(key, [0, 0])
        tally[0] += len(uses)
        if denied:
            tally[1] += len(uses)
        if self.latest is None or second > self.latest:
            self.latest = second

    def minutes(self) -> tuple[PrincipalMinute, ...]:
        return tuple(
            PrincipalMinute(principal, datetime.fromtimestamp(minute, UTC), calls, denied)
            for (principal, minute), (calls, denied) in sorted(self._counts.items())
        )


def tally_minutes(
    key: str, data: bytes, mapper: EventMapper, limits: ReadLimits = DEFAULT_LIMITS
) -> DeliveryMinutes:
    """Read one delivery's bytes (any format the ingest reads) into minutes."""
    decoded = LazyLogReader(limits=limits).decode(data, key)
    if decoded.format is None:
        return DeliveryMinutes(key, (), None, 0, tuple(decoded.problems), readable=False)
    tally = MinuteTally()
    for problem in decoded.problems:
        tally.events += 1
        tally.skip(problem.reason)
    FastTally(mapper).add_all(decoded.events, tally)
    latest = None if tally.latest is None else datetime.fromtimestamp(tally.latest, UTC)
    return DeliveryMinutes(key, tally.minutes(), latest, tally.unread, tuple(decoded.problems))


def tally_delivery(
    key: str, data: bytes, interpreter: InterpreterFactory
) -> tuple[BatchUsage | None, DeliveryMinutes]:
    """One delivery read both ways: its hourly usage as the ingest stores it (None when the
    file cannot be read), and its minutes. `interpreter` must be ALPHA's own (a mapper's)."""
    job = TallyJob(interpreter)
    interpret = worker_state(job.interpreter, job.strict, job.limits).interpret
    if not isinstance(interpret, MapperInterpreter):
        raise UsageError("per-minute metrics need ALPHA's own interpretation of events")
    outcome = tally(job, key, data)
    return outcome.usage, tally_minutes(key, data, interpret.mapper, job.limits)
