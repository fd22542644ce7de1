"""`alpha monitor publish` end to end over a log folder, with CloudWatch routed to a moto server
of its own by `AWS_ENDPOINT_URL_CLOUDWATCH`, and the monitor a rollout then watches chosen by
`ALPHA_MONITOR`."""

from __future__ import annotations

import gzip
import json
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from alpha.adapters.aws.cloudwatch_monitor import CloudWatchMonitor
from alpha.app import Flags, load_settings
from alpha.app.backends import ConfiguredBackends, UnwatchedMonitor, ledger_path
from alpha.app.errors import SettingsError
from alpha.demo.sample import ACCOUNT as SAMPLE_ACCOUNT
from alpha.demo.sample import ROLLOUT_AT, write_sample
from tests.adapters.aws.cloudwatch_server import (
    cloudwatch_client,
    cloudwatch_server,
    emptied,
    metric_points,
)
from tests.adapters.aws.samples import invictus_files
from tests.adapters.aws.test_cli_sources import run
from tests.cli.workflow_helpers import alpha

if TYPE_CHECKING:
    from mypy_boto3_cloudwatch import CloudWatchClient

BERT = "arn:aws:iam::123837392027:user/bert-jan"
FOLDER = "AWSLogs/218007301253/CloudTrail/us-east-1/2023/07/10"
NOW = "2023-07-10T13:00:00Z"


@pytest.fixture(scope="module")
def server(aws_env: None) -> Iterator[str]:
    with cloudwatch_server() as endpoint:
        yield endpoint


@pytest.fixture
def cloudwatch(server: str, monkeypatch: pytest.MonkeyPatch) -> CloudWatchClient:
    monkeypatch.setenv("AWS_ENDPOINT_URL_CLOUDWATCH", emptied(server))
    return cloudwatch_client(server)


def logs_with(tmp_path: Path, count: int) -> Path:
    folder = tmp_path / "logs" / FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    for path in invictus_files()[:count]:
        if not (folder / path.name).exists():  # a delivered file is never written again
            shutil.copy(path, folder / path.name)
    return tmp_path / "logs"


def calls_of(client: CloudWatchClient, principal: str) -> float:
    start = datetime(2023, 7, 10, tzinfo=UTC)
    points = metric_points(client, "Calls", principal, start, start + timedelta(days=1))
    return sum(value for _, value in points)


def test_publish_is_incremental_and_matches_the_usage_report(
    cloudwatch: CloudWatchClient, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    logs = logs_with(tmp_path, 10)
    store = ["--usage-store", str(tmp_path / "usage.duckdb"), "--now", NOW]
    code, out, err = run(capsys, "monitor", "publish", str(logs), *store, "--format", "json")
    assert code == 0, err
    first = json.loads(out)
    assert first["deliveries"] == 10
    assert first["covered_until"].startswith("2023-07-10T12:")
    assert ledger_path(tmp_path / "usage.duckdb").is_file()

    code, out, _ = run(capsys, "monitor", "publish", str(logs), *store, "--format", "json")
    assert (code, json.loads(out)["deliveries"], json.loads(out)["already_published"]) == (0, 0, 10)
    published = calls_of(cloudwatch, BERT)

    # The usage the publish stored is the report `alpha usage` gives for the same files.
    code, out, err = run(
        capsys, "usage", str(logs), "--store", str(tmp_path / "usage.duckdb"), "--format", "json"
    )
    assert code == 0, err
    report = json.loads(out)
    assert report["summary"]["events_read"] == 0  # the publish already stored them
    assert published == sum(
        u["count"] + u["denied"] for u in report["usage"] if u["principal"] == BERT
    )

    logs_with(tmp_path, 12)
    code, out, _ = run(capsys, "monitor", "publish", str(logs), *store)
    assert code == 0
    assert "published 2 new deliveries" in out
    assert "already published: 10" in out


def test_unreadable_records_are_published_and_exit_1(
    cloudwatch: CloudWatchClient, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    logs = logs_with(tmp_path, 1)
    name = next((logs / FOLDER).iterdir())
    document = json.loads(name.read_text())
    document["Records"].append({"userIdentity": "not an object"})
    name.write_text(json.dumps(document))
    code, _, err = run(
        capsys,
        "monitor",
        "publish",
        str(logs),
        "--usage-store",
        str(tmp_path / "u.duckdb"),
        "--now",
        NOW,
    )
    assert code == 1
    assert "unread records: 1" in err
    names = {m["MetricName"] for m in cloudwatch.list_metrics(Namespace="ALPHA/IAM")["Metrics"]}
    assert {"Calls", "AccessDenied", "IAMErrorRate", "UnreadRecords", "DeliveredUntil"} <= names


@pytest.mark.parametrize(
    ("env", "toml", "expected"),
    [
        ({}, "", UnwatchedMonitor),  # the default: the CloudTrail logs, none given
        ({"ALPHA_MONITOR": "cloudwatch"}, "", CloudWatchMonitor),
        ({}, '[rollout]\nmonitor = "cloudwatch"\n', CloudWatchMonitor),
        ({"ALPHA_MONITOR": "CloudTrail"}, '[rollout]\nmonitor = "cloudwatch"\n', UnwatchedMonitor),
    ],
    ids=["default", "variable", "alpha.toml", "variable over file"],
)
def test_the_monitor_is_chosen_by_a_setting(
    tmp_path: Path, aws_env: None, env: dict[str, str], toml: str, expected: type
) -> None:
    (tmp_path / "alpha.toml").write_text(toml)
    settings = load_settings(Flags(), {"ALPHA_USER": "sam", **env}, tmp_path)
    backends = ConfiguredBackends(settings, {})
    with backends.open_monitor(watch=True) as monitor:
        assert isinstance(monitor, expected)
    with backends.open_monitor(watch=False) as monitor:
        assert isinstance(monitor, UnwatchedMonitor)


@pytest.mark.parametrize(
    ("env", "toml", "message"),
    [
        ({"ALPHA_MONITOR": "prometheus"}, "", "ALPHA_MONITOR: 'prometheus': not a monitor"),
        ({}, '[rollout]\nmonitor = "graphite"\n', "alpha.toml"),
    ],
)
def test_an_unknown_monitor_is_a_clear_error(
    tmp_path: Path, env: dict[str, str], toml: str, message: str
) -> None:
    (tmp_path / "alpha.toml").write_text(toml)
    with pytest.raises(SettingsError, match=message) as raised:
        load_settings(Flags(), {"ALPHA_USER": "sam", **env}, tmp_path)
    assert "monitor" in str(raised.value)


def deliver_until(bake: Path, deliveries: Path, moment: datetime) -> None:
    """CloudTrail's deliveries of the sample's bake logs up to `moment`: one file per
    5 minutes of calls, named as CloudTrail names them."""
    records = [r for f in sorted(bake.rglob("*.json*")) for r in json.loads(_text(f))["Records"]]
    by_file: dict[str, list[Any]] = {}
    for record in records:
        when = datetime.fromisoformat(record["eventTime"].replace("Z", "+00:00"))
        if when >= moment:
            continue
        slot = when.replace(minute=when.minute - when.minute % 5, second=0) + timedelta(minutes=5)
        folder = f"AWSLogs/{SAMPLE_ACCOUNT}/CloudTrail/eu-west-1/{slot:%Y/%m/%d}"
        name = f"{folder}/{SAMPLE_ACCOUNT}_CloudTrail_eu-west-1_{slot:%Y%m%dT%H%MZ}_demo.json"
        by_file.setdefault(name, []).append(record)
    for name, found in by_file.items():
        path = deliveries / name
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps({"Records": found}))


def _text(path: Path) -> str:
    data = path.read_bytes()
    return (gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data).decode()


@pytest.mark.slow
def test_a_rollout_bakes_on_the_published_metrics(
    cloudwatch: CloudWatchClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The loop on the demo sample with `ALPHA_MONITOR=cloudwatch`: each stage waits until the
    published deliveries reach its bake's end; report-builder's canary meets AccessDenied in
    the metrics and is rolled back, orders-api goes through."""
    paths = write_sample(tmp_path)
    monkeypatch.chdir(tmp_path)
    for name in ("ALPHA_STORE", "ALPHA_CONFIG", "ALPHA_LOGS", "ALPHA_USER"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ALPHA_STORE_REPLAY", "true")
    monkeypatch.setenv("ALPHA_BAKE", "2h")
    monkeypatch.setenv("ALPHA_MONITOR", "cloudwatch")
    deliveries = tmp_path / "deliveries"

    def at(hours: float) -> datetime:
        return ROLLOUT_AT + timedelta(hours=hours)

    def publish(hours: float) -> None:
        deliver_until(paths.bake, deliveries, at(hours))
        published = alpha("monitor", "publish", str(deliveries), "--now", at(hours).isoformat())
        assert published.code == 0, published.err

    proposed = alpha(
        "propose", "--all", "--usage", "cloudtrail", "--account", paths.account.name,
        "--by", "dana", "--now", at(-2).isoformat(), "--format", "json",
    )  # fmt: skip
    found = {p["principal"].rpartition("/")[2]: p["id"] for p in proposed.json()["proposals"]}
    for name in ("orders-api", "report-builder"):
        assert alpha("approve", found[name], "--by", "sam", "--now", at(-1).isoformat()).code == 0

    publish(0.1)
    first = alpha("rollout", found["orders-api"], "--now", at(0.1).isoformat(), "--format", "json")
    assert first.json()[0]["state"] == "sandbox"  # baking: the logs do not reach 02:06 yet
    alpha("rollout", found["report-builder"], "--stage", "sandbox", "--now", at(0.2).isoformat())
    states = {}
    for hours in (3, 6):
        publish(hours)
        ran = alpha("rollout", "resume", "--now", at(hours).isoformat(), "--format", "json")
        states[hours] = {r["id"]: r["state"] for r in ran.json()}
    assert states[3][found["orders-api"]] == "canary"
    assert states[6][found["orders-api"]] == "production"
    publish(7)  # the monthly clean-up runs from 07:00, and the canary's boundary refuses it
    canary = alpha(
        "rollout", found["report-builder"], "--stage", "canary", "--now", at(7).isoformat()
    )
    assert canary.code == 0, canary.err
    publish(9.5)
    ran = alpha("rollout", "resume", "--now", at(9.5).isoformat(), "--format", "json")
    ended_now = {r["id"]: r for r in ran.json()}
    assert ended_now[found["orders-api"]]["state"] == "succeeded"
    assert ended_now[found["report-builder"]]["state"] == "rolled_back"
    assert "AccessDenied" in ended_now[found["report-builder"]]["detail"]
    ended = alpha("status", "--format", "json").json()["metrics"]["by_state"]
    assert ended["rolled_back"] == 1
    emf = [
        json.loads(line)
        for line in (tmp_path / ".alpha" / "metrics.jsonl").read_text().splitlines()
    ]
    outcomes = sorted(e["RolloutFailure"] for e in emf if "RolloutFailure" in e)
    assert outcomes == [0, 1]
