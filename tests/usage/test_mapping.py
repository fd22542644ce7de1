"""The event -> IAM action mapping: every table entry, the renames that matter, the rules."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from alpha.catalog import Catalog
from alpha.usage.errors import UsageError
from alpha.usage.events import CloudTrailEvent
from alpha.usage.mapping import (
    EventMapper,
    Mapped,
    MappedAction,
    NotAnAction,
    TableEntry,
    Unmapped,
    load_mapping_table,
    parse_mapping_table,
)

TABLE = load_mapping_table()


def event(
    source: str, name: str, params: dict[str, Any] | None = None, **extra: Any
) -> CloudTrailEvent:
    raw = {"eventSource": source, "eventName": name, "requestParameters": params, **extra}
    return msgspec.convert(raw, CloudTrailEvent)


def names(result: object) -> list[tuple[str, str]]:
    assert isinstance(result, Mapped), result
    return [(a.action, a.resource) for a in result.actions]


def test_table_is_versioned() -> None:
    assert TABLE.version
    assert TABLE.entries


@pytest.mark.parametrize("entry", TABLE.entries, ids=lambda e: f"{e.source}:{e.event}")
def test_every_table_entry_maps_to_catalog_actions(
    entry: TableEntry, mapper: EventMapper, catalog: Catalog
) -> None:
    result = mapper.map_name(entry.source, entry.event)
    if entry.not_an_action is not None:
        assert result == NotAnAction(entry.not_an_action)
        return
    if entry.by_request is not None:
        # decided by requestParameters: without them nothing is known
        assert result == Unmapped(entry.source, entry.event)
        return
    expected = []
    for spec in entry.actions:
        name, _, resource = spec.partition("@")
        action = catalog.action(name)
        assert action is not None, f"{name} is not in the catalog"
        assert action.key == name, "the table must use the catalog's casing"
        expected.append((name, resource))
    assert names(result) == expected
    if entry.with_version_id:
        versioned = mapper.map(event(entry.source, entry.event, {"versionId": "3HL4kqtJ"}))
        plain = [spec.partition("@")[0] for spec in entry.with_version_id]
        assert [a for a, _ in names(versioned)] == plain
        assert all(catalog.action(a) is not None for a in plain)


@pytest.mark.parametrize("source", sorted(TABLE.sources), ids=str)
def test_every_source_entry_names_a_catalog_service(source: str, catalog: Catalog) -> None:
    assert catalog.has_service(TABLE.sources[source])


# Hand-written expectations, independent of the table: they fail if the table is wrong.
RENAMES = [
    ("s3.amazonaws.com", "ListObjectsV2", ["s3:ListBucket"]),
    ("s3.amazonaws.com", "ListObjects", ["s3:ListBucket"]),
    ("s3.amazonaws.com", "HeadBucket", ["s3:ListBucket"]),
    ("s3.amazonaws.com", "HeadObject", ["s3:GetObject", "kms:Decrypt"]),
    ("s3.amazonaws.com", "ListBuckets", ["s3:ListAllMyBuckets"]),
    ("s3.amazonaws.com", "DeleteBucketEncryption", ["s3:PutEncryptionConfiguration"]),
    ("s3.amazonaws.com", "GetBucketEncryption", ["s3:GetEncryptionConfiguration"]),
    ("s3.amazonaws.com", "PutBucketReplication", ["s3:PutReplicationConfiguration"]),
    ("s3.amazonaws.com", "DeleteBucketReplication", ["s3:PutReplicationConfiguration"]),
    ("s3.amazonaws.com", "PutBucketLifecycle", ["s3:PutLifecycleConfiguration"]),
    ("s3.amazonaws.com", "DeleteBucketPublicAccessBlock", ["s3:PutBucketPublicAccessBlock"]),
    (
        "s3.amazonaws.com",
        "CreateMultipartUpload",
        ["s3:PutObject", "kms:GenerateDataKey", "kms:Decrypt"],
    ),
    ("s3.amazonaws.com", "GetBucketAcl", ["s3:GetBucketAcl"]),  # generic rule
    ("sqs.amazonaws.com", "SendMessageBatch", ["sqs:SendMessage"]),
    ("sqs.amazonaws.com", "DeleteMessageBatch", ["sqs:DeleteMessage"]),
    ("sqs.amazonaws.com", "ChangeMessageVisibilityBatch", ["sqs:ChangeMessageVisibility"]),
    ("sns.amazonaws.com", "PublishBatch", ["sns:Publish"]),
    ("lambda.amazonaws.com", "Invoke", ["lambda:InvokeFunction"]),
    (
        "lambda.amazonaws.com",
        "CreateFunction20150331",
        ["lambda:CreateFunction", "iam:PassRole", "lambda:GetLayerVersion"],
    ),
    ("lambda.amazonaws.com", "GetFunction20150331v2", ["lambda:GetFunction"]),
    (
        "lambda.amazonaws.com",
        "UpdateFunctionConfiguration20150331v2",
        ["lambda:UpdateFunctionConfiguration", "iam:PassRole", "lambda:GetLayerVersion"],
    ),
    ("lambda.amazonaws.com", "ListTags20170331", ["lambda:ListTags"]),
    ("monitoring.amazonaws.com", "DescribeAlarms", ["cloudwatch:DescribeAlarms"]),
    ("monitoring.amazonaws.com", "PutMetricData", ["cloudwatch:PutMetricData"]),
    ("email.amazonaws.com", "SendEmail", ["ses:SendEmail"]),
    ("pinpoint.amazonaws.com", "GetApps", ["mobiletargeting:GetApps"]),
    ("streams.dynamodb.amazonaws.com", "GetRecords", ["dynamodb:GetRecords"]),
    ("tagging.amazonaws.com", "GetResources", ["tag:GetResources"]),
    ("iam.amazonaws.com", "createuser", ["iam:CreateUser"]),  # canonical casing
    ("kms.amazonaws.com", "ReEncrypt", ["kms:ReEncryptFrom", "kms:ReEncryptTo"]),
    ("s3.amazonaws.com", "CopyObject", ["s3:GetObject", "s3:PutObject", "kms:GenerateDataKey"]),
    ("ecs.amazonaws.com", "RegisterTaskDefinition", ["ecs:RegisterTaskDefinition", "iam:PassRole"]),
    ("codebuild.amazonaws.com", "CreateProject", ["codebuild:CreateProject", "iam:PassRole"]),
]


@pytest.mark.parametrize(("source", "name", "expected"), RENAMES, ids=str)
def test_renames(mapper: EventMapper, source: str, name: str, expected: list[str]) -> None:
    assert [a for a, _ in names(mapper.map(event(source, name)))] == expected


def test_copy_object_reads_the_source_and_writes_the_destination(mapper: EventMapper) -> None:
    assert names(mapper.map(event("s3.amazonaws.com", "CopyObject"))) == [
        ("s3:GetObject", "source"),
        ("s3:PutObject", "destination"),
        ("kms:GenerateDataKey", "sse-kms"),  # when the request names the copy's key
    ]


def test_versioned_object_calls_need_the_version_permission(mapper: EventMapper) -> None:
    plain = mapper.map(event("s3.amazonaws.com", "GetObject", {"bucketName": "b", "key": "k"}))
    versioned = mapper.map(event("s3.amazonaws.com", "GetObject", {"versionId": "v1"}))
    assert names(plain) == [("s3:GetObject", ""), ("kms:Decrypt", "sse-kms")]
    assert names(versioned) == [("s3:GetObjectVersion", ""), ("kms:Decrypt", "sse-kms")]


@pytest.mark.parametrize(
    ("source", "name", "reason"),
    [
        ("signin.amazonaws.com", "ConsoleLogin", "sign-in"),
        ("signin.amazonaws.com", "CheckMfa", "sign-in"),
        ("signin.amazonaws.com", "GetSigninToken", "sign-in"),
        ("signin.amazonaws.com", "ExternalIdPDirectoryLogin", "sign-in"),
        ("sts.amazonaws.com", "GetCallerIdentity", "no-permission-needed"),
        ("sso.amazonaws.com", "GetRoleCredentials", "sign-in"),
    ],
)
def test_not_an_action(mapper: EventMapper, source: str, name: str, reason: str) -> None:
    assert mapper.map(event(source, name)) == NotAnAction(reason)


@pytest.mark.parametrize("event_type", ["AwsServiceEvent", "AwsConsoleSignIn", "AwsConsoleAction"])
def test_event_types_that_are_no_call(mapper: EventMapper, event_type: str) -> None:
    result = mapper.map(event("s3.amazonaws.com", "GetObject", eventType=event_type))
    assert isinstance(result, NotAnAction)


@pytest.mark.parametrize(
    ("source", "name"),
    [
        ("iam.amazonaws.com", "NotCreateUser"),  # panther's deliberately fake event
        ("ec2.amazonaws.com", "PutBucketLogging"),  # an S3 name under the wrong service
        ("lambda.amazonaws.com", "Frobnicate20150331"),  # suffix stripped only onto real actions
        ("lambda.amazonaws.com", "CreateFunction2015"),  # not a date suffix
        ("example.amazonaws.com", "DoThing"),  # unknown service
        ("s3.amazonaws.com", ""),
    ],
)
def test_unknown_events_stay_unmapped(mapper: EventMapper, source: str, name: str) -> None:
    assert mapper.map(event(source, name)) == Unmapped(source, name)


def test_transact_write_items_need_the_item_actions_per_table(mapper: EventMapper) -> None:
    params = {
        "requestItems": [
            {"operation": "Put", "tableName": "Music"},
            {"operation": "Update", "tableName": "Music"},
            {"operation": "Delete", "TableName": "Songs"},
            {"operation": "ConditionCheck", "TableName": "Music"},
        ]
    }
    result = mapper.map(event("dynamodb.amazonaws.com", "TransactWriteItems", params))
    assert names(result) == [
        ("dynamodb:PutItem", "table:Music"),
        ("dynamodb:UpdateItem", "table:Music"),
        ("dynamodb:DeleteItem", "table:Songs"),
        ("dynamodb:ConditionCheckItem", "table:Music"),
    ]


def test_transact_get_items(mapper: EventMapper) -> None:
    params = {"requestItems": [{"operation": "Get", "tableName": "Music"}]}
    result = mapper.map(event("dynamodb.amazonaws.com", "TransactGetItems", params))
    assert names(result) == [("dynamodb:GetItem", "table:Music")]


@pytest.mark.parametrize(
    ("name", "params", "expected"),
    [
        (
            "ExecuteStatement",
            {"statement": "SELECT * FROM Music WHERE Artist = 'x' AND a = ***(Redacted)"},
            [("dynamodb:PartiQLSelect", "table:Music")],
        ),
        (
            "ExecuteStatement",
            {"statement": 'select * from "Music"."ByAlbum" where Album = ?'},
            [("dynamodb:PartiQLSelect", "index:Music/ByAlbum")],
        ),
        (
            "BatchExecuteStatement",
            {
                "requestItems": [
                    {"statement": "UPDATE Music SET Album = ***(Redacted) WHERE Artist = 'x'"},
                    {"statement": "INSERT INTO Music VALUE {'Artist' : ***(Redacted)}"},
                ]
            },
            [("dynamodb:PartiQLUpdate", "table:Music"), ("dynamodb:PartiQLInsert", "table:Music")],
        ),
        (
            "ExecuteTransaction",
            {"transactStatements": [{"statement": "DELETE FROM Songs WHERE Id = 1"}]},
            [("dynamodb:PartiQLDelete", "table:Songs")],
        ),
    ],
)
def test_partiql_by_statement_type(
    mapper: EventMapper, name: str, params: dict[str, Any], expected: list[tuple[str, str]]
) -> None:
    assert names(mapper.map(event("dynamodb.amazonaws.com", name, params))) == expected


def test_partiql_without_a_statement_is_unmapped(mapper: EventMapper) -> None:
    result = mapper.map(event("dynamodb.amazonaws.com", "ExecuteStatement", {"statement": 7}))
    assert result == Unmapped("dynamodb.amazonaws.com", "ExecuteStatement")


def test_results_are_cached_per_source_and_name(mapper: EventMapper) -> None:
    first = mapper.map(event("s3.amazonaws.com", "ListObjectsV2"))
    assert mapper.map(event("s3.amazonaws.com", "ListObjectsV2")) is first


def _raw_table(**changes: Any) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "version": "t",
        "sources": {},
        "not_an_action_sources": {},
        "not_an_action_event_types": {},
        "events": [],
    }
    raw.update(changes)
    return raw


def test_a_table_naming_an_unknown_action_is_rejected(catalog: Catalog) -> None:
    table = parse_mapping_table(
        _raw_table(events=[{"source": "s3.amazonaws.com", "event": "X", "actions": ["s3:Nope"]}])
    )
    with pytest.raises(UsageError, match="s3:Nope is not in the IAM catalog"):
        EventMapper(catalog, table)


def test_a_malformed_table_is_rejected() -> None:
    with pytest.raises(UsageError, match="malformed mapping table"):
        parse_mapping_table({"version": "1"})


def test_mapped_action_defaults_to_the_main_resource() -> None:
    assert MappedAction("s3:GetObject").resource == ""
