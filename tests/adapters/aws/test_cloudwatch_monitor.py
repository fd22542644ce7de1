"""The CloudWatch monitor beyond the shared contract (tests/contracts/test_monitor.py): the
delivery delay, minute precision, and failing closed; over moto's CloudWatch over HTTP, fed by
`publish_deliveries` from a log folder as `alpha monitor publish` feeds it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from alpha.adapters.aws.cloudwatch_metrics import CloudWatchMetrics, make_cloudwatch_client
from alpha.adapters.aws.cloudwatch_monitor import CloudWatchMonitor
from alpha.adapters.local.cloudtrail_files import LocalCloudTrailFiles
from alpha.adapters.local.duckdb_usage import DuckDBUsageStore
from alpha.adapters.local.published_deliveries import SQLiteDeliveryLedger
from alpha.app.monitoring import Publishing, publish_deliveries
from alpha.rollout.errors import UnreadableLogsError
from alpha.rollout.settings import StageSettings
from alpha.rollout.stages import Verdict, judge_errors
from tests.fakes.memory_backends import SetClock

from .cloudwatch_server import cloudwatch_client, cloudwatch_server, emptied
from .samples import invictus_files, records_of

if TYPE_CHECKING:
    from mypy_boto3_cloudwatch import CloudWatchClient

BERT = "arn:aws:iam::123837392027:user/bert-jan"
FOLDER = "AWSLogs/218007301253/CloudTrail/us-east-1/2023/07/10"


def at(hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2023, 7, 10, hour, minute, second, tzinfo=UTC)


@pytest.fixture(scope="module")
def server(aws_env: None) -> Iterator[tuple[str, CloudWatchClient]]:
    with cloudwatch_server() as endpoint:
        yield endpoint, cloudwatch_client(endpoint)


class Rig:
    def __init__(self, tmp_path: Path, client: CloudWatchClient, store: DuckDBUsageStore) -> None:
        self.logs = tmp_path / "logs"
        (self.logs / FOLDER).mkdir(parents=True)
        self.ledger = SQLiteDeliveryLedger(tmp_path / "published.sqlite")
        self.clock = SetClock(at(14))
        self.publishing = Publishing(store, CloudWatchMetrics(client), self.ledger, self.clock)
        self.monitor = CloudWatchMonitor(client, store, self.ledger, self.clock)

    def deliver(self, name: str, records: list[Any]) -> None:
        (self.logs / FOLDER / name).write_text(json.dumps({"Records": records}))
        publish_deliveries([LocalCloudTrailFiles(self.logs)], self.publishing)

    def deliver_sample(self, *indexes: int) -> None:
        for index in indexes:
            path = invictus_files()[index]
            self.deliver(path.name, records_of(path))


@pytest.fixture
def rig(tmp_path: Path, server: tuple[str, CloudWatchClient]) -> Iterator[Rig]:
    endpoint, client = server
    emptied(endpoint)
    with DuckDBUsageStore(tmp_path / "usage.duckdb") as store:
        yield Rig(tmp_path, client, store)


def test_a_window_is_judged_only_once_its_logs_have_arrived(rig: Rig) -> None:
    settings = StageSettings(max_new_denials=None, max_error_rate=0.5)
    files = invictus_files()
    early = [i for i, p in enumerate(files) if "_20230710T11" in p.name]
    rig.deliver_sample(*early)
    covered = rig.monitor.covered_until()
    assert covered is not None
    assert covered < at(12)
    waiting = judge_errors(rig.monitor, [BERT], at(11), timedelta(hours=1), settings)
    assert waiting.verdict is Verdict.BAKING  # the calls of 11:50-12:00 may still arrive
    rig.deliver_sample(*[i for i, p in enumerate(files) if "_20230710T1205Z" in p.name])
    judged = judge_errors(rig.monitor, [BERT], at(11), timedelta(hours=1), settings)
    assert judged.verdict is Verdict.PASSED
    assert judged.metrics["calls"] > 0


def test_windows_are_exact_to_the_minute(rig: Rig) -> None:
    rig.deliver_sample(*range(len(invictus_files())))
    hour = rig.monitor.error_rate(BERT, at(12), at(13))
    parts = [
        rig.monitor.error_rate(BERT, at(12, m), at(12, m) + timedelta(minutes=10))
        for m in range(0, 60, 10)
    ]
    assert sum(p.calls for p in parts) == hour.calls
    assert sum(p.denied for p in parts) == hour.denied
    assert sum(1 for p in parts if p.denied) >= 1
    assert sum(1 for p in parts if p.calls) > 1  # the hour's calls are spread over its minutes


def test_a_window_with_unread_records_is_not_judged(rig: Rig) -> None:
    path = invictus_files()[0]
    records: list[Any] = [*records_of(path), {"userIdentity": "not an object"}]
    rig.deliver(path.name, records)
    with pytest.raises(UnreadableLogsError, match="1 record"):
        rig.monitor.error_rate(BERT, at(11), at(12))
    with pytest.raises(UnreadableLogsError):
        rig.monitor.calls(BERT, at(11), at(12))
    assert rig.monitor.error_rate(BERT, at(8), at(9)).calls == 0  # far from it: fine


def test_metrics_that_cannot_be_read_fail_the_question(tmp_path: Path, aws_env: None) -> None:
    client = make_cloudwatch_client(
        region="us-east-1", endpoint_url="http://127.0.0.1:9", max_attempts=1
    )
    with DuckDBUsageStore(tmp_path / "usage.duckdb") as store:
        monitor = CloudWatchMonitor(
            client, store, SQLiteDeliveryLedger(tmp_path / "l"), SetClock(at(14))
        )
        with pytest.raises(UnreadableLogsError, match="GetMetricData"):
            monitor.error_rate(BERT, at(11), at(12))


class Paged:
    """Cuts each `GetMetricData` answer in two pages, as CloudWatch does past its limits (moto
    never pages): through the client's own `after-call` hook, the first answer keeps each
    series' first half and a `NextToken`, the call with the token gets the second halves."""

    def __init__(self, client: CloudWatchClient) -> None:
        self.pages = 0
        self._token: str | None = None
        self._events = client.meta.events
        self._events.register("before-parameter-build.cloudwatch.GetMetricData", self._asked)
        self._events.register("after-call.cloudwatch.GetMetricData", self._answered)

    def close(self) -> None:
        """Stop paging (the client is shared by the module's tests)."""
        self._events.unregister("before-parameter-build.cloudwatch.GetMetricData", self._asked)
        self._events.unregister("after-call.cloudwatch.GetMetricData", self._answered)

    def _asked(self, params: dict[str, Any], **_: Any) -> None:
        self._token = params.get("NextToken")

    def _answered(self, parsed: dict[str, Any], **_: Any) -> None:
        self.pages += 1
        for result in parsed.get("MetricDataResults", []):
            half = len(result["Values"]) // 2
            part = slice(half, None) if self._token else slice(0, half)
            result["Values"] = result["Values"][part]
            result["Timestamps"] = result["Timestamps"][part]
        if not self._token:
            parsed["NextToken"] = "page-2"


def test_every_page_of_an_answer_is_read(rig: Rig, server: tuple[str, CloudWatchClient]) -> None:
    rig.deliver_sample(*range(12))
    whole = rig.monitor.error_rate(BERT, at(11), at(13))
    paged = Paged(server[1])
    try:
        assert rig.monitor.error_rate(BERT, at(11), at(13)) == whole
    finally:
        paged.close()
    assert paged.pages == 4  # two questions (counts, coverage), two pages each
    assert whole.calls > 0
