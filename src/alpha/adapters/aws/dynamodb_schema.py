"""The DynamoDB store's tables (`dynamodb://PREFIX`): their names, keys, and creating the ones
missing (on-demand capacity, point-in-time recovery on) so the first command against a new
account just works. docs/aws/dynamodb.md describes each table and the IAM policy it needs.

| table            | partition key   | sort key      | holds                               |
| ---------------- | --------------- | ------------- | ----------------------------------- |
| PREFIX-approvals | proposal_id (S) | timestamp (S) | decisions (the seed's table)        |
| PREFIX-proposals | proposal_id (S) |               | proposals and their workflow state  |
| PREFIX-stages    | proposal_id (S) | stage (S)     | rollout stage records               |
| PREFIX-journal   | proposal_id (S) | seq (N)       | the rollout's step journal          |
| PREFIX-audit     | log (S)         | seq (N)       | the audit log and its hash chain    |
| PREFIX-copies    | name (S)        |               | working copies of accounts          |
| PREFIX-leases    | name (S)        |               | leases, and the store's write lock  |
| PREFIX-blobs     | blob (S)        | part (N)      | JSON values too large to keep inline|
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError, WaiterError

from alpha.store.errors import StoreError

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

__all__ = [
    "APPROVALS",
    "AUDIT",
    "BLOBS",
    "COPIES",
    "JOURNAL",
    "LEASES",
    "PROPOSALS",
    "STAGES",
    "TABLES",
    "TableSpec",
    "ensure_tables",
]

log = logging.getLogger(__name__)

_WAIT_DELAY = 2  # seconds between DescribeTable calls while a new table is being created
_WAIT_ATTEMPTS = 150  # five minutes: a new table is usually ACTIVE within seconds
_USABLE = ("ACTIVE", "UPDATING")
_PITR_ATTEMPTS = 30  # a minute at _WAIT_DELAY: backups become available soon after creation


@dataclass(frozen=True, slots=True)
class TableSpec:
    """One table: its name after the prefix, and its keys (name, DynamoDB type)."""

    suffix: str
    partition: tuple[str, str]
    sort: tuple[str, str] | None = None

    def name(self, prefix: str) -> str:
        return f"{prefix}-{self.suffix}"

    @property
    def key_names(self) -> tuple[str, ...]:
        return (self.partition[0],) if self.sort is None else (self.partition[0], self.sort[0])

    def key_schema(self) -> list[dict[str, str]]:
        schema = [{"AttributeName": self.partition[0], "KeyType": "HASH"}]
        if self.sort is not None:
            schema.append({"AttributeName": self.sort[0], "KeyType": "RANGE"})
        return schema

    def attribute_definitions(self) -> list[dict[str, str]]:
        keys = [self.partition] if self.sort is None else [self.partition, self.sort]
        return [{"AttributeName": name, "AttributeType": kind} for name, kind in keys]


APPROVALS = TableSpec("approvals", ("proposal_id", "S"), ("timestamp", "S"))
PROPOSALS = TableSpec("proposals", ("proposal_id", "S"))
STAGES = TableSpec("stages", ("proposal_id", "S"), ("stage", "S"))
JOURNAL = TableSpec("journal", ("proposal_id", "S"), ("seq", "N"))
AUDIT = TableSpec("audit", ("log", "S"), ("seq", "N"))
COPIES = TableSpec("copies", ("name", "S"))
LEASES = TableSpec("leases", ("name", "S"))
BLOBS = TableSpec("blobs", ("blob", "S"), ("part", "N"))
TABLES = (APPROVALS, PROPOSALS, STAGES, JOURNAL, AUDIT, COPIES, LEASES, BLOBS)


def ensure_tables(
    client: DynamoDBClient,
    prefix: str,
    specs: Iterable[TableSpec] = TABLES,
    *,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Every table there with the keys the store needs; the missing ones created (on demand,
    point-in-time recovery on) and waited for until ACTIVE. A table of that name with other
    keys is a `StoreError`: it belongs to something else and is never changed."""
    created = []
    for spec in specs:
        found = _describe(client, spec.name(prefix))
        if found is None:
            _create(client, spec, prefix)
            created.append(spec)
            continue
        _check_keys(spec, prefix, found)
        if found["TableStatus"] not in _USABLE:
            _wait(client, spec.name(prefix))
    for spec in created:
        _wait(client, spec.name(prefix))
        _recoverable(client, spec.name(prefix), sleep)


def _describe(client: DynamoDBClient, name: str) -> dict[str, Any] | None:
    try:
        table: dict[str, Any] = dict(client.describe_table(TableName=name)["Table"])
    except ClientError as error:
        if _code(error) == "ResourceNotFoundException":
            return None
        raise _error(name, "cannot be read", error) from error
    except BotoCoreError as error:
        raise _error(name, "cannot be reached", error) from error
    return table


def _create(client: DynamoDBClient, spec: TableSpec, prefix: str) -> None:
    name = spec.name(prefix)
    log.info("creating the DynamoDB table %s (on-demand capacity)", name)
    try:
        client.create_table(
            TableName=name,
            KeySchema=spec.key_schema(),  # type: ignore[arg-type]
            AttributeDefinitions=spec.attribute_definitions(),  # type: ignore[arg-type]
            BillingMode="PAY_PER_REQUEST",
            Tags=[{"Key": "alpha:store", "Value": prefix}],
        )
    except ClientError as error:
        if _code(error) != "ResourceInUseException":  # another alpha created it meanwhile
            raise _error(name, "cannot be created", error) from error
    except BotoCoreError as error:
        raise _error(name, "cannot be created", error) from error


def _wait(client: DynamoDBClient, name: str) -> None:
    try:
        client.get_waiter("table_exists").wait(
            TableName=name, WaiterConfig={"Delay": _WAIT_DELAY, "MaxAttempts": _WAIT_ATTEMPTS}
        )
    except (WaiterError, BotoCoreError, ClientError) as error:
        raise StoreError(f"DynamoDB table {name} did not become ACTIVE: {error}") from error


def _recoverable(client: DynamoDBClient, name: str, sleep: Callable[[float], None]) -> None:
    """Point-in-time recovery on. A table just made may refuse it for a while
    (ContinuousBackupsUnavailableException): asked again until it takes it. DynamoDB Local
    has no backups: said, and the table used."""
    for attempt in range(_PITR_ATTEMPTS):
        try:
            client.update_continuous_backups(
                TableName=name,
                PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True},
            )
            return
        except ClientError as error:
            code = _code(error)
            if code == "UnknownOperationException":
                log.warning(
                    "%s: this endpoint has no point-in-time recovery (DynamoDB Local?)", name
                )
                return
            if code != "ContinuousBackupsUnavailableException" or attempt == _PITR_ATTEMPTS - 1:
                what = "was created, but point-in-time recovery cannot be turned on"
                raise _error(name, what, error) from error
        sleep(_WAIT_DELAY)


def _check_keys(spec: TableSpec, prefix: str, table: dict[str, Any]) -> None:
    types = {d["AttributeName"]: d["AttributeType"] for d in table["AttributeDefinitions"]}
    found = [
        (k["AttributeName"], types.get(k["AttributeName"]), k["KeyType"])
        for k in table["KeySchema"]
    ]
    wanted = [(d["AttributeName"], d["AttributeType"], k["KeyType"]) for d, k in _pairs(spec)]
    if sorted(found, key=lambda key: key[2]) != sorted(wanted, key=lambda key: key[2]):
        shown = ", ".join(f"{name} ({kind}, {role})" for name, kind, role in wanted)
        raise StoreError(
            f"DynamoDB table {spec.name(prefix)} exists with other keys than an ALPHA store's "
            f"({shown}); it was left untouched: choose another prefix (dynamodb://PREFIX)"
        )


def _pairs(spec: TableSpec) -> list[tuple[dict[str, str], dict[str, str]]]:
    return list(zip(spec.attribute_definitions(), spec.key_schema(), strict=True))


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def _error(name: str, what: str, error: Exception) -> StoreError:
    detail = _code(error) if isinstance(error, ClientError) else type(error).__name__
    message = " ".join(str(error).split())[:200]
    return StoreError(f"DynamoDB table {name} {what} ({detail}: {message})")
