"""`CloudWatchMetrics` against moto's CloudWatch over HTTP: points batched to PutMetricData's
limits, in order, retried when throttled, and read back with GetMetricData as published."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest
from botocore.awsrequest import AWSResponse, HTTPHeaders

from alpha.adapters.aws.cloudwatch_metrics import (
    MAX_BYTES,
    MAX_POINTS,
    CloudWatchMetrics,
    MetricsError,
    batches,
    make_cloudwatch_client,
    point_size,
)
from alpha.rollout.metric_ports import MetricDatum

from .cloudwatch_server import cloudwatch_client, cloudwatch_server, emptied, metric_points
from .conftest import CallRecorder

if TYPE_CHECKING:
    from mypy_boto3_cloudwatch import CloudWatchClient

AT = datetime(2023, 7, 10, 12, tzinfo=UTC)
ROLE = "arn:aws:iam::123837392027:role/orders-api"


@pytest.fixture(scope="module")
def server(aws_env: None) -> Iterator[str]:
    with cloudwatch_server() as endpoint:
        yield endpoint


@pytest.fixture
def client(server: str) -> CloudWatchClient:
    return cloudwatch_client(emptied(server))


def calls(count: int, principal: str = ROLE) -> list[MetricDatum]:
    return [
        MetricDatum("Calls", 1, AT + timedelta(minutes=i), (("Principal", principal),))
        for i in range(count)
    ]


@pytest.mark.parametrize(
    ("count", "sizes"),
    [(1, [1]), (1000, [1000]), (1001, [1000, 1]), (2500, [1000, 1000, 500])],
)
def test_requests_hold_at_most_a_thousand_points_in_order(count: int, sizes: list[int]) -> None:
    points = calls(count)
    cut = list(batches(points))
    assert [len(b) for b in cut] == sizes
    assert [p for b in cut for p in b] == points


def test_requests_stay_under_a_megabyte_whatever_the_names() -> None:
    long_name = "arn:aws:iam::123837392027:role/" + "a-very-long-path/" * 30 + "x" * 64
    points = [
        MetricDatum("Calls", 1, AT, (("Principal", long_name), ("Stage", "canary" * 40)))
        for _ in range(MAX_POINTS)
    ]
    cut = list(batches(points))
    assert len(cut) > 1
    assert all(sum(point_size(p) for p in b) <= MAX_BYTES for b in cut)


def test_points_are_published_and_read_back(client: CloudWatchClient) -> None:
    puts = CallRecorder(client, "PutMetricData")
    CloudWatchMetrics(client).put("ALPHA/IAM", calls(1500))
    assert [len(c["MetricData"]) for c in puts.calls] == [1000, 500]
    found = metric_points(client, "Calls", ROLE, AT, AT + timedelta(days=2))
    assert sum(value for _, value in found) == 1500
    assert min(moment for moment, _ in found) == AT


class Throttled:
    """Answers the first `times` PutMetricData requests with CloudWatch's throttling error
    (in the JSON protocol the client speaks), through the client's own event hooks."""

    def __init__(self, client: CloudWatchClient, times: int) -> None:
        self.left = times
        self.answered = 0
        hook: Any = self._send  # botocore's stubs type hooks as returning None; this one answers
        client.meta.events.register("before-send.cloudwatch.PutMetricData", hook)

    def _send(self, request: Any, **_: Any) -> AWSResponse | None:
        if self.left == 0:
            return None
        self.left -= 1
        self.answered += 1
        body = json.dumps({"__type": "Throttling", "message": "Rate exceeded"}).encode()
        headers = HTTPHeaders()
        headers["Content-Type"] = "application/x-amz-json-1.0"
        return AWSResponse(request.url, 400, headers, _Raw(body))


class _Raw:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._body

    def read(self, *_: Any) -> bytes:
        body, self._body = self._body, b""
        return body


def test_throttling_is_retried(client: CloudWatchClient) -> None:
    throttled = Throttled(client, times=2)
    CloudWatchMetrics(client).put("ALPHA/IAM", calls(3))
    assert throttled.answered == 2
    assert len(client.list_metrics(Namespace="ALPHA/IAM")["Metrics"]) == 1


def test_an_error_that_remains_names_the_call(server: str) -> None:
    client = make_cloudwatch_client(region="us-east-1", endpoint_url=server, max_attempts=2)
    Throttled(client, times=100)
    with pytest.raises(MetricsError, match=r"PutMetricData \(ALPHA/IAM, 3 points\): Throttling"):
        CloudWatchMetrics(client).put("ALPHA/IAM", calls(3))
