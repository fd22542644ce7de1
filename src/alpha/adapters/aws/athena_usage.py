"""Usage from Athena, for organisations whose CloudTrail is too big for one machine.

Athena does the heavy part: it reads the logs and groups the calls by everything the
interpretation of a call depends on (who, which event, where, error, resources, request), with
a count, first seen and last seen per group. Each group comes back as one *representative*
CloudTrail event plus its count, which the same code as the local path interprets
(`alpha.usage.interpret`): events to IAM actions, principals, resources and denials are decided
in one place, never re-implemented in SQL. `athena_groups.hourly_usage` folds the groups into
the same rows the local aggregation makes.

The query runs over the standard CloudTrail table AWS documents for Athena (columns
`useridentity` STRUCT, `eventtime` STRING, `requestparameters` STRING, `resources`
ARRAY<STRUCT<arn, accountid, type>>, ...). Every value (times, the principal ARN, JSON paths)
is an `ExecutionParameters` entry bound to a `?`: nothing the user gives is pasted into the SQL
text. Only the table name is, after checking it is a plain `database.table` identifier.

The SQL keeps to what both Trino (Athena engine 3) and DuckDB accept, so the tests run the same
text on DuckDB. The one function DuckDB lacks is Trino's `json_format` (JSON to its text); the
tests define it as a one-line DuckDB macro (`CAST(j AS VARCHAR)`), see `DUCKDB_SHIM`.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from alpha.adapters.aws.athena_groups import hourly_usage, usage_groups
from alpha.adapters.aws.clients import make_client
from alpha.adapters.aws.errors import AwsSourceError
from alpha.usage.aggregate import BatchUsage
from alpha.usage.authorisations import READS_RESPONSE
from alpha.usage.mapping import EventMapper
from alpha.usage.ports import TimeWindow

if TYPE_CHECKING:
    from mypy_boto3_athena import AthenaClient

log = logging.getLogger(__name__)

DUCKDB_SHIM = "CREATE OR REPLACE MACRO json_format(j) AS CAST(j AS VARCHAR)"
DELIVERY_SLACK = timedelta(hours=1)  # a day partition is the delivery day, see s3_cloudtrail
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_REQUEST_KEY = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
_PRINCIPAL = (
    "CASE WHEN useridentity.type = 'AssumedRole' "
    "THEN useridentity.sessioncontext.sessionissuer.arn ELSE useridentity.arn END"
)
# Every column the interpretation of a call reads; the query groups by all of them.
_GROUP_COLUMNS = (
    ("identity_type", "useridentity.type"),
    ("identity_arn", "useridentity.arn"),
    ("identity_account", "useridentity.accountid"),
    ("identity_username", "useridentity.username"),
    ("invoked_by", "useridentity.invokedby"),
    ("issuer_type", "useridentity.sessioncontext.sessionissuer.type"),
    ("issuer_arn", "useridentity.sessioncontext.sessionissuer.arn"),
    ("issuer_account", "useridentity.sessioncontext.sessionissuer.accountid"),
    ("issuer_username", "useridentity.sessioncontext.sessionissuer.username"),
    ("event_source", "eventsource"),
    ("event_name", "eventname"),
    ("event_type", "eventtype"),
    ("region", "awsregion"),
    ("recipient_account", "recipientaccountid"),
    ("error_code", "errorcode"),
    ("error_message", "errormessage"),
    ("resources_json", "json_format(CAST(resources AS JSON))"),
)
# The stronger names of the person behind a role session (see alpha.usage.principals).
_PERSON_COLUMNS = (
    ("source_identity", "useridentity.sessioncontext.sourceidentity"),
    ("behalf_user", "useridentity.onbehalfof.userid"),
)
# CloudTrail writes `2023-07-10T11:42:36Z`; some exports a space for the `T`. With the `T` put
# back, comparing the text compares the times, for bounds written without the `Z` (the shorter
# text sorts first: `...:08` <= `...:08Z` <= `...:08.5`).
_TIME = "replace(eventtime, ' ', 'T')"
_TOTALS = f"count(*) AS calls, min({_TIME}) AS first_seen, max({_TIME}) AS last_seen"


@dataclass(frozen=True, slots=True)
class CloudTrailTable:
    """`database.table` of the CloudTrail table; `date_partition` names its partition-
    projection column (`timestamp` in AWS's example, values `yyyy/MM/dd`) when it has one."""

    database: str
    table: str
    date_partition: str | None = None
    # The table has `useridentity.onbehalfof` and `useridentity.sessioncontext.sourceidentity`
    # (AWS's current DDL; older tables lack them, and a query naming them would fail).
    person_columns: bool = False

    def __post_init__(self) -> None:
        for part in (self.database, self.table, self.date_partition or "x"):
            if not _IDENTIFIER.fullmatch(part):
                raise AwsSourceError(f"Athena table {part!r}: not a plain identifier")

    @property
    def sql_name(self) -> str:
        return f'"{self.database}"."{self.table}"'


@dataclass(frozen=True, slots=True)
class FullRequest:
    """Group by the whole `requestparameters` text: exactly what the local path sees."""


@dataclass(frozen=True, slots=True)
class RequestKeys:
    """Group by these top-level request parameters only: fewer groups when requests carry
    unique values (times, tokens), at the price of resources the other keys would give."""

    keys: tuple[str, ...]

    def __post_init__(self) -> None:
        for key in self.keys:
            if not _REQUEST_KEY.fullmatch(key):
                raise AwsSourceError(f"request parameter {key!r}: not a plain key name")


RequestDetail = FullRequest | RequestKeys


@dataclass(frozen=True, slots=True)
class AthenaQuery:
    """SQL text with `?` placeholders and their values, in order."""

    sql: str
    parameters: tuple[str, ...]

    def execution_parameters(self) -> list[str]:
        """The values as Athena takes them: each one a SQL string literal."""
        return [sql_string_literal(value) for value in self.parameters]


def sql_string_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def usage_query(
    table: CloudTrailTable,
    window: TimeWindow,
    *,
    principal: str | None = None,
    request: RequestDetail = FullRequest(),
) -> AthenaQuery:
    """The grouping query over `window` (eventtime is an ISO-8601 UTC string in the table, so
    comparing the text compares times), optionally for one principal."""
    columns = [f"{expr} AS {name}" for name, expr in _GROUP_COLUMNS]
    if table.person_columns:
        columns.extend(f"{expr} AS {name}" for name, expr in _PERSON_COLUMNS)
    parameters: list[str] = []
    if isinstance(request, FullRequest):
        columns.append("requestparameters AS request_json")
    else:
        for key in request.keys:
            columns.append(f"json_format(json_extract(requestparameters, ?)) AS request_{key}")
            parameters.append(f"$.{key}")
    # the response only where the model reads it, so other calls group as before
    reads = " OR ".join("(eventsource = ? AND eventname = ?)" for _ in READS_RESPONSE)
    columns.append(f"CASE WHEN {reads} THEN responseelements END AS response_json")
    parameters.extend(part for pair in sorted(READS_RESPONSE) for part in pair)
    conditions, values = _conditions(table, window, principal)
    parameters.extend(values)
    where = f"WHERE {' AND '.join(conditions)}\n" if conditions else ""
    group = ", ".join(str(i) for i in range(1, len(columns) + 1))
    sql = f"SELECT {', '.join(columns)}, {_TOTALS}\nFROM {table.sql_name}\n{where}GROUP BY {group}"
    return AthenaQuery(sql, tuple(parameters))


def _conditions(
    table: CloudTrailTable, window: TimeWindow, principal: str | None
) -> tuple[list[str], list[str]]:
    conditions: list[str] = []
    values: list[str] = []
    if window.since is not None or window.until is not None:
        conditions.append("eventtime LIKE '____-__-__%'")  # text that is no time has no place
    if window.since is not None:
        conditions.append(f"{_TIME} >= ?")
        values.append(_event_time(window.since))
    if window.until is not None:
        conditions.append(f"{_TIME} < ?")
        values.append(_event_time(window.until))
    if table.date_partition is not None:
        column = f'"{table.date_partition}"'
        if window.since is not None:
            conditions.append(f"{column} >= ?")
            values.append(f"{window.since:%Y/%m/%d}")
        if window.until is not None:
            conditions.append(f"{column} <= ?")
            values.append(f"{window.until + DELIVERY_SLACK:%Y/%m/%d}")
    if principal is not None:
        conditions.append(f"{_PRINCIPAL} = ?")
        values.append(principal)
    return conditions, values


def _event_time(moment: datetime) -> str:
    """A bound, without the `Z` (see `_TIME`); sub-second bounds round up to the second."""
    whole = moment.astimezone(UTC).replace(microsecond=0)
    if whole < moment:
        whole += timedelta(seconds=1)
    return whole.strftime("%Y-%m-%dT%H:%M:%S")


def make_athena_client(
    *, region: str | None = None, profile: str | None = None, endpoint_url: str | None = None
) -> AthenaClient:
    """An Athena client with adaptive retries."""
    client: AthenaClient = make_client(
        "athena", region=region, profile=profile, endpoint_url=endpoint_url
    )
    return client


class AthenaRunner:
    """Runs a query: start it, poll until it ends, page through its results."""

    def __init__(
        self,
        client: AthenaClient,
        *,
        workgroup: str = "primary",
        output_location: str | None = None,
        poll_seconds: float = 1.0,
        timeout: float = 1800.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._workgroup = workgroup
        self._output = output_location
        self._poll = poll_seconds
        self._timeout = timeout
        self._sleep = sleep
        self._clock = clock

    def rows(self, query: AthenaQuery, database: str) -> Iterator[dict[str, str | None]]:
        """The result rows as column name to text (None for SQL NULL)."""
        execution_id = self._start(query, database)
        self._wait(execution_id)
        yield from self._results(execution_id)

    def _start(self, query: AthenaQuery, database: str) -> str:
        request: dict[str, Any] = {
            "QueryString": query.sql,
            "QueryExecutionContext": {"Database": database},
            "WorkGroup": self._workgroup,
        }
        if query.parameters:
            request["ExecutionParameters"] = query.execution_parameters()
        if self._output is not None:
            request["ResultConfiguration"] = {"OutputLocation": self._output}
        response = self._call(
            "StartQueryExecution", database, self._client.start_query_execution, request
        )
        return str(response["QueryExecutionId"])

    def _wait(self, execution_id: str) -> None:
        deadline = self._clock() + self._timeout
        while True:
            response = self._call(
                "GetQueryExecution",
                execution_id,
                self._client.get_query_execution,
                {"QueryExecutionId": execution_id},
            )
            status = response["QueryExecution"]["Status"]
            state = status["State"]
            if state == "SUCCEEDED":
                return
            if state in ("FAILED", "CANCELLED"):
                reason = status.get("StateChangeReason", "no reason given")
                raise AwsSourceError(f"Athena query {execution_id}: {state}: {reason}")
            if self._clock() >= deadline:
                raise AwsSourceError(
                    f"Athena query {execution_id}: still {state} after {self._timeout:.0f} s"
                )
            self._sleep(self._poll)

    def _results(self, execution_id: str) -> Iterator[dict[str, str | None]]:
        paginator = self._client.get_paginator("get_query_results")
        names: list[str] | None = None
        try:
            for page in paginator.paginate(QueryExecutionId=execution_id):
                result_set = page["ResultSet"]
                rows = result_set.get("Rows", [])
                if names is None:
                    info = result_set.get("ResultSetMetadata", {}).get("ColumnInfo", [])
                    names = [column["Name"] for column in info]
                    rows = rows[1:]  # a SELECT's first row holds the column names
                for row in rows:
                    values = [datum.get("VarCharValue") for datum in row.get("Data", [])]
                    yield dict(zip(names, values, strict=True))
        except ClientError as error:
            raise AwsSourceError(f"Athena query {execution_id}: {_describe(error)}") from error

    @staticmethod
    def _call(what: str, subject: str, call: Callable[..., Any], request: Any) -> Any:
        try:
            return call(**request)
        except ClientError as error:
            raise AwsSourceError(f"Athena {what} ({subject}): {_describe(error)}") from error
        except BotoCoreError as error:
            raise AwsSourceError(f"Athena {what} ({subject}): {error}") from error


def _describe(error: ClientError) -> str:
    details = error.response.get("Error", {})
    return f"{details.get('Code', 'error')} {details.get('Message', '')}".strip()


def athena_usage(
    runner: AthenaRunner,
    table: CloudTrailTable,
    window: TimeWindow,
    mapper: EventMapper,
    *,
    principal: str | None = None,
    request: RequestDetail = FullRequest(),
) -> BatchUsage:
    """Run the grouping query on Athena and fold its groups into usage rows."""
    query = usage_query(table, window, principal=principal, request=request)
    log.info("Athena usage query over %s", table.sql_name)
    return hourly_usage(usage_groups(runner.rows(query, table.database)), mapper)
