"""The `Monitor` port, run against every implementation over the same real trail (2023-07-10,
three log files delivered at 12:00 and 12:05): the CloudTrail monitor over a log folder and a
DuckDB store, the CloudWatch monitor over what `alpha monitor publish` put on moto's CloudWatch
(over real HTTP; each delivery published as it arrives), and the scripted fake the rollout
tests use, given the same records as calls.

Windows are on whole hours, where the CloudTrail monitor is exact (see its docstring)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from alpha.adapters.aws.cloudwatch_metrics import CloudWatchMetrics
from alpha.adapters.aws.cloudwatch_monitor import CloudWatchMonitor
from alpha.adapters.local.cloudtrail_files import LocalCloudTrailFiles
from alpha.adapters.local.cloudtrail_monitor import CloudTrailMonitor
from alpha.adapters.local.duckdb_usage import DuckDBUsageStore
from alpha.adapters.local.published_deliveries import SQLiteDeliveryLedger
from alpha.app.monitoring import Publishing, publish_deliveries
from alpha.rollout.iam_ports import ErrorRate, Monitor
from alpha.usage.mapping import EventMapper
from tests.adapters.aws.cloudwatch_server import cloudwatch_client, cloudwatch_server, emptied
from tests.adapters.aws.samples import invictus_files, records_of
from tests.fakes.memory_backends import SetClock
from tests.fakes.scripted_monitor import ScriptedMonitor, calls_in

if TYPE_CHECKING:
    from mypy_boto3_cloudwatch import CloudWatchClient

ACCOUNT = "123837392027"
BERT = f"arn:aws:iam::{ACCOUNT}:user/bert-jan"
PASSWORD_ROLE = f"arn:aws:iam::{ACCOUNT}:role/stratus-red-team-ec2-get-password-data-role"
USER_DATA_ROLE = f"arn:aws:iam::{ACCOUNT}:role/stratus-red-team-get-usr-data-role"
DAY_FOLDER = "AWSLogs/218007301253/CloudTrail/us-east-1/2023/07/10"


def trail_file(tag: str) -> Path:
    return next(path for path in invictus_files() if path.name.endswith(f"_{tag}.json"))


FIRST, SECOND, LATE = map(trail_file, ["x9kHmzMa7cx6l9wM", "UljXNp9xLp8nsAGc", "dOIWyEekdNWhkpqY"])


def at(hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2023, 7, 10, hour, minute, second, tzinfo=UTC)


@dataclass
class Rig:
    """A monitor, and `deliver`: a log file's records reach it (as CloudTrail delivers one)."""

    monitor: Monitor
    deliver: Callable[[Path], None]


@pytest.fixture(scope="module")
def cloudwatch(aws_env: None) -> Iterator[tuple[str, CloudWatchClient]]:
    with cloudwatch_server() as endpoint:
        yield endpoint, cloudwatch_client(endpoint)


@pytest.fixture(params=["cloudtrail", "cloudwatch", "scripted"])
def rig(request: pytest.FixtureRequest, tmp_path: Path, mapper: EventMapper) -> Iterator[Rig]:
    if request.param == "scripted":
        fake = ScriptedMonitor()
        yield Rig(fake, lambda path: fake.add(*calls_in(records_of(path), mapper)))
        return
    logs = tmp_path / "logs"
    (logs / DAY_FOLDER).mkdir(parents=True)

    def write(path: Path) -> None:
        (logs / DAY_FOLDER / path.name).write_text(json.dumps({"Records": records_of(path)}))

    with DuckDBUsageStore(tmp_path / "usage.duckdb") as store:
        if request.param == "cloudtrail":
            yield Rig(CloudTrailMonitor([LocalCloudTrailFiles(logs)], store), write)
            return
        endpoint, client = request.getfixturevalue("cloudwatch")
        emptied(endpoint)
        ledger = SQLiteDeliveryLedger(tmp_path / "published.sqlite")
        clock = SetClock(at(13))
        publishing = Publishing(store, CloudWatchMetrics(client), ledger, clock)

        def deliver(path: Path) -> None:
            write(path)
            publish_deliveries([LocalCloudTrailFiles(logs)], publishing)

        yield Rig(CloudWatchMonitor(client, store, ledger, clock), deliver)


@pytest.fixture
def delivered(rig: Rig) -> Monitor:
    for path in (FIRST, SECOND, LATE):
        rig.deliver(path)
    return rig.monitor


# Calls are counted per authorisation the usage layer records (a RunInstances is one per
# resource it touches: issue 10), by the fake and the real monitor alike.
def counts(rate: ErrorRate) -> tuple[int, int]:
    return rate.calls, rate.denied


def test_without_logs_nothing_is_seen_or_covered(rig: Rig) -> None:
    rate = rig.monitor.error_rate(BERT, at(11), at(13))
    assert rate == ErrorRate(0, 0, None)
    assert rate.rate == 0.0
    assert rig.monitor.calls(BERT, at(11), at(13)) == []
    assert rig.monitor.covered_until() is None


@pytest.mark.parametrize(
    ("principal", "since", "until", "expected"),
    [
        (BERT, at(11), at(12), (164, 0)),
        (BERT, at(12), at(13), (53, 2)),
        (BERT, at(11), at(13), (217, 2)),
        (BERT, at(10), at(11), (0, 0)),
        (USER_DATA_ROLE, at(11), at(13), (15, 15)),
        (PASSWORD_ROLE, at(11), at(12), (5, 5)),
        (PASSWORD_ROLE, at(12), at(13), (0, 0)),
        (f"arn:aws:iam::{ACCOUNT}:user/nobody", at(0), at(23), (0, 0)),
    ],
    ids=[
        "user, first hour",
        "user, second hour with denials",
        "user, both hours",
        "user, an hour before the logs",
        "role refused every call",
        "role, its hour",
        "role, an hour it made no call",
        "no such principal",
    ],
)
def test_error_rate_counts_the_principals_calls_in_the_window(
    delivered: Monitor, principal: str, since: datetime, until: datetime, expected: tuple[int, int]
) -> None:
    rate = delivered.error_rate(principal, since, until)
    assert counts(rate) == expected
    assert rate.covered_until == at(12, 3, 35)


def test_coverage_is_the_latest_event_of_any_principal(delivered: Monitor) -> None:
    assert delivered.covered_until() == at(12, 3, 35)
    assert delivered.error_rate(PASSWORD_ROLE, at(11), at(12)).covers(at(12))
    assert not delivered.error_rate(PASSWORD_ROLE, at(11), at(13)).covers(at(13))


def test_calls_are_the_allowed_calls_by_action_and_resource(delivered: Monitor) -> None:
    found = delivered.calls(BERT, at(12), at(13))
    assert sum(call.count for call in found) == 51
    assert len({(call.action, call.resource) for call in found}) == len(found)
    assert all(call.count > 0 for call in found)
    assert delivered.calls(USER_DATA_ROLE, at(11), at(13)) == []  # denied calls are no use


def test_logs_delivered_later_are_seen(rig: Rig) -> None:
    rig.deliver(FIRST)
    early = rig.monitor.error_rate(BERT, at(11), at(13))
    rig.deliver(SECOND)
    rig.deliver(LATE)
    later = rig.monitor.error_rate(BERT, at(11), at(13))
    assert counts(early) == (148, 0)
    assert early.covered_until == at(11, 57, 52)
    assert counts(later) == (217, 2)
    assert later.covered_until == at(12, 3, 35)
