"""interpret(): one record to usage, denials apart, and every real sample record."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import msgspec
import pytest

from alpha.catalog import Catalog
from alpha.usage.denials import ErrorKind, classify_error, is_denied
from alpha.usage.events import CloudTrailEvent
from alpha.usage.interpret import (
    ActionUse,
    EventUsage,
    IgnoredEvent,
    SkippedEvent,
    UnmappedEvent,
    interpret,
    parse_event_time,
)
from alpha.usage.mapping import EventMapper
from tests.fakes.cloudtrail_logs import SAMPLES

ROLE = "arn:aws:iam::111122223333:role/app"


def record(**changes: Any) -> CloudTrailEvent:
    raw: dict[str, Any] = {
        "eventTime": "2024-05-01T10:00:00Z",
        "eventSource": "s3.amazonaws.com",
        "eventName": "GetObject",
        "awsRegion": "eu-west-1",
        "sourceIPAddress": "203.0.113.9",
        "recipientAccountId": "111122223333",
        "eventType": "AwsApiCall",
        "userIdentity": {
            "type": "AssumedRole",
            "arn": "arn:aws:sts::111122223333:assumed-role/app/i-0abc",
            "accountId": "111122223333",
            "sessionContext": {"sessionIssuer": {"type": "Role", "arn": ROLE}},
        },
        "requestParameters": {"bucketName": "data", "key": "a.csv"},
    }
    raw.update(changes)
    return msgspec.convert(raw, CloudTrailEvent)


def test_a_plain_call(mapper: EventMapper) -> None:
    result = interpret(record(), mapper)
    assert result == EventUsage(
        principal=ROLE,
        session=None,
        time=datetime(2024, 5, 1, 10, tzinfo=UTC),
        region="eu-west-1",
        source_ip="203.0.113.9",
        denied=False,
        error_code=None,
        via_service=None,
        uses=(ActionUse("s3:GetObject", "arn:aws:s3:::data/a.csv"),),
    )


@pytest.mark.parametrize(
    "code",
    [
        "AccessDenied",
        "AccessDeniedException",
        "UnauthorizedOperation",
        "Client.UnauthorizedOperation",
        "Client.UnauthorizedAccess",
        "UnauthorizedAccess",
        "AuthorizationError",
        "AuthorizationErrorException",
        "Forbidden",
        "403",
        "NotAuthorized",
    ],
)
def test_denied_calls_are_kept_apart(mapper: EventMapper, code: str) -> None:
    result = interpret(record(errorCode=code), mapper)
    assert isinstance(result, EventUsage)
    assert result.denied
    assert result.error_code == code


def test_a_generic_code_with_an_authorisation_message_is_a_denial() -> None:
    message = "User: arn:aws:iam::1:user/x is not authorized to perform: sqs:SendMessage"
    assert classify_error("InvalidRequest", message) is ErrorKind.DENIED


@pytest.mark.parametrize(
    "code", ["NoSuchKey", "ThrottlingException", "ValidationException", "Client.DryRunOperation"]
)
def test_other_errors_still_count_as_used(mapper: EventMapper, code: str) -> None:
    result = interpret(record(errorCode=code), mapper)
    assert isinstance(result, EventUsage)
    assert not result.denied
    assert not is_denied(code)


@pytest.mark.parametrize("code", ["ExpiredToken", "InvalidClientTokenId", "SignatureDoesNotMatch"])
def test_unauthenticated_calls_are_neither_used_nor_denied(mapper: EventMapper, code: str) -> None:
    assert interpret(record(errorCode=code), mapper) == IgnoredEvent(
        "unauthenticated", "s3.amazonaws.com", "GetObject"
    )


def test_empty_error_code_is_no_error(mapper: EventMapper) -> None:
    result = interpret(record(errorCode=""), mapper)
    assert isinstance(result, EventUsage)
    assert result.error_code is None


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"eventTime": None}, "missing eventTime"),
        ({"eventTime": "yesterday"}, "bad eventTime"),
        ({"eventSource": None}, "missing eventSource"),
        ({"eventName": ""}, "missing eventName"),
    ],
)
def test_records_missing_required_fields_are_skipped(
    mapper: EventMapper, changes: dict[str, Any], reason: str
) -> None:
    assert interpret(record(**changes), mapper) == SkippedEvent(reason)


def test_service_callers_are_not_principals(mapper: EventMapper) -> None:
    result = interpret(
        record(userIdentity={"type": "AWSService", "invokedBy": "s3.amazonaws.com"}), mapper
    )
    assert result == IgnoredEvent("no-principal", "s3.amazonaws.com", "GetObject")


def test_console_sign_in_is_not_an_action(mapper: EventMapper) -> None:
    result = interpret(record(eventSource="signin.amazonaws.com", eventName="ConsoleLogin"), mapper)
    assert result == IgnoredEvent("sign-in", "signin.amazonaws.com", "ConsoleLogin")


def test_kms_through_a_service_is_the_principals_need_flagged(mapper: EventMapper) -> None:
    identity = record().userIdentity
    assert identity is not None
    via = msgspec.structs.replace(identity, invokedBy="s3.amazonaws.com")
    result = interpret(
        record(
            eventSource="kms.amazonaws.com",
            eventName="Decrypt",
            userIdentity=msgspec.to_builtins(via),
            requestParameters={"keyId": "k-1"},
        ),
        mapper,
    )
    assert isinstance(result, EventUsage)
    assert result.via_service == "s3.amazonaws.com"
    assert result.uses == (ActionUse("kms:Decrypt", "arn:aws:kms:eu-west-1:111122223333:key/k-1"),)


def test_unknown_events_are_reported_unmapped_and_stay_the_principals_activity(
    mapper: EventMapper,
) -> None:
    result = interpret(record(eventSource="iam.amazonaws.com", eventName="NotCreateUser"), mapper)
    assert isinstance(result, UnmappedEvent)
    assert (result.event_source, result.event_name) == ("iam.amazonaws.com", "NotCreateUser")
    assert (result.principal, result.time) == (ROLE, datetime(2024, 5, 1, 10, tzinfo=UTC))
    assert result.usage.uses == (ActionUse("unmapped:iam.amazonaws.com/NotCreateUser", "*"),)


def test_copy_object_uses_both_objects(mapper: EventMapper) -> None:
    params = {"bucketName": "dst", "key": "b", "x-amz-copy-source": "src/a"}
    result = interpret(record(eventName="CopyObject", requestParameters=params), mapper)
    assert isinstance(result, EventUsage)
    assert result.uses == (
        ActionUse("s3:GetObject", "arn:aws:s3:::src/a"),
        ActionUse("s3:PutObject", "arn:aws:s3:::dst/b"),
    )


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2023-07-10T11:42:35Z", datetime(2023, 7, 10, 11, 42, 35, tzinfo=UTC)),
        ("2022-09-27 19:59:08", datetime(2022, 9, 27, 19, 59, 8, tzinfo=UTC)),
        ("2023-07-10T13:42:35+02:00", datetime(2023, 7, 10, 11, 42, 35, tzinfo=UTC)),
        ("not a time", None),
    ],
)
def test_parse_event_time(raw: str, expected: datetime | None) -> None:
    assert parse_event_time(raw) == expected


def _sample_records() -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = []
    for path in sorted(SAMPLES.glob("*/*.json")):
        data = json.loads(path.read_bytes())
        records.extend(data["Records"] if isinstance(data, dict) else data)
    return records


def test_every_sample_record_interprets_to_catalog_actions(
    mapper: EventMapper, catalog: Catalog
) -> None:
    records = _sample_records()
    assert len(records) == 3663  # the documented size of the sample set (ATTRIBUTION.md)
    outcomes: Counter[str] = Counter()
    unmapped: set[tuple[str, str]] = set()
    for raw in records:
        try:
            event = msgspec.convert(raw, CloudTrailEvent)
        except msgspec.ValidationError:
            outcomes["undecodable"] += 1  # the reader skips these; interpret never sees them
            continue
        result = interpret(event, mapper)
        outcomes[type(result).__name__] += 1
        if isinstance(result, UnmappedEvent):
            unmapped.add((result.event_source, result.event_name))
        if isinstance(result, EventUsage):
            for use in result.uses:
                action = catalog.action(use.action)
                assert action is not None
                assert action.key == use.action
                assert use.resource == "*" or use.resource.startswith("arn:")
    assert outcomes["undecodable"] <= 1
    assert outcomes["EventUsage"] > 3000
    # what stays unmapped is panther's deliberately odd events, not real AWS calls
    assert ("iam.amazonaws.com", "NotCreateUser") in unmapped
    real_calls = {
        ("s3.amazonaws.com", "ListBuckets"),
        ("lambda.amazonaws.com", "CreateFunction20150331"),
        ("monitoring.amazonaws.com", "DescribeAlarms"),
        ("s3.amazonaws.com", "PutBucketReplication"),
        ("s3.amazonaws.com", "CopyObject"),
    }
    assert not unmapped & real_calls
    assert len(unmapped) <= 20


PASSING_CALLS = [
    (
        "lambda.amazonaws.com",
        "CreateFunction20150331",
        {"functionName": "f", "role": "arn:aws:iam::111122223333:role/app"},
        ["arn:aws:iam::111122223333:role/app"],
    ),
    (
        "ecs.amazonaws.com",
        "RegisterTaskDefinition",
        {
            "family": "web",
            "taskRoleArn": "arn:aws:iam::111122223333:role/task",
            "executionRoleArn": "arn:aws:iam::111122223333:role/exec",
        },
        ["arn:aws:iam::111122223333:role/exec", "arn:aws:iam::111122223333:role/task"],
    ),
    (
        "glue.amazonaws.com",
        "CreateJob",
        {"name": "etl", "role": "GlueEtl"},
        ["arn:aws:iam::111122223333:role/GlueEtl"],
    ),
    ("lambda.amazonaws.com", "UpdateFunctionConfiguration20150331v2", {"functionName": "f"}, []),
]


@pytest.mark.parametrize(("source", "name", "params", "roles"), PASSING_CALLS, ids=str)
def test_calls_that_pass_a_role_record_iam_passrole(
    source: str, name: str, params: dict[str, object], roles: list[str], mapper: EventMapper
) -> None:
    """CloudTrail never logs iam:PassRole; a call that hands a role over needed it."""
    record = {
        "eventTime": "2026-10-01T10:00:00Z",
        "eventSource": source,
        "eventName": name,
        "awsRegion": "eu-west-1",
        "recipientAccountId": "111122223333",
        "userIdentity": {
            "type": "AssumedRole",
            "arn": "arn:aws:sts::111122223333:assumed-role/deployer/s",
            "accountId": "111122223333",
            "sessionContext": {
                "sessionIssuer": {"type": "Role", "arn": "arn:aws:iam::111122223333:role/deployer"}
            },
        },
        "requestParameters": params,
    }
    used = interpret(msgspec.convert(record, CloudTrailEvent), mapper)
    assert isinstance(used, EventUsage)
    passed = sorted(u.resource for u in used.uses if u.action == "iam:PassRole")
    assert passed == roles
    assert any(u.action != "iam:PassRole" for u in used.uses)
