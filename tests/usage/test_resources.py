"""Resource ARNs per service: from resources[], from requestParameters, or `*`."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from alpha.catalog import Catalog, load_catalog
from alpha.usage.events import CloudTrailEvent
from alpha.usage.resources import ResourceResolver, partition_of

ACCT = "111122223333"


@pytest.fixture(scope="module")
def resolver() -> ResourceResolver:
    return ResourceResolver(load_catalog())


def event(
    params: dict[str, Any] | None, region: str = "us-east-1", **extra: Any
) -> CloudTrailEvent:
    raw = {
        "awsRegion": region,
        "recipientAccountId": ACCT,
        "requestParameters": params,
        "userIdentity": {"type": "AssumedRole", "accountId": "999999999999"},
        **extra,
    }
    return msgspec.convert(raw, CloudTrailEvent)


CASES = [
    # S3
    ("s3:ListBucket", {"bucketName": "logs"}, ["arn:aws:s3:::logs"]),
    ("s3:GetObject", {"bucketName": "logs", "key": "a/b.txt"}, ["arn:aws:s3:::logs/a/b.txt"]),
    ("s3:PutObject", {"bucketName": "logs", "key": "k"}, ["arn:aws:s3:::logs/k"]),
    ("s3:ListAllMyBuckets", {"bucketName": "logs"}, ["*"]),  # takes no resource
    # DynamoDB
    (
        "dynamodb:GetItem",
        {"tableName": "Music"},
        [f"arn:aws:dynamodb:us-east-1:{ACCT}:table/Music"],
    ),
    (
        "dynamodb:Query",
        {"tableName": "Music", "indexName": "ByAlbum"},
        [f"arn:aws:dynamodb:us-east-1:{ACCT}:table/Music/index/ByAlbum"],
    ),
    (
        "dynamodb:BatchWriteItem",
        {"requestItems": {"A": [], "B": []}},
        [
            f"arn:aws:dynamodb:us-east-1:{ACCT}:table/A",
            f"arn:aws:dynamodb:us-east-1:{ACCT}:table/B",
        ],
    ),
    # Lambda: name, ARN, qualifier
    (
        "lambda:InvokeFunction",
        {"functionName": "f"},
        [f"arn:aws:lambda:us-east-1:{ACCT}:function:f"],
    ),
    (
        "lambda:InvokeFunction",
        {"functionName": "arn:aws:lambda:eu-west-1:222233334444:function:g"},
        ["arn:aws:lambda:eu-west-1:222233334444:function:g"],
    ),
    (
        "lambda:InvokeFunction",
        {"functionName": "f", "qualifier": "prod"},
        [f"arn:aws:lambda:us-east-1:{ACCT}:function:f:prod"],
    ),
    (
        "lambda:GetFunction",
        {"functionName": "f:7"},
        [f"arn:aws:lambda:us-east-1:{ACCT}:function:f:7"],
    ),
    # SQS: URL to ARN, account from the URL
    (
        "sqs:SendMessage",
        {"queueUrl": "https://sqs.us-east-1.amazonaws.com/444455556666/jobs"},
        ["arn:aws:sqs:us-east-1:444455556666:jobs"],
    ),
    ("sqs:CreateQueue", {"queueName": "jobs"}, [f"arn:aws:sqs:us-east-1:{ACCT}:jobs"]),
    # SNS
    (
        "sns:Publish",
        {"topicArn": f"arn:aws:sns:us-east-1:{ACCT}:alerts"},
        [f"arn:aws:sns:us-east-1:{ACCT}:alerts"],
    ),
    # KMS: key id, key ARN, alias
    (
        "kms:Decrypt",
        {"keyId": "1234abcd-12ab"},
        [f"arn:aws:kms:us-east-1:{ACCT}:key/1234abcd-12ab"],
    ),
    (
        "kms:Decrypt",
        {"keyId": f"arn:aws:kms:us-east-1:{ACCT}:key/k1"},
        [f"arn:aws:kms:us-east-1:{ACCT}:key/k1"],
    ),
    ("kms:DeleteAlias", {"aliasName": "alias/app"}, [f"arn:aws:kms:us-east-1:{ACCT}:alias/app"]),
    # Secrets Manager: a name gives the partial ARN
    (
        "secretsmanager:GetSecretValue",
        {"secretId": "prod/db"},
        [f"arn:aws:secretsmanager:us-east-1:{ACCT}:secret:prod/db-??????"],
    ),
    (
        "secretsmanager:GetSecretValue",
        {"secretId": f"arn:aws:secretsmanager:us-east-1:{ACCT}:secret:x-AbCdEf"},
        [f"arn:aws:secretsmanager:us-east-1:{ACCT}:secret:x-AbCdEf"],
    ),
    # SSM parameters, with and without the leading slash
    ("ssm:GetParameter", {"name": "/app/key"}, [f"arn:aws:ssm:us-east-1:{ACCT}:parameter/app/key"]),
    ("ssm:GetParameter", {"name": "flat"}, [f"arn:aws:ssm:us-east-1:{ACCT}:parameter/flat"]),
    (
        "ssm:GetParameters",
        {"names": ["/a", "b"]},
        [f"arn:aws:ssm:us-east-1:{ACCT}:parameter/a", f"arn:aws:ssm:us-east-1:{ACCT}:parameter/b"],
    ),
    # Logs
    (
        "logs:CreateLogGroup",
        {"logGroupName": "/aws/lambda/f"},
        [f"arn:aws:logs:us-east-1:{ACCT}:log-group:/aws/lambda/f"],
    ),
    # EventBridge
    ("events:PutRule", {"name": "nightly"}, [f"arn:aws:events:us-east-1:{ACCT}:rule/nightly"]),
    (
        "events:PutRule",
        {"name": "r", "eventBusName": "orders"},
        [f"arn:aws:events:us-east-1:{ACCT}:rule/orders/r"],
    ),
    (
        "events:DescribeEventBus",
        {"name": "x", "eventBusName": "orders"},
        [f"arn:aws:events:us-east-1:{ACCT}:event-bus/orders"],
    ),
    # Step Functions
    (
        "states:StartExecution",
        {"stateMachineArn": f"arn:aws:states:us-east-1:{ACCT}:stateMachine:flow"},
        [f"arn:aws:states:us-east-1:{ACCT}:stateMachine:flow"],
    ),
    # Kinesis and ECR
    (
        "kinesis:PutRecord",
        {"streamName": "clicks"},
        [f"arn:aws:kinesis:us-east-1:{ACCT}:stream/clicks"],
    ),
    (
        "ecr:BatchGetImage",
        {"repositoryName": "web", "registryId": "555566667777"},
        ["arn:aws:ecr:us-east-1:555566667777:repository/web"],
    ),
    # EC2 `...Set.items` shapes
    (
        "ec2:TerminateInstances",
        {"instancesSet": {"items": [{"instanceId": "i-1"}, {"instanceId": "i-2"}]}},
        [
            f"arn:aws:ec2:us-east-1:{ACCT}:instance/i-1",
            f"arn:aws:ec2:us-east-1:{ACCT}:instance/i-2",
        ],
    ),
    (
        "ec2:DeleteVolume",
        {"volumeId": "vol-1"},
        [f"arn:aws:ec2:us-east-1:{ACCT}:volume/vol-1"],
    ),
    (
        "ec2:AttachVolume",
        {"volumeId": "vol-1", "instanceId": "i-9"},
        [
            f"arn:aws:ec2:us-east-1:{ACCT}:instance/i-9",
            f"arn:aws:ec2:us-east-1:{ACCT}:volume/vol-1",
        ],
    ),
    # IAM and STS
    ("iam:GetRole", {"roleName": "app"}, [f"arn:aws:iam::{ACCT}:role/app"]),
    ("iam:CreateUser", {"userName": "bob"}, [f"arn:aws:iam::{ACCT}:user/bob"]),
    (
        "iam:CreatePolicy",
        {"policyName": "p", "path": "/team/", "policyDocument": "{}"},
        [f"arn:aws:iam::{ACCT}:policy/team/p"],
    ),
    (
        "iam:AttachRolePolicy",
        {"roleName": "app", "policyArn": "arn:aws:iam::aws:policy/ReadOnlyAccess"},
        [f"arn:aws:iam::{ACCT}:role/app"],
    ),
    (
        "sts:AssumeRole",
        {"roleArn": "arn:aws:iam::444455556666:role/deploy", "roleSessionName": "s"},
        ["arn:aws:iam::444455556666:role/deploy"],
    ),
    # Nothing known
    ("s3:GetObject", {}, ["*"]),
    ("s3:GetObject", None, ["*"]),
    ("dynamodb:GetItem", {"tableName": 42}, ["*"]),  # wrong type: ignored
]


@pytest.mark.parametrize(("action", "params", "expected"), CASES, ids=lambda v: str(v)[:60])
def test_resources_from_request_parameters(
    resolver: ResourceResolver, action: str, params: dict[str, Any] | None, expected: list[str]
) -> None:
    assert sorted(resolver.resources(action, event(params))) == sorted(expected)


def test_resources_array_comes_first_and_is_filtered_by_type(resolver: ResourceResolver) -> None:
    e = event(
        {"bucketName": "other", "key": "ignored"},
        resources=[
            {"type": "AWS::S3::Object", "ARN": "arn:aws:s3:::logs/a.txt"},
            {"type": "AWS::S3::Bucket", "ARN": "arn:aws:s3:::logs"},
        ],
    )
    assert resolver.resources("s3:GetObject", e) == ("arn:aws:s3:::logs/a.txt",)
    assert resolver.resources("s3:ListBucket", e) == ("arn:aws:s3:::logs",)


def test_resources_without_a_type_match_by_arn_format(resolver: ResourceResolver) -> None:
    e = event(None, resources=[{"ARN": f"arn:aws:kms:us-east-1:{ACCT}:key/k"}])
    assert resolver.resources("kms:Decrypt", e) == (f"arn:aws:kms:us-east-1:{ACCT}:key/k",)


def test_copy_source_and_destination(resolver: ResourceResolver) -> None:
    e = event(
        {"bucketName": "dst", "key": "new", "x-amz-copy-source": "src/old%20name.txt?versionId=1"}
    )
    assert resolver.resources("s3:GetObject", e, "source") == ("arn:aws:s3:::src/old name.txt",)
    assert resolver.resources("s3:PutObject", e) == ("arn:aws:s3:::dst/new",)


def test_reencrypt_source_and_destination_keys(resolver: ResourceResolver) -> None:
    e = event({"sourceKeyId": "a", "destinationKeyId": "alias/b"})
    assert resolver.resources("kms:ReEncryptFrom", e, "source") == (
        f"arn:aws:kms:us-east-1:{ACCT}:key/a",
    )
    # ReEncryptTo takes a key: an alias cannot name its resource, so it is unknown
    assert resolver.resources("kms:ReEncryptTo", e, "destination") == ("*",)


def test_dynamodb_table_roles(resolver: ResourceResolver) -> None:
    e = event(None)
    assert resolver.resources("dynamodb:PutItem", e, "table:Music") == (
        f"arn:aws:dynamodb:us-east-1:{ACCT}:table/Music",
    )


def test_iam_calls_without_user_name_act_on_the_caller(resolver: ResourceResolver) -> None:
    raw = {"userIdentity": {"type": "IAMUser", "arn": f"arn:aws:iam::{ACCT}:user/bert"}}
    e = msgspec.convert(raw, CloudTrailEvent)
    assert resolver.resources("iam:GetUser", e) == (f"arn:aws:iam::{ACCT}:user/bert",)


@pytest.mark.parametrize(
    ("region", "partition"),
    [
        ("us-east-1", "aws"),
        ("cn-north-1", "aws-cn"),
        ("us-gov-west-1", "aws-us-gov"),
        ("sagov-westsouth-1r", "aws"),  # never checked against a list
        (None, "aws"),
    ],
)
def test_partition_from_region(region: str | None, partition: str) -> None:
    assert partition_of(region) == partition


def test_partition_and_account_are_used_in_built_arns(resolver: ResourceResolver) -> None:
    e = event({"tableName": "T"}, region="cn-north-1")
    assert resolver.resources("dynamodb:GetItem", e) == (
        f"arn:aws-cn:dynamodb:cn-north-1:{ACCT}:table/T",
    )
    no_recipient = msgspec.convert(
        {
            "awsRegion": "r",
            "requestParameters": {"tableName": "T"},
            "userIdentity": {"accountId": "123"},
        },
        CloudTrailEvent,
    )
    assert resolver.resources("dynamodb:GetItem", no_recipient) == (
        "arn:aws:dynamodb:r:123:table/T",
    )


def test_unknown_action_is_unknown_resource(resolver: ResourceResolver) -> None:
    assert resolver.resources("s3:NoSuchThing", event({"bucketName": "b"})) == ("*",)


def test_catalog_is_the_one_passed_in() -> None:
    catalog: Catalog = load_catalog()
    assert ResourceResolver(catalog).catalog is catalog
