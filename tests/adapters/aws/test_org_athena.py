"""`scan --org DIR --usage athena://...`: the organisation trail's Athena table is asked once
per day for every account (not once per account), and each account's ranking is what the same
logs read from files give. moto's Athena runs no SQL: the day's answer is what the query gives
on DuckDB over the logs loaded into the documented CloudTrail table."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from alpha.adapters.aws.athena_usage import CloudTrailTable, make_athena_client, usage_query
from alpha.usage.ports import TimeWindow
from alpha.usage.reader import LogReader
from tests.org.sample_folder import GENERATED, GENERATED_LOGS, MANAGEMENT, write_sample_folder

from .test_athena_usage import SCHEMA, athena_result, cloudtrail_table, queue_result, table_row
from .test_cli_sources import run

DAY = datetime(2024, 3, 4, tzinfo=UTC)
URL = "athena://primary/cloudtrail_db.cloudtrail_logs"
WINDOW = ("--since", "2024-03-04", "--until", "2024-03-04")


def day_answer(folder: Path) -> dict[str, Any]:
    reader = LogReader()
    events = [
        event
        for path in sorted(GENERATED_LOGS.rglob("*.json.gz"))
        for event in reader.decode(path.read_bytes(), path.name).events
    ]
    connection = cloudtrail_table(SCHEMA, [table_row(e) for e in events], folder)
    try:
        table = CloudTrailTable("cloudtrail_db", "cloudtrail_logs")
        query = usage_query(table, TimeWindow(DAY, DAY + timedelta(days=1)))
        cursor = connection.execute(query.sql, list(query.parameters))
        names = [column[0] for column in cursor.description]
        rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    finally:
        connection.close()
    return athena_result(rows, names)


def ranking(report: dict[str, Any]) -> list[tuple[str, float, int]]:
    return [(a["account"], a["excess"], a["principals"]) for a in report["accounts"]]


def test_an_organisation_scan_asks_athena_once_per_day_for_every_account(
    moto_endpoint: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_ATHENA", moto_endpoint)
    org = write_sample_folder(tmp_path / "org")
    queue_result(moto_endpoint, day_answer(tmp_path))
    client = make_athena_client(region="us-east-1", endpoint_url=moto_endpoint)
    asked_before = len(client.list_query_executions(WorkGroup="primary")["QueryExecutionIds"])

    scan = ["scan", "--org", str(org), *WINDOW, "--format", "json"]
    store = ["--store", str(tmp_path / "athena.duckdb")]
    code, out, err = run(capsys, *scan, "--usage", URL, *store)
    assert code == 0, err
    from_athena = json.loads(out)
    asked = client.list_query_executions(WorkGroup="primary")["QueryExecutionIds"]
    assert len(asked) == asked_before + 1  # one day, one query, both accounts

    files = ["--usage", str(GENERATED_LOGS), "--store", str(tmp_path / "files.duckdb")]
    code, out, err = run(capsys, *scan, *files)
    assert code == 0, err
    from_files = json.loads(out)
    assert [a for a, _, _ in ranking(from_athena)] == [GENERATED, MANAGEMENT]
    assert ranking(from_athena)[0][1] > 0  # the generated account's roles used little of theirs
    assert ranking(from_athena) == ranking(from_files)
    assert from_athena["unused_roles"] == from_files["unused_roles"]
