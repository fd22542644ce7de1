"""The Athena query, run on DuckDB over the real samples loaded into the CloudTrail table schema
AWS documents for Athena; and the runner against moto's Athena over HTTP."""

from __future__ import annotations

import json
import urllib.request
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import msgspec
import orjson
import pytest

from alpha.adapters.aws.athena_groups import hourly_usage, usage_groups
from alpha.adapters.aws.athena_usage import (
    DUCKDB_SHIM,
    AthenaQuery,
    AthenaRunner,
    CloudTrailTable,
    RequestKeys,
    athena_usage,
    sql_string_literal,
    usage_query,
)
from alpha.adapters.aws.errors import AwsSourceError
from alpha.usage.aggregate import BatchUsage, usage_rows
from alpha.usage.events import CloudTrailEvent
from alpha.usage.interpret import interpret, parse_event_time
from alpha.usage.mapping import EventMapper
from alpha.usage.ports import TimeWindow
from alpha.usage.reader import LogReader
from alpha.usage.tally import BatchTally

from .conftest import CallRecorder
from .samples import sample_files

TABLE = CloudTrailTable("cloudtrail_db", "cloudtrail_logs", date_partition="timestamp")
BERT_JAN = "arn:aws:iam::123837392027:user/bert-jan"

# The documented table (Athena: "Querying AWS CloudTrail logs"), as DuckDB types, plus the
# partition-projection column `timestamp` (yyyy/MM/dd).
SCHEMA = """
CREATE TABLE cloudtrail_db.cloudtrail_logs (
    eventversion VARCHAR,
    useridentity STRUCT(
        type VARCHAR, principalid VARCHAR, arn VARCHAR, accountid VARCHAR, invokedby VARCHAR,
        accesskeyid VARCHAR, username VARCHAR,
        sessioncontext STRUCT(
            attributes STRUCT(mfaauthenticated VARCHAR, creationdate VARCHAR),
            sessionissuer STRUCT(
                type VARCHAR, principalid VARCHAR, arn VARCHAR, accountid VARCHAR,
                username VARCHAR
            )
        )
    ),
    eventtime VARCHAR,
    eventsource VARCHAR,
    eventname VARCHAR,
    awsregion VARCHAR,
    sourceipaddress VARCHAR,
    useragent VARCHAR,
    errorcode VARCHAR,
    errormessage VARCHAR,
    requestparameters VARCHAR,
    responseelements VARCHAR,
    eventid VARCHAR,
    resources STRUCT(arn VARCHAR, accountid VARCHAR, type VARCHAR)[],
    eventtype VARCHAR,
    recipientaccountid VARCHAR,
    "timestamp" VARCHAR
)
"""


def decoded_events() -> list[CloudTrailEvent]:
    """Every sample record the local reader accepts: both paths start from the same rows."""
    reader = LogReader()
    return [
        e for path in sample_files() for e in reader.decode(path.read_bytes(), path.name).events
    ]


def table_row(event: CloudTrailEvent) -> tuple[Any, ...]:
    raw = msgspec.to_builtins(event)
    identity = raw.get("userIdentity")
    issuer = ((identity or {}).get("sessionContext") or {}).get("sessionIssuer")
    user = None
    if identity is not None:
        user = {
            "type": identity.get("type"),
            "principalid": identity.get("principalId"),
            "arn": identity.get("arn"),
            "accountid": identity.get("accountId"),
            "invokedby": identity.get("invokedBy"),
            "accesskeyid": None,
            "username": identity.get("userName"),
            "sessioncontext": None
            if issuer is None
            else {
                "attributes": None,
                "sessionissuer": {
                    "type": issuer.get("type"),
                    "principalid": None,
                    "arn": issuer.get("arn"),
                    "accountid": issuer.get("accountId"),
                    "username": issuer.get("userName"),
                },
            },
        }
    resources = raw.get("resources")
    params = raw.get("requestParameters")
    response = raw.get("responseElements")
    time = raw.get("eventTime") or ""
    return (
        "1.08",
        user,
        raw.get("eventTime"),
        raw.get("eventSource"),
        raw.get("eventName"),
        raw.get("awsRegion"),
        raw.get("sourceIPAddress"),
        raw.get("userAgent"),
        raw.get("errorCode"),
        raw.get("errorMessage"),
        None if params is None else orjson.dumps(params).decode(),
        None if response is None else orjson.dumps(response).decode(),
        raw.get("eventID"),
        None
        if resources is None
        else [
            {"arn": r.get("ARN"), "accountid": r.get("accountId"), "type": r.get("type")}
            for r in resources
        ],
        raw.get("eventType"),
        raw.get("recipientAccountId"),
        time[:10].replace("-", "/"),
    )


@pytest.fixture(scope="module")
def events() -> list[CloudTrailEvent]:
    return decoded_events()


@pytest.fixture(scope="module")
def duck(
    events: list[CloudTrailEvent], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[duckdb.DuckDBPyConnection]:
    con = cloudtrail_table(SCHEMA, [table_row(e) for e in events], tmp_path_factory.mktemp("a"))
    yield con
    con.close()


def cloudtrail_table(
    schema: str, rows: list[tuple[Any, ...]], folder: Path
) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection holding `cloudtrail_db.cloudtrail_logs` made by `schema`, with these
    rows (in its column order) loaded, and Trino's `json_format` defined."""
    con = duckdb.connect()
    con.execute("CREATE SCHEMA cloudtrail_db")
    con.execute(schema)
    # Bulk-load through JSON lines with the table's own column types (row inserts of nested
    # structs are slow).
    names_types = con.execute("DESCRIBE cloudtrail_db.cloudtrail_logs").fetchall()
    names = [name for name, *_ in names_types]
    lines = folder / "rows.jsonl"
    lines.write_bytes(b"\n".join(orjson.dumps(dict(zip(names, row, strict=True))) for row in rows))
    columns = ", ".join(f"'{name}': '{kind}'" for name, kind, *_ in names_types)
    con.execute(
        "INSERT INTO cloudtrail_db.cloudtrail_logs SELECT * FROM read_json("
        f"?, format = 'newline_delimited', columns = {{{columns}}})",
        [str(lines)],
    )
    con.execute(DUCKDB_SHIM)
    return con


def run_on_duckdb(con: duckdb.DuckDBPyConnection, query: AthenaQuery) -> list[dict[str, Any]]:
    assert query.sql.count("?") == len(query.parameters)
    cursor = con.execute(query.sql, list(query.parameters))
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def local_usage(events: list[CloudTrailEvent], mapper: EventMapper) -> BatchUsage:
    tally = BatchTally()
    for event in events:
        tally.add(interpret(event, mapper))
    return tally.finish()


def principal_of_record(event: CloudTrailEvent) -> str | None:
    """The principal as the query's CASE reads it, in plain Python."""
    identity = event.userIdentity
    if identity is None:
        return None
    if identity.type == "AssumedRole":
        issuer = identity.sessionContext.sessionIssuer if identity.sessionContext else None
        return issuer.arn if issuer else None
    return identity.arn


def in_window(event: CloudTrailEvent, window: TimeWindow) -> bool:
    moment = parse_event_time(event.eventTime or "")
    return moment is not None and window.contains(moment)


def test_the_sql_gives_the_local_aggregation(
    duck: duckdb.DuckDBPyConnection, events: list[CloudTrailEvent], mapper: EventMapper
) -> None:
    table = CloudTrailTable("cloudtrail_db", "cloudtrail_logs")
    rows = run_on_duckdb(duck, usage_query(table, TimeWindow()))

    athena = hourly_usage(usage_groups(rows), mapper)
    local = local_usage(events, mapper)

    assert len(events) > 3600  # the samples' records the reader accepts
    assert athena.events == local.events == len(events)
    assert len(rows) < len(events)  # it grouped
    assert usage_rows(athena.hourly()) == usage_rows(local.hourly())
    assert athena.unmapped == local.unmapped
    assert athena.skipped == local.skipped
    assert any(row.denied for row in usage_rows(local.hourly()))


@pytest.mark.parametrize(
    "window",
    [
        TimeWindow(
            datetime(2023, 7, 10, 11, 50, tzinfo=UTC), datetime(2023, 7, 10, 12, 5, tzinfo=UTC)
        ),
        TimeWindow(datetime(2020, 1, 1, tzinfo=UTC), datetime(2030, 1, 1, tzinfo=UTC)),
        TimeWindow(datetime(2023, 7, 10, 12, 0, 5, tzinfo=UTC), None),
        TimeWindow(None, datetime(2022, 9, 27, 19, 59, 8, tzinfo=UTC)),  # "2022-09-27 ..." times
        TimeWindow(datetime(2022, 9, 27, 19, 59, 8, tzinfo=UTC), None),
    ],
)
def test_counts_per_principal_and_event_equal_a_plain_count(
    duck: duckdb.DuckDBPyConnection, events: list[CloudTrailEvent], window: TimeWindow
) -> None:
    rows = run_on_duckdb(duck, usage_query(TABLE, window))

    counted: Counter[tuple[str | None, str | None, str | None]] = Counter()
    for group in usage_groups(rows):
        counted[
            principal_of_record(group.event), group.event.eventSource, group.event.eventName
        ] += group.count
    expected = Counter(
        (principal_of_record(e), e.eventSource, e.eventName) for e in events if in_window(e, window)
    )
    assert counted == expected
    assert sum(expected.values()) > 0


def test_one_principal_is_a_parameter(
    duck: duckdb.DuckDBPyConnection, events: list[CloudTrailEvent], mapper: EventMapper
) -> None:
    window = TimeWindow(datetime(2023, 7, 10, tzinfo=UTC), datetime(2023, 7, 11, tzinfo=UTC))
    query = usage_query(TABLE, window, principal=BERT_JAN)

    rows = run_on_duckdb(duck, query)
    groups = list(usage_groups(rows))

    assert BERT_JAN not in query.sql
    assert BERT_JAN in query.parameters
    assert sum(group.count for group in groups) == 2641  # as the samples' README counts
    mine = [e for e in events if principal_of_record(e) == BERT_JAN and in_window(e, window)]
    assert usage_rows(hourly_usage(groups, mapper).hourly()) == usage_rows(
        local_usage(mine, mapper).hourly()
    )


def test_request_keys_group_coarser_and_keep_those_keys(
    duck: duckdb.DuckDBPyConnection, events: list[CloudTrailEvent]
) -> None:
    keys = RequestKeys(("bucketName", "key", "roleArn", "instancesSet"))
    full = run_on_duckdb(duck, usage_query(TABLE, TimeWindow()))
    coarse = run_on_duckdb(duck, usage_query(TABLE, TimeWindow(), request=keys))

    assert len(coarse) < len(full)
    assert sum(row["calls"] for row in coarse) == sum(row["calls"] for row in full) == len(events)
    seen: set[tuple[str, Any]] = set()
    for group in usage_groups(coarse):
        params = group.event.requestParameters or {}
        assert set(params) <= set(keys.keys)
        seen.update((key, json.dumps(value, sort_keys=True)) for key, value in params.items())
    expected = {
        (key, json.dumps(value, sort_keys=True))
        for e in events
        for key, value in (e.requestParameters or {}).items()
        if key in keys.keys and value is not None
    }
    assert seen == expected


@pytest.mark.parametrize(
    ("principal", "literal"),
    [
        ("arn:aws:iam::123456789012:role/x", "'arn:aws:iam::123456789012:role/x'"),
        ("o'brien", "'o''brien'"),
    ],
)
def test_parameters_are_string_literals(principal: str, literal: str) -> None:
    query = usage_query(TABLE, TimeWindow(), principal=principal)

    assert query.execution_parameters()[-1] == literal
    assert sql_string_literal(principal) == literal
    assert principal not in query.sql


def test_a_quote_in_a_parameter_cannot_break_out(duck: duckdb.DuckDBPyConnection) -> None:
    query = usage_query(TABLE, TimeWindow(), principal="x' OR '1'='1")

    assert run_on_duckdb(duck, query) == []


@pytest.mark.parametrize(
    ("database", "table", "partition"),
    [("db; DROP TABLE x", "t", None), ("db", 't"', None), ("db", "t", "a b")],
)
def test_table_names_must_be_identifiers(database: str, table: str, partition: str | None) -> None:
    with pytest.raises(AwsSourceError, match="not a plain identifier"):
        CloudTrailTable(database, table, partition)


def test_request_keys_must_be_plain(duck: duckdb.DuckDBPyConnection) -> None:
    with pytest.raises(AwsSourceError, match="not a plain key name"):
        RequestKeys(("a.b",))


RESULT_COLUMNS = (
    "identity_type",
    "identity_arn",
    "identity_account",
    "identity_username",
    "invoked_by",
    "issuer_type",
    "issuer_arn",
    "issuer_account",
    "issuer_username",
    "event_source",
    "event_name",
    "event_type",
    "region",
    "recipient_account",
    "error_code",
    "error_message",
    "request_json",
)


def test_the_result_columns_are_the_query_columns(duck: duckdb.DuckDBPyConnection) -> None:
    query = usage_query(TABLE, TimeWindow())
    cursor = duck.execute(query.sql, list(query.parameters))
    names = [column[0] for column in cursor.description]

    assert names == [
        *RESULT_COLUMNS[:-1],
        "resources_json",
        "request_json",
        "response_json",
        "calls",
        "first_seen",
        "last_seen",
    ]


def test_resources_from_an_older_engine_cast_as_arrays() -> None:
    row: dict[str, str | None] = dict.fromkeys(RESULT_COLUMNS)
    row |= {
        "resources_json": '[["arn:aws:s3:::b", "1", "AWS::S3::Bucket"]]',
        "calls": "3",
        "first_seen": "2023-07-10T11:00:00Z",
        "last_seen": "2023-07-10T12:00:00Z",
    }

    [group] = usage_groups([row])

    assert group.count == 3
    [resource] = group.event.resources or []
    assert (resource.ARN, resource.accountId, resource.type) == (
        "arn:aws:s3:::b",
        "1",
        "AWS::S3::Bucket",
    )


# --- the runner, against moto's Athena over HTTP ------------------------------------------


def athena_result(rows: list[dict[str, Any]], names: list[str]) -> dict[str, Any]:
    def data(values: list[Any]) -> dict[str, Any]:
        return {"Data": [{} if v is None else {"VarCharValue": str(v)} for v in values]}

    return {
        "rows": [data(names)] + [data([row[n] for n in names]) for row in rows],
        "column_info": [
            {
                "CatalogName": "hive",
                "SchemaName": "",
                "TableName": "",
                "Name": n,
                "Label": n,
                "Type": "varchar",
                "Precision": 0,
                "Scale": 0,
                "Nullable": "UNKNOWN",
                "CaseSensitive": True,
            }
            for n in names
        ],
    }


def queue_result(moto_endpoint: str, result: dict[str, Any]) -> None:
    body = json.dumps({"region": "us-east-1", "results": [result]}).encode()
    request = urllib.request.Request(
        f"{moto_endpoint}/moto-api/static/athena/query-results",
        data=body,
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request) as response:
        assert response.status == 201


def test_the_runner_starts_polls_and_reads_the_results(
    moto_endpoint: str, duck: duckdb.DuckDBPyConnection, mapper: EventMapper
) -> None:
    from alpha.adapters.aws.athena_usage import make_athena_client

    window = TimeWindow(datetime(2023, 7, 10, tzinfo=UTC), datetime(2023, 7, 11, tzinfo=UTC))
    query = usage_query(TABLE, window, principal=BERT_JAN)
    cursor = duck.execute(query.sql, list(query.parameters))
    names = [column[0] for column in cursor.description]
    expected = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    queue_result(moto_endpoint, athena_result(expected, names))
    client = make_athena_client(region="us-east-1", endpoint_url=moto_endpoint)
    starts = CallRecorder(client, "StartQueryExecution")
    polls = CallRecorder(client, "GetQueryExecution")
    runner = AthenaRunner(client, output_location="s3://results/", poll_seconds=0.0)

    result = athena_usage(runner, TABLE, window, mapper, principal=BERT_JAN)

    [start] = starts.calls
    assert start["QueryString"] == query.sql
    assert start["ExecutionParameters"] == query.execution_parameters()
    assert BERT_JAN not in start["QueryString"]
    assert start["QueryExecutionContext"] == {"Database": "cloudtrail_db"}
    assert len(polls.calls) >= 1
    assert result == hourly_usage(usage_groups(expected), mapper)
    assert result.events == 2641


def test_a_failed_query_is_an_error_naming_it(moto_endpoint: str) -> None:
    from alpha.adapters.aws.athena_usage import make_athena_client

    client = make_athena_client(region="us-east-1", endpoint_url=moto_endpoint)
    runner = AthenaRunner(client, workgroup="no-such-workgroup", poll_seconds=0.0)

    with pytest.raises(AwsSourceError, match="Athena StartQueryExecution"):
        list(runner.rows(AthenaQuery("SELECT 1", ()), "db"))
