"""The `UsageSource` port, run against every implementation over the same real trail (one
account, us-east-1, 2023-07-10 11:42 to 12:04): a local folder, an S3 bucket (moto over HTTP),
the LookupEvents API (the local fake speaking its protocol) and the in-memory fake."""

from __future__ import annotations

import copy
import gzip
import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from alpha.adapters.aws.lookup_events import (
    LookupEventsSource,
    RequestPacer,
    make_cloudtrail_client,
)
from alpha.adapters.aws.s3_cloudtrail import S3CloudTrailSource, S3Location, make_s3_client
from alpha.adapters.local.cloudtrail_files import LocalCloudTrailFiles
from alpha.usage.ports import LogBatch, TimeWindow, UsageSource
from alpha.usage.reader import LogReader
from tests.adapters.aws.samples import invictus_files, records_of
from tests.fakes.cloudtrail_lookup import FakeCloudTrail, running_fake
from tests.fakes.memory_usage_source import MemoryUsageSource

ACCOUNT = "218007301253"
DAY_FOLDER = f"AWSLogs/{ACCOUNT}/CloudTrail/us-east-1/2023/07/10"
NOW = datetime(2023, 7, 10, 13, 5, tzinfo=UTC)  # the 12:00 slice is still open for LookupEvents
LOGS = {path.name: records_of(path) for path in invictus_files()[:12]}


def at(hour: int, minute: int = 0, day: int = 10) -> datetime:
    return datetime(2023, 7, day, hour, minute, tzinfo=UTC)


@dataclass
class Rig:
    """A source over the trail, and how to reach behind it: `fresh` opens another source on
    the same place (as the next run does); `rewrite` changes the content behind a batch (a
    record added to it, as a file written again or events still being delivered)."""

    source: UsageSource
    named: str
    fresh: Callable[[], UsageSource]
    rewrite: Callable[[LogBatch, dict[str, Any]], None]


def memory_rig() -> Rig:
    source = MemoryUsageSource("memory:trail")
    for name, records in LOGS.items():
        source.put(f"{DAY_FOLDER}/{name}", records)

    def rewrite(batch: LogBatch, record: dict[str, Any]) -> None:
        source.put(batch.key, [*json.loads(source.read(batch))["Records"], record])

    return Rig(source, "memory:trail", lambda: source, rewrite)


def folder_rig(root: Path) -> Rig:
    for name, records in LOGS.items():
        path = root / DAY_FOLDER / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"Records": records}))

    def rewrite(batch: LogBatch, record: dict[str, Any]) -> None:
        path = Path(batch.key)
        path.write_text(json.dumps({"Records": [*records_of(path), record]}))

    return Rig(LocalCloudTrailFiles(root), str(root), lambda: LocalCloudTrailFiles(root), rewrite)


def s3_rig(endpoint: str) -> Rig:
    client = make_s3_client(region="us-east-1", endpoint_url=endpoint)
    bucket = f"trail-{uuid.uuid4().hex[:12]}"
    client.create_bucket(Bucket=bucket)
    for name, records in LOGS.items():
        body = gzip.compress(json.dumps({"Records": records}).encode())
        client.put_object(Bucket=bucket, Key=f"logs/{DAY_FOLDER}/{name}.gz", Body=body)

    def open_source() -> UsageSource:
        return S3CloudTrailSource(
            client, S3Location.parse(f"s3://{bucket}/logs"), clock=lambda: NOW
        )

    def rewrite(batch: LogBatch, record: dict[str, Any]) -> None:
        key = batch.key.removeprefix(f"s3://{bucket}/")
        old = json.loads(gzip.decompress(client.get_object(Bucket=bucket, Key=key)["Body"].read()))
        body = json.dumps({"Records": [*old["Records"], record]}).encode()
        client.put_object(Bucket=bucket, Key=key, Body=gzip.compress(body))

    return Rig(open_source(), f"s3://{bucket}/logs/", open_source, rewrite)


KINDS = ["memory", "folder", "s3", "lookup"]


@pytest.fixture(scope="module", params=KINDS)
def rig(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rig]:
    """One rig per kind for the module's cases that only read."""
    yield from open_rig(request, tmp_path_factory.mktemp("trail"))


@pytest.fixture(params=KINDS)
def own_rig(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Rig]:
    """A rig a case may change."""
    yield from open_rig(request, tmp_path)


def open_rig(request: pytest.FixtureRequest, folder: Path) -> Iterator[Rig]:
    if request.param == "memory":
        yield memory_rig()
    elif request.param == "folder":
        yield folder_rig(folder)
    elif request.param == "s3":
        yield s3_rig(request.getfixturevalue("moto_endpoint"))
    else:
        request.getfixturevalue("aws_env")
        with running_fake(r for records in LOGS.values() for r in records) as service:
            yield lookup_rig(service)


def lookup_rig(service: FakeCloudTrail) -> Rig:
    client = make_cloudtrail_client(region="us-east-1", endpoint_url=service.endpoint_url)
    now = [NOW]

    def open_source() -> UsageSource:
        pacer = RequestPacer(1000.0)  # pacing has its own tests; keep these quick
        return LookupEventsSource(client, account=ACCOUNT, pacer=pacer, clock=lambda: now[0])

    def rewrite(batch: LogBatch, record: dict[str, Any]) -> None:
        # Only a slice CloudTrail may still deliver to changes: time moves on meanwhile.
        start = _time(batch.key.split(":", 3)[3])
        service.add({**record, "eventTime": f"{start + timedelta(minutes=30):%Y-%m-%dT%H:%M:%SZ}"})
        now[0] += timedelta(minutes=1)

    return Rig(open_source(), f"lookup:{ACCOUNT}:us-east-1", open_source, rewrite)


def event_ids(source: UsageSource, window: TimeWindow) -> list[str]:
    """The ids of the records inside `window` that the window's batches hold."""
    found = []
    for batch in source.batches(window):
        decoded = LogReader().decode(source.read(batch), batch.key)
        assert decoded.problems == ()
        found += [e.eventID or "" for e in decoded.events if window.contains(_time(e.eventTime))]
    return sorted(found)


def _time(text: str | None) -> datetime:
    assert text is not None
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def expected_ids(window: TimeWindow) -> list[str]:
    return sorted(
        r["eventID"]
        for records in LOGS.values()
        for r in records
        if window.contains(_time(r["eventTime"]))
    )


def test_the_name_is_what_the_user_named(rig: Rig) -> None:
    assert rig.source.name == rig.named


@pytest.mark.parametrize(
    "window",
    [TimeWindow(at(11), at(12)), TimeWindow(at(12), at(13)), TimeWindow(at(11, 50), at(12, 2))],
    ids=["first hour", "second hour", "across the hour"],
)
def test_the_batches_of_a_window_hold_every_record_in_it(rig: Rig, window: TimeWindow) -> None:
    expected = expected_ids(window)
    assert expected
    assert event_ids(rig.source, window) == expected


@pytest.mark.parametrize(
    "window",
    [TimeWindow(at(0, day=7), at(0, day=8)), TimeWindow(at(0, day=12), at(0, day=13))],
    ids=["days before", "days after"],
)
def test_a_window_on_another_day_lists_none_of_the_logs_batches(
    rig: Rig, window: TimeWindow
) -> None:
    logs_keys = {batch.key for batch in rig.source.batches(TimeWindow(at(11), at(13)))}
    other_keys = {batch.key for batch in rig.source.batches(window)}
    assert logs_keys
    assert not logs_keys & other_keys
    assert event_ids(rig.source, window) == []


def test_keys_and_versions_are_stable_across_listings_and_runs(rig: Rig) -> None:
    window = TimeWindow(at(11), at(13))
    first = list(rig.source.batches(window))
    assert first
    assert list(rig.source.batches(window)) == first
    assert list(rig.fresh().batches(window)) == first


def test_changed_content_keeps_its_key_under_a_new_version(own_rig: Rig) -> None:
    rig = own_rig
    window = TimeWindow(at(11), at(13))
    before = {batch.key: batch.version for batch in rig.source.batches(window)}
    changed = list(rig.source.batches(window))[-1]
    added = copy.deepcopy(LOGS[next(iter(LOGS))][0]) | {"eventID": "added-0000"}
    rig.rewrite(changed, added)
    after = {batch.key: batch.version for batch in rig.fresh().batches(window)}
    assert after.keys() == before.keys()
    assert after[changed.key] != before[changed.key]
    assert {k: v for k, v in after.items() if k != changed.key} == {
        k: v for k, v in before.items() if k != changed.key
    }
    assert "added-0000" in event_ids(rig.fresh(), window)


def test_a_batch_reads_the_same_twice(rig: Rig) -> None:
    batch = next(iter(rig.source.batches(TimeWindow(at(11), at(12)))))
    assert rig.source.read(batch) == rig.source.read(batch)
