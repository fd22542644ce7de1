"""Publishing what ALPHA's ingest measures as the `ALPHA/IAM` metrics, and the rollout's hook.

`publish_deliveries`: every delivery (log batch) of the sources that was never published is
read once; its records go into the usage store like any ingest (reports, and the sandbox's
replay, read them there) and, counted per principal and minute (`alpha.usage.minutes`), into
data points timestamped at the calls' own minutes:

- `Calls`, `AccessDenied` (Count) and `IAMErrorRate` (Percent: AccessDenied per call in that
  minute), dimension `Principal` (the role's or user's ARN);
- `UnreadRecords` (Count, no dimension) when records of the delivery could not be read;
- `DeliveredUntil` (no dimension), last: the delivery's latest event time in seconds since the
  epoch, which the CloudWatch monitor reads as how far the logs have arrived.

A delivery is published once, by key: the ledger remembers it after CloudWatch accepted its
points, and a run repeats at most the points of the deliveries of one request it was cut off
in. One that changed after it was published is reported, not published again (its calls
would count twice; CloudTrail never rewrites a delivered file). Deliveries are looked for over
the last `lookback` (the sandbox's, so that it can replay them; at least 14 days). CloudWatch
takes points from the last 14 days to 2 hours ahead: others are left out and counted, and
their deliveries recorded as published.

`publish_objects` is the same for the objects an S3 notification names (the serverless path).

`MeasuredMonitor` is the rollout's hook: around whichever monitor a rollout watches, it
publishes what each bake measured (`BakeCalls`, `BakeAccessDenied`, `BakeErrorRate`, per
principal; each the whole bake so far, at the time the logs reach), so a dashboard or an alarm
sees the rollout on CloudWatch even when it is judged on log files.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from alpha.rollout.iam_ports import ErrorRate, Monitor, MonitoredCall
from alpha.rollout.metric_ports import (
    NAMESPACE,
    DeliveryLedger,
    MetricDatum,
    MetricSink,
    PublishedDelivery,
)
from alpha.usage.errors import UsageError
from alpha.usage.ports import LogBatch, TimeWindow, UsageSource, UsageWriter
from alpha.usage.reader import ReadProblem, SkipReason

if TYPE_CHECKING:
    from alpha.usage.ingest import InterpreterFactory
    from alpha.usage.minutes import DeliveryMinutes

__all__ = [
    "MeasuredMonitor",
    "NotifiedObject",
    "PublishReport",
    "Publishing",
    "delivery_points",
    "publish_deliveries",
    "publish_objects",
]

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
OLDEST = timedelta(days=14)  # PutMetricData refuses points older than this
NEWEST = timedelta(hours=2)  # or further ahead than this
POINTS_PER_REQUEST = 1000
# ..._CloudTrail_us-east-1_20230710T1205Z_AbCd.json.gz: the minute the file was delivered.
_DELIVERY_STAMP = re.compile(r"_(\d{8}T\d{4})Z_[^/]*$")


@dataclass(frozen=True, slots=True)
class PublishReport:
    """What one run published."""

    deliveries: int
    points: int
    principals: frozenset[str]
    covered_until: datetime | None
    already: int
    changed: tuple[str, ...]
    left_out: int
    unread: int
    problems: tuple[ReadProblem, ...]

    def to_dict(self) -> dict[str, object]:
        covered = None if self.covered_until is None else self.covered_until.isoformat()
        return {
            "deliveries": self.deliveries,
            "points": self.points,
            "principals": len(self.principals),
            "covered_until": covered,
            "already_published": self.already,
            "changed_after_publishing": list(self.changed),
            "points_left_out": self.left_out,
            "unread_records": self.unread,
            "problems": [p.describe() for p in self.problems],
        }


@dataclass(slots=True)
class _Run:
    """A run's tallies, and its pending request: deliveries and their points, sent once full."""

    to: Publishing
    pending: list[PublishedDelivery] = field(default_factory=list)
    points: list[MetricDatum] = field(default_factory=list)
    published: int = 0
    sent: int = 0
    left_out: int = 0
    unread: int = 0
    latest: datetime | None = None
    principals: set[str] = field(default_factory=set)
    problems: list[ReadProblem] = field(default_factory=list)

    def take(self, batch: LogBatch, found: DeliveryMinutes) -> None:
        now = self.to.clock()
        points, dropped = within_reach(delivery_points(found, now), now)
        self.left_out += dropped
        self.unread += found.unread + (0 if found.readable else 1)
        self.problems += found.problems
        self.principals.update(m.principal for m in found.minutes)
        if found.latest is not None and (self.latest is None or found.latest > self.latest):
            self.latest = found.latest
        self.pending.append(PublishedDelivery(batch.key, batch.version, now))
        self.points += points
        if len(self.points) >= POINTS_PER_REQUEST:
            self.flush()

    def flush(self) -> None:
        if self.points:
            self.to.sink.put(self.to.namespace, self.points)
        if self.pending:
            self.to.ledger.record(self.pending)
        self.published += len(self.pending)
        self.sent += len(self.points)
        self.pending, self.points = [], []


@dataclass(frozen=True, slots=True)
class Publishing:
    """Where a publish run writes: the usage store, the metrics, the ledger; its clock, the
    interpretation of events (as for the ingest; ALPHA's own by default), and how far back
    deliveries are looked for (at least the 14 days CloudWatch takes points from)."""

    usage: UsageWriter
    sink: MetricSink
    ledger: DeliveryLedger
    clock: Clock
    interpreter: InterpreterFactory | None = None
    namespace: str = NAMESPACE
    lookback: timedelta = OLDEST


def publish_deliveries(sources: Sequence[UsageSource], to: Publishing) -> PublishReport:
    """Publish every delivery of `sources` not published before (see the module docstring)."""
    interpreter = to.interpreter or _default_interpreter()
    listed = list(_listed(sources, TimeWindow(to.clock() - max(to.lookback, OLDEST))))
    known = to.ledger.versions([batch.key for _, batch in listed])
    changed = tuple(b.key for _, b in listed if b.key in known and known[b.key] != b.version)
    run = _Run(to)
    for source, batch in listed:
        if batch.key in known:
            continue
        found = _read(source, batch, to.usage, interpreter)
        if isinstance(found, ReadProblem):
            run.problems.append(found)  # not recorded: tried again next run
        else:
            run.take(batch, found)
    run.flush()
    for key in changed:
        log.warning("%s changed after it was published: not published again", key)
    return PublishReport(
        run.published,
        run.sent,
        frozenset(run.principals),
        run.latest,
        len(known) - len(changed),
        changed,
        run.left_out,
        run.unread,
        tuple(run.problems),
    )


def _listed(
    sources: Sequence[UsageSource], window: TimeWindow
) -> Iterator[tuple[UsageSource, LogBatch]]:
    seen: set[str] = set()
    for source in sources:
        for batch in source.batches(window):
            if batch.key not in seen:
                seen.add(batch.key)
                yield source, batch


def _default_interpreter() -> InterpreterFactory:
    from alpha.usage.ingest import default_interpreter

    return default_interpreter


def _read(
    source: UsageSource, batch: LogBatch, usage: UsageWriter, interpreter: InterpreterFactory
) -> DeliveryMinutes | ReadProblem:
    """The delivery's minutes, its hourly rows saved in the usage store on the way; a problem
    when its bytes could not be fetched (a network error: worth another try)."""
    from alpha.usage.aggregate import StoredBatch
    from alpha.usage.minutes import tally_delivery

    try:
        data = source.read(batch)
    except (OSError, UsageError) as exc:
        detail = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        return ReadProblem(batch.key, SkipReason.UNREADABLE, detail)
    hourly, minutes = tally_delivery(batch.key, data, interpreter)
    if hourly is not None and usage.versions([batch.key]).get(batch.key) != batch.version:
        usage.save([StoredBatch(batch.key, batch.version, batch.size, hourly)])
    return minutes


def delivery_points(found: DeliveryMinutes, now: datetime) -> list[MetricDatum]:
    """The delivery's data points, its marker last."""
    points: list[MetricDatum] = []
    for minute in found.minutes:
        where = (("Principal", minute.principal),)
        points += [
            MetricDatum("Calls", minute.calls, minute.minute, where),
            MetricDatum("AccessDenied", minute.denied, minute.minute, where),
            MetricDatum("IAMErrorRate", 100 * minute.error_rate, minute.minute, where, "Percent"),
        ]
    unread = found.unread + (0 if found.readable else 1)
    when = found.latest or delivered_at(found.key) or now
    if unread:
        points.append(MetricDatum("UnreadRecords", unread, _minute(when)))
    if found.latest is not None:
        marker = found.latest.timestamp()
        points.append(MetricDatum("DeliveredUntil", marker, _minute(found.latest), (), "Seconds"))
    return points


def within_reach(points: Sequence[MetricDatum], now: datetime) -> tuple[list[MetricDatum], int]:
    """The points CloudWatch takes (14 days back to 2 hours ahead), and how many are not."""
    kept = [p for p in points if now - OLDEST < p.timestamp <= now + NEWEST]
    return kept, len(points) - len(kept)


def delivered_at(key: str) -> datetime | None:
    """The delivery time in a CloudTrail file name (`..._20230710T1205Z_...`), if any."""
    found = _DELIVERY_STAMP.search(key)
    if found is None:
        return None
    return datetime.strptime(found.group(1), "%Y%m%dT%H%M").replace(tzinfo=UTC)


def _minute(moment: datetime) -> datetime:
    return moment.replace(second=0, microsecond=0)


# The serverless path ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NotifiedObject:
    """An object an S3 `ObjectCreated` notification names: its key (already URL-decoded),
    size and ETag, as the notification gives them."""

    bucket: str
    key: str
    size: int
    etag: str


class _NotifiedSource:
    """A `UsageSource` of exactly the notified objects, read through `reader` (an S3 source
    of the bucket: it fetches `s3://bucket/key` at the listed ETag)."""

    def __init__(self, reader: UsageSource, objects: Sequence[NotifiedObject]) -> None:
        self._reader = reader
        self._batches = [
            LogBatch(f"s3://{o.bucket}/{o.key}", o.size, o.etag.strip('"')) for o in objects
        ]

    @property
    def name(self) -> str:
        return self._reader.name

    def batches(self, window: TimeWindow) -> Iterator[LogBatch]:
        return iter(self._batches)

    def read(self, batch: LogBatch) -> bytes:
        return self._reader.read(batch)


def publish_objects(
    objects: Sequence[NotifiedObject], reader_for: Callable[[str], UsageSource], to: Publishing
) -> PublishReport:
    """`publish_deliveries` over the objects S3 notified (`reader_for(bucket)` reads them).
    Digest files and other objects than CloudTrail logs are left out."""
    wanted = [o for o in objects if "/CloudTrail/" in f"/{o.key}" and _is_log(o.key)]
    buckets = sorted({o.bucket for o in wanted})
    sources = [
        _NotifiedSource(reader_for(bucket), [o for o in wanted if o.bucket == bucket])
        for bucket in buckets
    ]
    return publish_deliveries(sources, to)


def _is_log(key: str) -> bool:
    return key.endswith((".json.gz", ".json"))


# The rollout's hook -----------------------------------------------------------------------


class MeasuredMonitor:
    """`monitor`, publishing each bake's measurement to `sink` as it is taken (see the module
    docstring). A measurement already published (the same principal, window, coverage and
    counts) is not sent again; a failure to publish is logged, never fails the stage."""

    def __init__(self, monitor: Monitor, sink: MetricSink) -> None:
        self._monitor = monitor
        self._sink = sink
        self._sent: set[tuple[str, datetime, datetime, datetime, int, int]] = set()

    def error_rate(self, principal: str, since: datetime, until: datetime) -> ErrorRate:
        rate = self._monitor.error_rate(principal, since, until)
        covered = rate.covered_until
        if covered is None:
            return rate
        key = (principal, since, until, covered, rate.calls, rate.denied)
        if key not in self._sent:
            self._publish(principal, rate, min(covered, until))
            self._sent.add(key)
        return rate

    def calls(self, principal: str, since: datetime, until: datetime) -> list[MonitoredCall]:
        return self._monitor.calls(principal, since, until)

    def covered_until(self) -> datetime | None:
        return self._monitor.covered_until()

    def _publish(self, principal: str, rate: ErrorRate, at: datetime) -> None:
        where = (("Principal", principal),)
        points = [
            MetricDatum("BakeCalls", rate.calls, at, where),
            MetricDatum("BakeAccessDenied", rate.denied, at, where),
            MetricDatum("BakeErrorRate", 100 * rate.rate, at, where, "Percent"),
        ]
        try:
            self._sink.put(NAMESPACE, points)
        except Exception:  # a dashboard's data never stops a rollback
            log.exception("could not publish the bake's measurement of %s", principal)
