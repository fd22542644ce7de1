"""`Monitor` on CloudWatch: a bake judged on the `ALPHA/IAM` metrics `alpha monitor publish`
(or the same code on S3 notifications) puts there, read with `GetMetricData`.

- `error_rate`: the sums of `Calls` and `AccessDenied` (dimension `Principal`) over the
  window, at one-minute periods. The points are per minute, so a window whose ends are not on
  the minute also counts the calls of its edge minutes (towards seeing a denial, never towards
  missing one).
- `covered_until`: CloudTrail delivers a call's record minutes after the call (typically about
  5, at most about 15), so what the metrics hold for the last minutes is not yet the whole
  truth. Each published delivery therefore ends with a marker, `DeliveredUntil` (no
  dimension), whose value is the latest event time it held, in seconds since the epoch; the
  maximum over the last 14 days is how far the logs have arrived. A window is judged passed
  only once the marker reaches its end (see `alpha.rollout.stages`), so the delay never passes
  a stage on metrics that were still to come.
- Fails closed: records a publish could not read are counted as `UnreadRecords` (no
  dimension) at their delivery's time; any of those in a window (or within an hour after it,
  where a late file's calls may lie) makes `error_rate` and `calls` raise
  `UnreadableLogsError`, as does a `GetMetricData` that fails.
- `calls` (sandbox replay): the metrics hold no actions, so the calls come from the usage store
  the publish fills, over the deliveries the ledger says were published.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from alpha.adapters.aws.cloudwatch_metrics import describe
from alpha.rollout.errors import UnreadableLogsError
from alpha.rollout.iam_ports import ErrorRate, MonitoredCall
from alpha.rollout.metric_ports import NAMESPACE, DeliveryLedger
from alpha.usage.aggregate import UsageQuery
from alpha.usage.ports import TimeWindow, UsageReader

if TYPE_CHECKING:
    from mypy_boto3_cloudwatch import CloudWatchClient

__all__ = [
    "CALLS",
    "DELIVERED_UNTIL",
    "DENIED",
    "ERROR_RATE",
    "MARKER_LOOKBACK",
    "UNREAD",
    "CloudWatchMonitor",
]

CALLS, DENIED, ERROR_RATE = "Calls", "AccessDenied", "IAMErrorRate"
DELIVERED_UNTIL, UNREAD = "DeliveredUntil", "UnreadRecords"
MARKER_LOOKBACK = timedelta(days=14)  # PutMetricData takes no older point
LATE_SLACK = timedelta(hours=1)  # a delivery's file may hold calls up to this much older
_MINUTE = 60
Clock = Callable[[], datetime]
Series = dict[str, list[tuple[datetime, float]]]


class CloudWatchMonitor:
    def __init__(
        self,
        client: CloudWatchClient,
        usage: UsageReader,
        ledger: DeliveryLedger,
        clock: Clock,
        *,
        namespace: str = NAMESPACE,
    ) -> None:
        self._client = client
        self._usage = usage
        self._ledger = ledger
        self._clock = clock
        self._namespace = namespace

    def error_rate(self, principal: str, since: datetime, until: datetime) -> ErrorRate:
        start, end = _minute_floor(since), _minute_ceil(until)
        found = self._series(
            [
                self._stat("calls", CALLS, "Sum", principal),
                self._stat("denied", DENIED, "Sum", principal),
                self._stat("unread", UNREAD, "Sum"),
            ],
            start,
            end + LATE_SLACK,
        )
        self._require_readable(found, since, until)
        calls = _total(found["calls"], end)
        denied = _total(found["denied"], end)
        return ErrorRate(calls, denied, self.covered_until())

    def calls(self, principal: str, since: datetime, until: datetime) -> list[MonitoredCall]:
        start, end = _minute_floor(since), _minute_ceil(until)
        unread = self._series([self._stat("unread", UNREAD, "Sum")], start, end + LATE_SLACK)
        self._require_readable(unread, since, until)
        keys = tuple(self._ledger.keys())
        rows = self._usage.usage(UsageQuery(keys, principal, TimeWindow(since, until)))
        # The usage store keeps hours; a row wholly outside the window is left out.
        return [
            MonitoredCall(r.action, r.resource, None, r.count)
            for r in rows
            if r.count and r.last_seen >= since and r.first_seen < until
        ]

    def covered_until(self) -> datetime | None:
        now = _minute_ceil(self._clock())
        end = now + timedelta(hours=2)  # PutMetricData takes points up to 2 hours ahead
        query = self._stat("marker", DELIVERED_UNTIL, "Maximum", period=end - now + MARKER_LOOKBACK)
        values = [v for _, v in self._series([query], now - MARKER_LOOKBACK, end)["marker"]]
        return datetime.fromtimestamp(max(values), UTC) if values else None

    def _stat(
        self,
        query_id: str,
        name: str,
        stat: str,
        principal: str | None = None,
        *,
        period: timedelta = timedelta(seconds=_MINUTE),
    ) -> dict[str, Any]:
        dimensions = [] if principal is None else [{"Name": "Principal", "Value": principal}]
        metric = {"Namespace": self._namespace, "MetricName": name, "Dimensions": dimensions}
        seconds = int(period.total_seconds())
        return {
            "Id": query_id,
            "MetricStat": {"Metric": metric, "Period": seconds, "Stat": stat},
            "ReturnData": True,
        }

    def _series(self, queries: list[dict[str, Any]], start: datetime, end: datetime) -> Series:
        """Every query's (timestamp, value) points over [start, end), all pages."""
        found: Series = {q["Id"]: [] for q in queries}
        request: dict[str, Any] = {
            "MetricDataQueries": queries,
            "StartTime": start,
            "EndTime": end,
            "ScanBy": "TimestampAscending",
        }
        while True:
            try:
                response = self._client.get_metric_data(**request)
            except (ClientError, BotoCoreError) as error:
                raise UnreadableLogsError(
                    f"CloudWatch GetMetricData ({self._namespace}): {describe(error)}; a stage "
                    "does not pass on metrics it could not read"
                ) from error
            for result in response.get("MetricDataResults", []):
                pairs = zip(result.get("Timestamps", []), result.get("Values", []), strict=True)
                found[result["Id"]].extend(pairs)
            token = response.get("NextToken")
            if not token:
                return found
            request["NextToken"] = token

    def _require_readable(self, found: Series, since: datetime, until: datetime) -> None:
        unread = int(sum(v for _, v in found["unread"]))
        if unread:
            raise UnreadableLogsError(
                f"the logs from {since.isoformat()} to {until.isoformat()} could not all be "
                f"read: {unread} record(s) unread when their deliveries were published "
                f"({UNREAD} in {self._namespace}); a stage does not pass on logs it could "
                "not read (repair the files, then publish again)"
            )


def _total(points: list[tuple[datetime, float]], end: datetime) -> int:
    return round(sum(v for t, v in points if t < end))


def _minute_floor(moment: datetime) -> datetime:
    seconds = math.floor(moment.timestamp() / _MINUTE) * _MINUTE
    return datetime.fromtimestamp(seconds, UTC)


def _minute_ceil(moment: datetime) -> datetime:
    seconds = math.ceil(moment.timestamp() / _MINUTE) * _MINUTE
    return datetime.fromtimestamp(seconds, UTC)
