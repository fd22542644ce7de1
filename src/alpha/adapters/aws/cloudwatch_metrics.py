"""`MetricSink` on CloudWatch: `PutMetricData`, batched to the API's limits.

A request carries at most 1,000 data points and 1 MB; each point is sized here as the query
protocol would send it (names, dimension values, numbers: a generous estimate), so a request
never reaches the limit whatever the principals' ARNs. Points go out in the order given, one
request after another, so the last point of a call (the delivery marker, see
`alpha.app.monitoring`) is accepted only after every earlier one was.

Retries are the client's: `make_cloudwatch_client` builds it with adaptive retries
(`alpha.adapters.aws.clients`), which back off on `Throttling` and transient errors and slow the
client down after throttling. An error that remains is `MetricsError` naming the request.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from alpha.adapters.aws.clients import DEFAULT_MAX_ATTEMPTS, make_client
from alpha.errors import AlphaError
from alpha.rollout.metric_ports import MetricDatum

if TYPE_CHECKING:
    from mypy_boto3_cloudwatch import CloudWatchClient

__all__ = ["MAX_POINTS", "CloudWatchMetrics", "MetricsError", "make_cloudwatch_client"]

MAX_POINTS = 1000  # data points per PutMetricData request
MAX_BYTES = 1_000_000  # request payload
_MARGIN = 0.8  # of MAX_BYTES: the estimate leaves room for the envelope and encoding
_POINT_OVERHEAD = 160  # field names and indexes of one point in the query protocol, at most


class MetricsError(AlphaError):
    """CloudWatch refused or could not be reached; the message names the call and namespace."""


def make_cloudwatch_client(
    *,
    region: str | None = None,
    profile: str | None = None,
    endpoint_url: str | None = None,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
) -> CloudWatchClient:
    client: CloudWatchClient = make_client(
        "cloudwatch",
        region=region,
        profile=profile,
        endpoint_url=endpoint_url,
        max_attempts=max_attempts,
    )
    return client


class CloudWatchMetrics:
    """Publishes data points with `client`."""

    def __init__(self, client: CloudWatchClient) -> None:
        self._client = client

    def put(self, namespace: str, data: Sequence[MetricDatum]) -> None:
        for batch in batches(data):
            try:
                self._client.put_metric_data(
                    Namespace=namespace, MetricData=[_wire(point) for point in batch]
                )
            except (ClientError, BotoCoreError) as error:
                raise MetricsError(
                    f"CloudWatch PutMetricData ({namespace}, {len(batch)} points): "
                    f"{describe(error)}"
                ) from error


def batches(data: Sequence[MetricDatum]) -> Iterator[list[MetricDatum]]:
    """`data` in order, cut into requests within the API's limits."""
    batch: list[MetricDatum] = []
    size = 0
    for point in data:
        needed = point_size(point)
        if batch and (len(batch) >= MAX_POINTS or size + needed > MAX_BYTES * _MARGIN):
            yield batch
            batch, size = [], 0
        batch.append(point)
        size += needed
    if batch:
        yield batch


def point_size(point: MetricDatum) -> int:
    """A point's bytes in a request, generously: URL-encoding may triple a value's bytes."""
    text = sum(len(n) + len(v) for n, v in point.dimensions) + len(point.name) + len(point.unit)
    return _POINT_OVERHEAD + 3 * text + 64 * len(point.dimensions)


def _wire(point: MetricDatum) -> Any:
    return {
        "MetricName": point.name,
        "Dimensions": [{"Name": n, "Value": v} for n, v in point.dimensions],
        "Timestamp": point.timestamp,
        "Value": point.value,
        "Unit": point.unit,
    }


def describe(error: ClientError | BotoCoreError) -> str:
    if isinstance(error, BotoCoreError):
        return str(error)
    details = error.response.get("Error", {})
    return f"{details.get('Code', 'error')} {details.get('Message', '')}".strip()
