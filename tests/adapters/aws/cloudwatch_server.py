"""A moto server of its own for the CloudWatch tests, emptied before each test.

moto's `GetMetricData` matches a query with dimensions on the metric name and dimensions but
not the namespace, so tests that publish the same principals could not be kept apart by
namespace on the session's shared server: each CloudWatch test starts from an empty one."""

from __future__ import annotations

import logging
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING

from alpha.adapters.aws.cloudwatch_metrics import make_cloudwatch_client

if TYPE_CHECKING:
    from mypy_boto3_cloudwatch import CloudWatchClient


@contextmanager
def cloudwatch_server() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def emptied(endpoint: str) -> str:
    """The server, every service's state reset."""
    request = urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST")
    with urllib.request.urlopen(request) as response:
        assert response.status == 200
    return endpoint


def cloudwatch_client(endpoint: str) -> CloudWatchClient:
    return make_cloudwatch_client(region="us-east-1", endpoint_url=endpoint)


def metric_points(
    client: CloudWatchClient, name: str, principal: str, start: datetime, end: datetime
) -> list[tuple[datetime, float]]:
    """The per-minute sums of one `ALPHA/IAM` metric of one principal, read as the monitor
    reads them."""
    found = client.get_metric_data(
        MetricDataQueries=[
            {
                "Id": "points",
                "MetricStat": {
                    "Metric": {
                        "Namespace": "ALPHA/IAM",
                        "MetricName": name,
                        "Dimensions": [{"Name": "Principal", "Value": principal}],
                    },
                    "Period": 60,
                    "Stat": "Sum",
                },
            }
        ],
        StartTime=start,
        EndTime=end,
    )
    [result] = found["MetricDataResults"]
    return list(zip(result["Timestamps"], result["Values"], strict=True))
