"""The LookupEvents source against a local fake speaking CloudTrail's JSON 1.1 protocol."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from alpha.adapters.aws.errors import AwsSourceError
from alpha.adapters.aws.lookup_events import (
    CLOSED,
    MAX_RESULTS,
    LookupAttribute,
    LookupEventsSource,
    RequestPacer,
    make_cloudtrail_client,
)
from alpha.usage.ports import LogBatch, TimeWindow
from alpha.usage.reader import LogFormat, LogReader
from tests.fakes.cloudtrail_lookup import TARGET, FakeCloudTrail, running_fake

from .samples import invictus_files, records_of

NOW = datetime(2023, 7, 20, tzinfo=UTC)
FAST = 1000.0  # requests per second: pacing is tested on its own, keep the other tests quick


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def trail_records() -> list[dict[str, Any]]:
    """The real trail (us-east-1, 11:00-12:59 on 2023-07-10), plus one record exactly on the
    hour boundary, which the API returns for both hours."""
    records = [record for path in invictus_files() for record in records_of(path)]
    on_the_hour = copy.deepcopy(records[0])
    on_the_hour.update(eventID="boundary-0000", eventTime="2023-07-10T12:00:00Z")
    return [*records, on_the_hour]


@pytest.fixture(scope="module")
def records() -> list[dict[str, Any]]:
    return trail_records()


@pytest.fixture
def small_fake(aws_env: None) -> Iterator[FakeCloudTrail]:
    """A few real records (two pages in one hour): throttled clients slow down on purpose, so
    the tests that throttle keep the pages few."""
    with running_fake(record for p in invictus_files()[:3] for record in records_of(p)) as service:
        yield service


@pytest.fixture
def fake(aws_env: None, records: list[dict[str, Any]]) -> Iterator[FakeCloudTrail]:
    with running_fake(records) as service:
        yield service


def lookup(
    fake: FakeCloudTrail, *, rate: float = FAST, now: datetime = NOW, **options: Any
) -> LookupEventsSource:
    region = options.pop("region", "us-east-1")
    client = options.pop("client", None) or make_cloudtrail_client(
        region=region, endpoint_url=fake.endpoint_url
    )
    return LookupEventsSource(
        client, account="123837392027", pacer=RequestPacer(rate), clock=lambda: now, **options
    )


def ids_in(data: bytes) -> list[str]:
    return [json.loads(line)["eventID"] for line in data.splitlines()]


def expected_ids(records: list[dict[str, Any]], start: datetime, end: datetime) -> list[str]:
    def time_of(record: dict[str, Any]) -> datetime:
        return datetime.fromisoformat(record["eventTime"].replace("Z", "+00:00"))

    return sorted(r["eventID"] for r in records if start <= time_of(r) < end)


def test_hour_slices_hold_exactly_their_events(
    fake: FakeCloudTrail, records: list[dict[str, Any]]
) -> None:
    source = lookup(fake)
    window = TimeWindow(at("2023-07-10T11:30:00"), at("2023-07-10T13:00:00"))

    batches = list(source.batches(window))

    # Whole hours, never clipped to the window, so a key always means the same events.
    assert [b.key for b in batches] == [
        "lookup:123837392027:us-east-1:2023-07-10T11:00:00Z",
        "lookup:123837392027:us-east-1:2023-07-10T12:00:00Z",
    ]
    assert {b.version for b in batches} == {CLOSED}
    total = 0
    starts = (at("2023-07-10T11:00:00"), at("2023-07-10T12:00:00"))
    for batch, start in zip(batches, starts, strict=True):
        ids = ids_in(source.read(batch))
        assert sorted(ids) == expected_ids(records, start, start + timedelta(hours=1))
        assert len(ids) == len(set(ids))
        total += len(ids)
    assert total == len(records)  # the boundary record is read once, in the 12:00 slice


def test_pages_of_fifty_with_the_next_token(
    fake: FakeCloudTrail, records: list[dict[str, Any]]
) -> None:
    source = lookup(fake)
    [batch] = source.batches(TimeWindow(at("2023-07-10T12:00:00"), at("2023-07-10T12:30:00")))

    ids = ids_in(source.read(batch))

    # The fake returns EndTime's records too (inclusive, like the API); the adapter drops them.
    served = len(ids) + sum(1 for r in records if r["eventTime"] == "2023-07-10T13:00:00Z")
    pages = fake.served
    assert len(pages) == -(-served // MAX_RESULTS) > 1
    assert all(page.body["MaxResults"] == MAX_RESULTS for page in pages)
    assert "NextToken" not in pages[0].body
    assert all("NextToken" in page.body for page in pages[1:])
    assert all(page.signed and page.region == "us-east-1" for page in pages)


@pytest.mark.slow  # botocore backs off for real: up to a second or two
def test_throttling_is_retried(small_fake: FakeCloudTrail) -> None:
    source = lookup(small_fake)
    [batch] = source.batches(TimeWindow(at("2023-07-10T11:00:00"), at("2023-07-10T12:00:00")))
    small_fake.throttle_next = 1

    ids = ids_in(source.read(batch))

    hour = (at("2023-07-10T11:00:00"), at("2023-07-10T12:00:00"))
    assert sorted(ids) == expected_ids(small_fake.records, *hour)
    assert len(ids) > MAX_RESULTS  # more than one page, so retrying kept the paging right
    assert [request.throttled for request in small_fake.requests] == [True, False, False]


@pytest.mark.slow
def test_throttling_past_the_retries_is_an_error_naming_the_slice(
    small_fake: FakeCloudTrail,
) -> None:
    client = make_cloudtrail_client(
        region="us-east-1", endpoint_url=small_fake.endpoint_url, max_attempts=2
    )
    source = lookup(small_fake, client=client)
    [batch] = source.batches(TimeWindow(at("2023-07-10T11:00:00"), at("2023-07-10T12:00:00")))
    small_fake.throttle_next = 10

    with pytest.raises(AwsSourceError, match=r"2023-07-10T11:00:00Z: .*ThrottlingException"):
        source.read(batch)
    assert len(small_fake.requests) == 2


def test_requests_are_paced(small_fake: FakeCloudTrail) -> None:
    rate = 20.0
    source = lookup(small_fake, rate=rate, slice_length=timedelta(minutes=1))
    window = TimeWindow(at("2023-07-10T11:40:00"), at("2023-07-10T11:48:00"))

    for batch in source.batches(window):  # one pacer across the batches too
        source.read(batch)

    arrivals = [request.arrived for request in small_fake.requests]
    assert len(arrivals) >= 5
    # Unpaced, these calls take a few milliseconds each (see the other tests' requests).
    assert arrivals[-1] - arrivals[0] >= (len(arrivals) - 1) / rate - 0.02


def test_the_endpoint_can_come_from_the_environment(
    fake: FakeCloudTrail, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_CLOUDTRAIL", fake.endpoint_url)
    source = lookup(fake, client=make_cloudtrail_client(region="us-east-1"))
    [batch] = source.batches(TimeWindow(at("2023-07-10T11:00:00"), at("2023-07-10T12:00:00")))

    assert ids_in(source.read(batch))
    assert fake.requests
    assert all(r.body.get("StartTime") for r in fake.requests)


def test_a_lookup_attribute_filters_and_keys_the_batches(
    fake: FakeCloudTrail, records: list[dict[str, Any]]
) -> None:
    source = lookup(fake, attribute=LookupAttribute("EventSource", "kms.amazonaws.com"))
    [batch] = source.batches(TimeWindow(at("2023-07-10T12:00:00"), at("2023-07-10T13:00:00")))

    lines = [json.loads(line) for line in source.read(batch).splitlines()]

    assert batch.key == (
        "lookup:123837392027:us-east-1:EventSource=kms.amazonaws.com:2023-07-10T12:00:00Z"
    )
    assert lines
    assert {line["eventSource"] for line in lines} == {"kms.amazonaws.com"}
    assert fake.requests[0].body["LookupAttributes"] == [
        {"AttributeKey": "EventSource", "AttributeValue": "kms.amazonaws.com"}
    ]


def test_an_empty_slice_reads_as_zero_records(fake: FakeCloudTrail) -> None:
    source = lookup(fake, region="eu-west-1")  # the fake serves the trail for us-east-1 only
    [batch] = source.batches(TimeWindow(at("2023-07-10T12:00:00"), at("2023-07-10T13:00:00")))

    decoded = LogReader().decode(source.read(batch), batch.key)

    assert fake.requests[0].region == "eu-west-1"
    assert decoded.events == []
    assert decoded.problems == ()


def test_the_bytes_are_json_lines_the_reader_decodes(
    fake: FakeCloudTrail, records: list[dict[str, Any]]
) -> None:
    source = lookup(fake)
    [batch] = source.batches(TimeWindow(at("2023-07-10T11:00:00"), at("2023-07-10T12:00:00")))

    decoded = LogReader().decode(source.read(batch), batch.key)

    assert decoded.format is LogFormat.JSON_LINES
    assert decoded.problems == ()
    expected = expected_ids(records, at("2023-07-10T11:00:00"), at("2023-07-10T12:00:00"))
    assert sorted(event.eventID or "" for event in decoded.events) == expected


def test_an_open_slice_changes_version_until_it_is_closed(fake: FakeCloudTrail) -> None:
    def versions(now: datetime) -> list[str]:
        source = lookup(fake, now=now)
        window = TimeWindow(at("2023-07-10T11:00:00"), at("2023-07-10T13:00:00"))
        return [batch.version for batch in source.batches(window)]

    during = versions(at("2023-07-10T12:20:00"))
    later = versions(at("2023-07-10T12:22:00"))
    closed = versions(at("2023-07-10T13:15:00"))

    assert during[0] == later[0] == CLOSED  # 11:00-12:00 ended more than 15 minutes ago
    assert during[1].startswith("open:")
    assert later[1].startswith("open:")
    assert during[1] != later[1]
    assert closed == [CLOSED, CLOSED]


def test_slices_stay_inside_the_ninety_days_and_the_present(fake: FakeCloudTrail) -> None:
    source = lookup(fake, slice_length=timedelta(days=1))

    batches = list(source.batches(TimeWindow(at("2022-01-01T00:00:00"))))

    assert batches[0].key.endswith(":2023-04-21T00:00:00Z")  # NOW - 90 days, day-aligned
    assert batches[-1].key.endswith("2023-07-19T00:00:00Z")  # the slice ending at NOW
    assert len(batches) == 90


def test_a_batch_of_another_source_is_refused(fake: FakeCloudTrail) -> None:
    source = lookup(fake)
    foreign = LogBatch("lookup:999999999999:us-east-1:2023-07-10T11:00:00Z", 0, CLOSED)

    with pytest.raises(AwsSourceError, match="not a batch of lookup:123837392027:us-east-1"):
        source.read(foreign)
    assert fake.requests == []


def test_an_unknown_attribute_is_refused() -> None:
    with pytest.raises(AwsSourceError, match=r"'Bucket'.*EventSource"):
        LookupAttribute("Bucket", "x")


def test_the_fake_speaks_json_one_one(fake: FakeCloudTrail) -> None:
    """The fake answers the real operation name and rejects another, as CloudTrail does."""
    assert TARGET.endswith(".LookupEvents")
    client = make_cloudtrail_client(region="us-east-1", endpoint_url=fake.endpoint_url)
    with pytest.raises(client.exceptions.ClientError, match="UnknownOperationException"):
        client.describe_trails()


@pytest.mark.parametrize(
    ("clock", "expected_sleeps"),
    [
        ([0.0, 0.1, 0.2, 2.0], [0.4, 0.8]),  # 2 a second: 0.5 s apart, then idle long enough
        ([5.0, 5.5, 6.0], []),
    ],
)
def test_pacer(clock: list[float], expected_sleeps: list[float]) -> None:
    sleeps: list[float] = []
    times = iter(clock)
    pacer = RequestPacer(2.0, clock=lambda: next(times), sleep=sleeps.append)

    for _ in clock:
        pacer.wait()

    assert sleeps == pytest.approx(expected_sleeps)
