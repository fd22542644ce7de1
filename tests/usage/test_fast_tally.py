"""The ingest's fast path counts exactly what interpreting every fully decoded event counts."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from alpha.usage.aggregate import BatchUsage
from alpha.usage.fast_tally import FastTally
from alpha.usage.interpret import interpret
from alpha.usage.mapping import EventMapper
from alpha.usage.reader import LazyLogReader, LogReader
from alpha.usage.tally import BatchTally
from tests.fakes.cloudtrail_logs import SAMPLE_RECORDS, SAMPLES, record


def sample_files() -> list[Path]:
    return sorted(p for p in SAMPLES.rglob("*") if p.is_file() and p.name.endswith(".json"))


def eager(data: bytes, mapper: EventMapper) -> tuple[BatchUsage, list[tuple[Any, ...]]]:
    decoded = LogReader().decode(data, "f.json")
    tally = BatchTally()
    for problem in decoded.problems:
        tally.events += 1
        tally.skip(problem.reason)
    for event in decoded.events:
        tally.add(interpret(event, mapper))
    problems = [(p.reason, p.record) for p in decoded.problems]
    return tally.finish(), problems


def lazy(data: bytes, mapper: EventMapper) -> tuple[BatchUsage, list[tuple[Any, ...]]]:
    decoded = LazyLogReader().decode(data, "f.json")
    tally = BatchTally()
    for problem in decoded.problems:
        tally.events += 1
        tally.skip(problem.reason)
    FastTally(mapper).add_all(decoded.events, tally)
    problems = [(p.reason, p.record) for p in decoded.problems]
    return tally.finish(), problems


def same(left: BatchUsage, right: BatchUsage) -> None:
    assert left.events == right.events
    assert sorted(left.hourly(), key=repr) == sorted(right.hourly(), key=repr)
    assert left.skipped == right.skipped
    assert left.unmapped == right.unmapped
    assert sorted(left.ip_counts(), key=repr) == sorted(right.ip_counts(), key=repr)
    assert (left.names, left.regions) == (right.names, right.regions)


def test_every_real_sample_gives_the_same_usage_both_ways(mapper: EventMapper) -> None:
    events = 0
    for path in sample_files():
        data = path.read_bytes()
        (slow, slow_problems), (fast, fast_problems) = eager(data, mapper), lazy(data, mapper)
        same(slow, fast)
        assert slow_problems == fast_problems, path
        events += slow.events
    assert events == SAMPLE_RECORDS


def test_most_sample_events_take_the_fast_path(mapper: EventMapper) -> None:
    fast = FastTally(mapper)
    taken = total = 0
    for path in sample_files():
        for event in LazyLogReader().decode(path.read_bytes(), path.name).events:
            total += 1
            taken += fast._add(event, BatchTally())
    assert taken > total * 0.5  # not a vacuous comparison: most go the fast way


ODD_RECORDS = {
    "version-id": record(
        "GetObject", requestParameters={"bucketName": "b", "key": "k", "versionId": "v1"}
    ),
    "escaped-version-id": record(
        "GetObject", requestParameters={"bucketName": "b", "key": "k", "version\u0049d": "v1"}
    ),
    "no-version-id": record(
        "GetObject", resources=[{"ARN": "arn:aws:s3:::b/k", "type": "AWS::S3::Object"}]
    ),
    "space-time": record(time="2022-09-27 19:59:08"),
    "fraction-time": record(time="2024-03-10T12:30:00.123Z"),
    "offset-time": record(time="2024-03-10T12:30:00+02:00"),
    "leap-second": record(time="2024-03-10T12:30:60Z"),
    "bad-time": record(time="2024-13-10T12:30:00Z"),
    "not-a-time": record(time="yesterday at noon"),
    "missing-time": {k: v for k, v in record().items() if k != "eventTime"},
    "no-request": record(requestParameters=None),
    "request-not-object": record(requestParameters="bucket"),
    "request-list": record(requestParameters=["a"]),
    "denied": record(error="AccessDenied"),
    "unauthenticated": record(error="ExpiredToken"),
    "transaction": record(
        "TransactWriteItems",
        "dynamodb.amazonaws.com",
        requestParameters={"requestItems": [{"operation": "Put", "tableName": "t"}]},
    ),
    "copy": record(
        "CopyObject", requestParameters={"bucketName": "b", "key": "k", "x-amz-copy-source": "s/k"}
    ),
    "ignored-type": record(eventType="AwsConsoleSignIn"),
    "no-principal": record(userIdentity={"type": "AWSService", "invokedBy": "s3.amazonaws.com"}),
    "unmapped": record("DoSomething", "nothing.amazonaws.com"),
    "no-region": {k: v for k, v in record().items() if k != "awsRegion"},
}


@pytest.mark.parametrize("odd", ODD_RECORDS.values(), ids=ODD_RECORDS.keys())
def test_odd_records_give_the_same_usage_both_ways(
    mapper: EventMapper, odd: dict[str, Any]
) -> None:
    data = json.dumps({"Records": [record(), odd, record("PutObject")]}).encode()
    (slow, slow_problems), (fast, fast_problems) = eager(data, mapper), lazy(data, mapper)
    same(slow, fast)
    assert slow_problems == fast_problems


def _upload(key: str, **extra: Any) -> dict[str, Any]:
    resources = [
        {"ARN": "arn:aws:s3:::b", "type": "AWS::S3::Bucket"},
        {"ARN": f"arn:aws:s3:::b/{key}", "type": "AWS::S3::Object"},
    ]
    return record("PutObject", resources=resources, **extra)


KMS = "arn:aws:kms:eu-west-1:111122223333:key/k1"
SSE = "x-amz-server-side-encryption-aws-kms-key-id"


@pytest.mark.parametrize(
    "changes",
    [
        lambda i: {"requestParameters": {"bucketName": "b", "key": f"k{i}", SSE: f"k{i % 2}"}},
        lambda i: {"responseElements": {SSE: KMS if i % 3 else "alias/a"}},
        lambda i: {"additionalEventData": {"SSEKMSKeyARN": KMS, "bytesTransferredIn": i}},
        lambda i: {"requestParameters": {"key": f"k{i}", "versionId": ["v", "", None, 1][i % 4]}},
        lambda i: {"requestParameters": {"twice": "a", SSE: KMS}, "responseElements": [i]},
        lambda i: {"requestParameters": {"version\u0049d": f"v{i}"}, "responseElements": "x"},
    ],
    ids=["request", "response", "additional", "version", "repeated", "escaped"],
)
def test_marked_groups_give_what_each_record_means_alone(
    mapper: EventMapper, changes: Callable[[int], dict[str, Any]]
) -> None:
    """Records grouped by their SSE-KMS key and versionId members alone (`marks.py`) count
    what interpreting each whole record counts, each on its own object and key."""
    records = [_upload(f"k{i}", **changes(i)) for i in range(12)]
    for i, r in enumerate(records[::4]):  # some name their key in resources[] too
        r["resources"].append({"ARN": KMS, "type": "AWS::KMS::Key", "n": i})
    for i, r in enumerate(records[1::5]):
        r["eventName"] = ("GetObject", "HeadObject", "CreateMultipartUpload")[i % 3]
    # a repeated member: the last counts, on both paths
    data = json.dumps({"Records": records}).encode().replace(b'"twice"', json.dumps(SSE).encode())
    (slow, slow_problems), (fast, fast_problems) = eager(data, mapper), lazy(data, mapper)
    same(slow, fast)
    assert slow_problems == fast_problems
    resources = {row.resource for row in fast.hourly()}
    assert {f"arn:aws:s3:::b/k{i}" for i in range(12)} <= resources
