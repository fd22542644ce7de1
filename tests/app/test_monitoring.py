"""`publish_deliveries` and `publish_objects` over the shared fakes and a real trail
(2023-07-10, us-east-1): what is published, when, and never twice."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from alpha.app.monitoring import (
    MeasuredMonitor,
    NotifiedObject,
    Publishing,
    delivered_at,
    publish_deliveries,
    publish_objects,
)
from alpha.usage.aggregate import UsageQuery
from alpha.usage.ports import LogBatch, TimeWindow
from tests.adapters.aws.samples import invictus_files, records_of
from tests.fakes.memory_backends import SetClock
from tests.fakes.memory_metrics import MemoryDeliveryLedger, MemoryMetricSink
from tests.fakes.memory_usage_source import MemoryUsageSource
from tests.fakes.memory_usage_store import MemoryUsageStore
from tests.fakes.scripted_monitor import Call, ScriptedMonitor

BERT = "arn:aws:iam::123837392027:user/bert-jan"
FOLDER = "AWSLogs/218007301253/CloudTrail/us-east-1/2023/07/10"
AFTER = datetime(2023, 7, 10, 13, tzinfo=UTC)  # the publish runs an hour after the calls
_ALL = TimeWindow()


class Rig:
    def __init__(self, now: datetime = AFTER, lookback: timedelta = timedelta(days=14)) -> None:
        self.source = MemoryUsageSource("trail")
        self.usage = MemoryUsageStore()
        self.sink = MemoryMetricSink()
        self.ledger = MemoryDeliveryLedger()
        self.clock = SetClock(now)
        self.lookback = lookback

    @property
    def to(self) -> Publishing:
        return Publishing(self.usage, self.sink, self.ledger, self.clock, lookback=self.lookback)

    def deliver(self, count: int, start: int = 0) -> list[LogBatch]:
        files = invictus_files()[start : start + count]
        return [self.source.put(f"{FOLDER}/{path.name}", records_of(path)) for path in files]

    def publish(self) -> Any:
        return publish_deliveries([self.source], self.to)

    def sums(self, name: str, principal: str = BERT) -> int:
        found = self.sink.named(name)
        return round(sum(p.value for p in found if p.dimensions == (("Principal", principal),)))


def test_metrics_are_the_ingests_counts_at_the_calls_own_minutes() -> None:
    rig = Rig()
    rig.deliver(6)
    report = rig.publish()
    assert report.deliveries == 6
    rows = rig.usage.usage(UsageQuery(tuple(rig.ledger.keys()), BERT))
    assert rig.sums("Calls") == sum(r.count + r.denied for r in rows) > 0
    assert rig.sums("AccessDenied") == sum(r.denied for r in rows)
    calls = [p for p in rig.sink.named("Calls") if p.dimensions == (("Principal", BERT),)]
    first, last = min(r.first_seen for r in rows), max(r.last_seen for r in rows)
    assert min(p.timestamp for p in calls) == first.replace(second=0)
    assert max(p.timestamp for p in calls) == last.replace(second=0)
    assert all(p.timestamp.second == 0 for p in rig.sink.points["ALPHA/IAM"])
    assert report.covered_until == max(
        r.last_seen for r in rig.usage.usage(UsageQuery(tuple(rig.ledger.keys())))
    )


def test_each_minute_has_its_error_rate_in_percent() -> None:
    rig = Rig()
    rig.deliver(len(invictus_files()))
    rig.publish()
    points = rig.sink.points["ALPHA/IAM"]
    by_key: dict[tuple[Any, ...], dict[str, float]] = {}
    for point in points:
        if point.dimensions:
            by_key.setdefault((point.dimensions, point.timestamp), {})[point.name] = point.value
    assert any(v["AccessDenied"] for v in by_key.values())
    for values in by_key.values():
        assert values["IAMErrorRate"] == pytest.approx(
            100 * values["AccessDenied"] / values["Calls"]
        )


def test_a_delivery_is_published_once_and_new_ones_are() -> None:
    rig = Rig()
    rig.deliver(3)
    first = rig.publish()
    again = rig.publish()
    rig.deliver(2, start=3)
    later = rig.publish()
    assert (first.deliveries, again.deliveries, later.deliveries) == (3, 0, 2)
    assert (again.points, again.already) == (0, 3)
    assert later.already == 3
    assert len(rig.sink.named("DeliveredUntil")) == 5  # one marker per delivery


def test_each_delivery_ends_with_its_marker() -> None:
    rig = Rig()
    rig.deliver(1)
    report = rig.publish()
    points = rig.sink.points["ALPHA/IAM"]
    assert points[-1].name == "DeliveredUntil"
    assert points[-1].value == report.covered_until.timestamp()
    assert points[-1].unit == "Seconds"
    assert points[-1].dimensions == ()


def test_a_delivery_changed_after_publishing_is_reported_not_counted_twice() -> None:
    rig = Rig()
    [batch] = rig.deliver(1)
    rig.publish()
    before = rig.sums("Calls")
    records = records_of(invictus_files()[0])
    rig.source.put(batch.key, records[:-1])
    report = rig.publish()
    assert report.changed == (batch.key,)
    assert report.deliveries == 0
    assert rig.sums("Calls") == before


def test_points_cloudwatch_would_refuse_are_left_out() -> None:
    rig = Rig(now=AFTER + timedelta(days=15), lookback=timedelta(days=30))
    rig.deliver(2)
    report = rig.publish()
    assert report.points == 0
    assert report.left_out > 0
    assert report.deliveries == 2  # recorded: publishing them again would not change that
    assert rig.usage.versions(rig.ledger.keys())  # stored for the sandbox's replay


def test_deliveries_older_than_the_lookback_are_not_read() -> None:
    rig = Rig(now=AFTER + timedelta(days=15))
    rig.deliver(2)
    report = rig.publish()
    assert (report.deliveries, report.already) == (0, 0)
    assert rig.ledger.keys() == []


def test_a_failed_request_records_nothing_so_the_next_run_publishes_it() -> None:
    rig = Rig()
    rig.deliver(3)
    rig.sink.fail_after = 0
    with pytest.raises(RuntimeError):
        rig.publish()
    assert rig.ledger.keys() == []
    rig.sink.fail_after = None
    assert rig.publish().deliveries == 3


def test_a_file_that_cannot_be_fetched_is_tried_again() -> None:
    rig = Rig()
    [batch] = rig.deliver(1)
    rig.source.unreadable.add(batch.key)
    report = rig.publish()
    assert [p.file for p in report.problems] == [batch.key]
    assert report.deliveries == 0
    rig.source.unreadable.clear()
    assert rig.publish().deliveries == 1


def test_records_that_cannot_be_read_are_published_as_unread() -> None:
    rig = Rig()
    records: list[Any] = records_of(invictus_files()[0])
    rig.source.put(
        f"{FOLDER}/x_CloudTrail_us-east-1_20230710T1200Z_bad.json",
        [*records, {"userIdentity": "not an object"}],
    )
    report = rig.publish()
    [unread] = rig.sink.named("UnreadRecords")
    assert (unread.value, report.unread) == (1, 1)
    assert unread.timestamp == report.covered_until.replace(second=0)


def test_the_delivery_time_in_a_file_name() -> None:
    name = f"{FOLDER}/218007301253_CloudTrail_us-east-1_20230710T1205Z_abc.json.gz"
    assert delivered_at(name) == datetime(2023, 7, 10, 12, 5, tzinfo=UTC)
    assert delivered_at("logs/whatever.json") is None


class Bucket:
    """`reader_for`: a source per bucket reading the rig's logs by their key."""

    def __init__(self, rig: Rig) -> None:
        self.rig = rig
        self.asked: list[str] = []

    def __call__(self, bucket: str) -> MemoryUsageSource:
        self.asked.append(bucket)
        return self.rig.source


def test_notified_objects_are_published_and_other_objects_left_alone() -> None:
    rig = Rig()
    listed = {b.key: b for b in rig.deliver(2)}
    # The rig's source reads by key: name each object so that its s3:// key is the listed one.
    rig.source = _Rekeyed(rig.source, "trail-bucket")
    objects = [
        NotifiedObject("trail-bucket", key, b.size, f'"{b.version}"') for key, b in listed.items()
    ]
    digest = "AWSLogs/218007301253/CloudTrail-Digest/us-east-1/2023/07/10/x.json.gz"
    objects.append(NotifiedObject("trail-bucket", digest, 10, "etag"))
    reader = Bucket(rig)
    report = publish_objects(objects, reader, rig.to)
    assert report.deliveries == 2
    assert reader.asked == ["trail-bucket"]
    assert rig.ledger.keys() == sorted(f"s3://trail-bucket/{key}" for key in listed)
    assert publish_objects(objects, reader, rig.to).deliveries == 0


class _Rekeyed(MemoryUsageSource):
    """The rig's logs read under `s3://BUCKET/key`, as an S3 source reads them."""

    def __init__(self, inner: MemoryUsageSource, bucket: str) -> None:
        super().__init__(inner.name)
        self._inner = inner
        self._prefix = f"s3://{bucket}/"

    def read(self, batch: LogBatch) -> bytes:
        key = batch.key.removeprefix(self._prefix)
        found = {b.key: b for b in self._inner.batches(_ALL)}[key]
        return self._inner.read(found)


def test_a_bake_measurement_is_published_once_per_change() -> None:
    inner, sink = ScriptedMonitor(), MemoryMetricSink()
    monitor = MeasuredMonitor(inner, sink)
    since, until = AFTER, AFTER + timedelta(hours=1)
    assert monitor.error_rate(BERT, since, until).calls == 0
    assert sink.points == {}  # no logs yet: nothing measured
    inner.add(Call(BERT, since + timedelta(minutes=1), "s3:GetObject", "*"))
    for _ in range(3):  # polls that find nothing new
        monitor.error_rate(BERT, since, until)
    inner.add(Call(BERT, since + timedelta(minutes=2), "s3:PutObject", "*", denied=True))
    monitor.error_rate(BERT, since, until)
    assert [p.value for p in sink.named("BakeCalls")] == [1, 2]
    assert [p.value for p in sink.named("BakeErrorRate")] == [0.0, 50.0]
    assert monitor.covered_until() == since + timedelta(minutes=2)
    assert monitor.calls(BERT, since, until) == inner.calls(BERT, since, until)
