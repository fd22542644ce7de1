"""`alpha usage athena://WORKGROUP/DATABASE.TABLE` end to end: the CLI's dispatch, the Athena
source over moto's Athena (its answer queued: moto runs no SQL, so the answer is what the same
query gives on DuckDB over the real samples), and the usage store, which keeps a closed day so
a second run asks Athena nothing."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest

from alpha.adapters.aws.athena_groups import hourly_usage, usage_groups
from alpha.adapters.aws.athena_source import AthenaLocation, AthenaUsageSource
from alpha.adapters.aws.athena_usage import CloudTrailTable, make_athena_client, usage_query
from alpha.adapters.aws.errors import AwsSourceError
from alpha.app.backends import usage_source_for
from alpha.usage.aggregate import usage_rows
from alpha.usage.mapping import EventMapper
from alpha.usage.ports import TimeWindow

from .test_athena_usage import athena_result, duck, events, queue_result  # noqa: F401
from .test_cli_sources import run

DAY = datetime(2023, 7, 10, tzinfo=UTC)
URL = "athena://primary/cloudtrail_db.cloudtrail_logs"


@pytest.fixture
def athena(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("AWS_ENDPOINT_URL_ATHENA", moto_endpoint)
    return moto_endpoint


def day_answer(connection: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    query = usage_query(
        CloudTrailTable("cloudtrail_db", "cloudtrail_logs"),
        TimeWindow(DAY, DAY + timedelta(days=1)),
    )
    cursor = connection.execute(query.sql, list(query.parameters))
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def test_an_athena_table_is_a_usage_source_kept_in_the_store(
    athena: str,
    duck: duckdb.DuckDBPyConnection,  # noqa: F811
    mapper: EventMapper,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    answer = day_answer(duck)
    queue_result(athena, athena_result(answer, list(answer[0])))
    client = make_athena_client(region="us-east-1", endpoint_url=athena)
    asked_before = len(client.list_query_executions(WorkGroup="primary")["QueryExecutionIds"])
    arguments = [URL, "--since", "2023-07-10", "--until", "2023-07-10", "--format", "json"]
    store = ["--store", str(tmp_path / "usage.duckdb")]

    code, out, err = run(capsys, "usage", *arguments, *store)
    assert code == 0, err
    first = json.loads(out)
    again_code, again_out, _ = run(capsys, "usage", *arguments, *store)

    counted = hourly_usage(usage_groups(answer), mapper)
    expected = usage_rows(counted.hourly())
    assert first["summary"]["files"] == 1  # one day
    assert first["summary"]["events"] == counted.events > 0
    shown = {
        (u["principal"], u["action"], u["resource"], u["count"], u["denied"])
        for u in first["usage"]
    }
    assert shown == {(r.principal, r.action, r.resource, r.count, r.denied) for r in expected}
    assert again_code == 0
    again = json.loads(again_out)
    assert again["summary"]["events_read"] == 0  # the closed day was kept: Athena not asked
    assert again["usage"] == first["usage"]
    asked = client.list_query_executions(WorkGroup="primary")["QueryExecutionIds"]
    assert len(asked) == asked_before + 1


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("athena://primary/cloudtrail_logs", "expected athena://WORKGROUP/DATABASE.TABLE"),
        ("athena:///db.table", "expected athena://WORKGROUP/DATABASE.TABLE"),
        ("athena://primary/db.table;drop", "not a plain identifier"),
        ("athena://primary/db.table?partition=day-of", "not a plain identifier"),
        ("athena://primary/db.table?colour=blue", "unknown option 'colour'"),
    ],
)
def test_a_bad_athena_url_names_itself(url: str, message: str) -> None:
    with pytest.raises(AwsSourceError, match=message) as raised:
        usage_source_for(url)
    assert url.partition("?")[0] in str(raised.value)


def test_days_are_batches_and_open_ones_are_asked_again() -> None:
    location = AthenaLocation.parse(f"{URL}?partition=timestamp&output=s3://results/")
    assert location.table.date_partition == "timestamp"
    assert location.output == "s3://results/"
    now = DAY + timedelta(days=2, hours=0, minutes=30)
    source = AthenaUsageSource(None, location, clock=lambda: now)  # type: ignore[arg-type]
    batches = list(source.batches(TimeWindow(DAY - timedelta(hours=6), None)))
    assert [b.key.rpartition("/")[2] for b in batches] == [
        "2023-07-09",
        "2023-07-10",
        "2023-07-11",
        "2023-07-12",
    ]
    # The 11th may still get deliveries (an hour after it ended), the 12th is today.
    assert [" asked " in b.version for b in batches] == [False, False, True, True]
    assert batches[0].version == "2023-07-09T18:00:00Z/2023-07-10T00:00:00Z"
    with pytest.raises(AwsSourceError, match="not log files"):
        source.read(batches[0])
