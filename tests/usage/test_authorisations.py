"""What a call needs (issue 10): every authorisation AWS performs, from the request and the
response, and one reading of each stored pair for generation, replay and the sandbox."""

from __future__ import annotations

import json
from typing import Any

import msgspec
import pytest

from alpha.catalog import Catalog
from alpha.usage.authorisations import (
    Scope,
    checked_call,
    passed_to_services,
    resource_scope,
    service_prefix,
    typed_patterns,
    unmapped_action,
    unmapped_call,
)
from alpha.usage.events import CloudTrailEvent
from alpha.usage.interpret import EventUsage, UnmappedEvent, interpret
from alpha.usage.mapping import EventMapper
from tests.fakes.cloudtrail_logs import SAMPLES

ACCOUNT = "111122223333"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/app"
EC2 = f"arn:aws:ec2:eu-west-1:{ACCOUNT}"
GLUE = f"arn:aws:glue:eu-west-1:{ACCOUNT}"
TASK = f"arn:aws:ecs:eu-west-1:{ACCOUNT}:task-definition/web:3"
KEY = f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/1234abcd"
SSE_KEY = "x-amz-server-side-encryption-aws-kms-key-id"


def call(
    source: str, name: str, request: Any = None, response: Any = None, additional: Any = None
) -> CloudTrailEvent:
    return msgspec.convert(
        {
            "eventTime": "2024-05-01T10:00:00Z",
            "eventSource": source,
            "eventName": name,
            "awsRegion": "eu-west-1",
            "recipientAccountId": ACCOUNT,
            "eventType": "AwsApiCall",
            "userIdentity": {
                "type": "AssumedRole",
                "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/app/s",
                "accountId": ACCOUNT,
                "sessionContext": {"sessionIssuer": {"type": "Role", "arn": ROLE}},
            },
            "requestParameters": request,
            "responseElements": response,
            "additionalEventData": additional,
        },
        CloudTrailEvent,
    )


def uses_of(event: CloudTrailEvent, mapper: EventMapper) -> set[tuple[str, str]]:
    result = interpret(event, mapper)
    assert isinstance(result, EventUsage), result
    return {(u.action, u.resource) for u in result.uses}


RUN = {
    "instancesSet": {"items": [{"imageId": "ami-1", "keyName": "ops", "minCount": 1}]},
    "subnetId": "subnet-1",
    "groupSet": {"items": [{"groupId": "sg-1"}]},
}
RUN_DEFAULTS = {"instancesSet": {"items": [{"imageId": "ami-1"}]}}
RUN_RESPONSE = {
    "instancesSet": {
        "items": [
            {
                "instanceId": "i-9",
                "subnetId": "subnet-d",
                "groupSet": {"items": [{"groupId": "sg-d"}]},
            }
        ]
    }
}

CASES: list[tuple[str, CloudTrailEvent, set[tuple[str, str]]]] = [
    (
        "RunInstances: every resource it touches, new ones by type in the account",
        call("ec2.amazonaws.com", "RunInstances", RUN),
        {
            ("ec2:RunInstances", f"{EC2}:instance/*"),
            ("ec2:RunInstances", "arn:aws:ec2:eu-west-1::image/ami-1"),
            ("ec2:RunInstances", f"{EC2}:subnet/subnet-1"),
            ("ec2:RunInstances", f"{EC2}:security-group/sg-1"),
            ("ec2:RunInstances", f"{EC2}:network-interface/*"),
            ("ec2:RunInstances", f"{EC2}:volume/*"),
            ("ec2:RunInstances", f"{EC2}:key-pair/ops"),
        },
    ),
    (
        "RunInstances on defaults: the subnet and group the response names",
        call("ec2.amazonaws.com", "RunInstances", RUN_DEFAULTS, RUN_RESPONSE),
        {
            ("ec2:RunInstances", f"{EC2}:instance/*"),
            ("ec2:RunInstances", "arn:aws:ec2:eu-west-1::image/ami-1"),
            ("ec2:RunInstances", f"{EC2}:subnet/subnet-d"),
            ("ec2:RunInstances", f"{EC2}:security-group/sg-d"),
            ("ec2:RunInstances", f"{EC2}:network-interface/*"),
            ("ec2:RunInstances", f"{EC2}:volume/*"),
        },
    ),
    (
        "BatchGetSecretValue: GetSecretValue on each secret",
        call(
            "secretsmanager.amazonaws.com",
            "BatchGetSecretValue",
            {"secretIdList": ["db", f"arn:aws:secretsmanager:eu-west-1:{ACCOUNT}:secret:x-AbCdEf"]},
        ),
        {
            ("secretsmanager:BatchGetSecretValue", "*"),
            (
                "secretsmanager:GetSecretValue",
                f"arn:aws:secretsmanager:eu-west-1:{ACCOUNT}:secret:db-??????",
            ),
            (
                "secretsmanager:GetSecretValue",
                f"arn:aws:secretsmanager:eu-west-1:{ACCOUNT}:secret:x-AbCdEf",
            ),
        },
    ),
    (
        "BatchGetSecretValue by filters: the secrets are unknown",
        call(
            "secretsmanager.amazonaws.com",
            "BatchGetSecretValue",
            {"filters": [{"key": "tag-key", "values": ["x"]}]},
        ),
        {("secretsmanager:BatchGetSecretValue", "*"), ("secretsmanager:GetSecretValue", "*")},
    ),
    (
        "StartSession: the target instance",
        call("ssm.amazonaws.com", "StartSession", {"target": "i-0abc"}),
        {("ssm:StartSession", f"{EC2}:instance/i-0abc")},
    ),
    (
        "Converse: InvokeModel on the foundation model",
        call("bedrock.amazonaws.com", "Converse", {"modelId": "anthropic.claude-3-haiku"}),
        {
            (
                "bedrock:InvokeModel",
                "arn:aws:bedrock:eu-west-1::foundation-model/anthropic.claude-3-haiku",
            )
        },
    ),
    (
        "ConverseStream on an inference profile: the profile and its model in every region",
        call("bedrock.amazonaws.com", "ConverseStream", {"modelId": "eu.anthropic.claude-3-haiku"}),
        {
            (
                "bedrock:InvokeModelWithResponseStream",
                f"arn:aws:bedrock:eu-west-1:{ACCOUNT}:inference-profile/eu.anthropic.claude-3-haiku",
            ),
            (
                "bedrock:InvokeModelWithResponseStream",
                "arn:aws:bedrock:*::foundation-model/anthropic.claude-3-haiku",
            ),
        },
    ),
    (
        "API Gateway management: the HTTP method on the resource path",
        call("apigateway.amazonaws.com", "CreateDeployment", {"restApiId": "a1", "stageName": "p"}),
        {("apigateway:POST", "arn:aws:apigateway:eu-west-1::/restapis/a1/deployments")},
    ),
    (
        "API Gateway v2 names the v1 API shares: the path whose members the request names",
        call("apigateway.amazonaws.com", "GetStages", {"apiId": "h1"}),
        {("apigateway:GET", "arn:aws:apigateway:eu-west-1::/apis/h1/stages")},
    ),
    (
        "RDS Data API (event source rdsdata): the cluster and the secret",
        call(
            "rdsdata.amazonaws.com",
            "ExecuteStatement",
            {
                "resourceArn": f"arn:aws:rds:eu-west-1:{ACCOUNT}:cluster:db",
                "secretArn": f"arn:aws:secretsmanager:eu-west-1:{ACCOUNT}:secret:db-AbCdEf",
            },
        ),
        {
            ("rds-data:ExecuteStatement", f"arn:aws:rds:eu-west-1:{ACCOUNT}:cluster:db"),
            (
                "secretsmanager:GetSecretValue",
                f"arn:aws:secretsmanager:eu-west-1:{ACCOUNT}:secret:db-AbCdEf",
            ),
        },
    ),
    (
        "Price List API (event source api.pricing)",
        call("api.pricing.amazonaws.com", "GetProducts", {"serviceCode": "AmazonEC2"}),
        {("pricing:GetProducts", "*")},
    ),
    (
        "CopyObject: read the source, write the destination, never write the source",
        call(
            "s3.amazonaws.com",
            "CopyObject",
            {"bucketName": "dst", "key": "k", "x-amz-copy-source": "src/a%20b"},
        ),
        {("s3:GetObject", "arn:aws:s3:::src/a b"), ("s3:PutObject", "arn:aws:s3:::dst/k")},
    ),
    (
        "StartQueryExecution: the workgroup named",
        call("athena.amazonaws.com", "StartQueryExecution", {"workGroup": "etl"}),
        {("athena:StartQueryExecution", f"arn:aws:athena:eu-west-1:{ACCOUNT}:workgroup/etl")},
    ),
    (
        "StartQueryExecution without a workgroup runs in primary",
        call("athena.amazonaws.com", "StartQueryExecution", {"queryString": "SELECT 1"}),
        {("athena:StartQueryExecution", f"arn:aws:athena:eu-west-1:{ACCOUNT}:workgroup/primary")},
    ),
    (
        "SSE-KMS upload: kms:GenerateDataKey on the key the request names",
        call("s3.amazonaws.com", "PutObject", {"bucketName": "b", "key": "k", SSE_KEY: KEY}),
        {("s3:PutObject", "arn:aws:s3:::b/k"), ("kms:GenerateDataKey", KEY)},
    ),
    (
        "SSE-KMS multipart upload: kms:GenerateDataKey and kms:Decrypt, a key id as its ARN",
        call(
            "s3.amazonaws.com",
            "CreateMultipartUpload",
            {"bucketName": "b", "key": "k", SSE_KEY: "1234"},
        ),
        {
            ("s3:PutObject", "arn:aws:s3:::b/k"),
            ("kms:GenerateDataKey", f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/1234"),
            ("kms:Decrypt", f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/1234"),
        },
    ),
    (
        "SSE-KMS download: kms:Decrypt on the key the response names",
        call("s3.amazonaws.com", "GetObject", {"bucketName": "b", "key": "k"}, {SSE_KEY: KEY}),
        {("s3:GetObject", "arn:aws:s3:::b/k"), ("kms:Decrypt", KEY)},
    ),
    (
        "SSE-KMS download of a version: kms:Decrypt on additionalEventData's SSEKMSKeyARN",
        call(
            "s3.amazonaws.com",
            "GetObject",
            {"bucketName": "b", "key": "k", "versionId": "v1"},
            additional={"SSEApplied": "SSE_KMS", "SSEKMSKeyARN": KEY},
        ),
        {("s3:GetObjectVersion", "arn:aws:s3:::b/k"), ("kms:Decrypt", KEY)},
    ),
    (
        "An alias names no key: the key is unknown",
        call("s3.amazonaws.com", "PutObject", {"bucketName": "b", "key": "k", SSE_KEY: "alias/x"}),
        {("s3:PutObject", "arn:aws:s3:::b/k"), ("kms:GenerateDataKey", "*")},
    ),
    (
        "No SSE-KMS key named: no KMS authorisation",
        call("s3.amazonaws.com", "PutObject", {"bucketName": "b", "key": "k"}),
        {("s3:PutObject", "arn:aws:s3:::b/k")},
    ),
    (
        "StartQueryExecution: the Glue catalog, database and tables, and the results location",
        call(
            "athena.amazonaws.com",
            "StartQueryExecution",
            {
                "queryExecutionContext": {"database": "sales"},
                "resultConfiguration": {"outputLocation": "s3://results/q/"},
            },
        ),
        {
            ("athena:StartQueryExecution", f"arn:aws:athena:eu-west-1:{ACCOUNT}:workgroup/primary"),
            *(
                (action, f"{GLUE}:{resource}")
                for action, resources in (
                    ("glue:GetDatabase", ("catalog", "database/sales")),
                    ("glue:GetTable", ("catalog", "database/sales", "table/sales/*")),
                    ("glue:GetPartitions", ("catalog", "database/sales", "table/sales/*")),
                )
                for resource in resources
            ),
            ("s3:GetBucketLocation", "arn:aws:s3:::results"),
            ("s3:PutObject", "arn:aws:s3:::results/q/*"),
        },
    ),
    (
        "StartQueryExecution on a federated catalog: no Glue database",
        call(
            "athena.amazonaws.com",
            "StartQueryExecution",
            {"workGroup": "w", "queryExecutionContext": {"database": "d", "catalog": "ddb"}},
        ),
        {("athena:StartQueryExecution", f"arn:aws:athena:eu-west-1:{ACCOUNT}:workgroup/w")},
    ),
    (
        "RunTask: the task role override is passed (to ecs-tasks.amazonaws.com)",
        call(
            "ecs.amazonaws.com",
            "RunTask",
            {
                "taskDefinition": TASK,
                "overrides": {"taskRoleArn": f"arn:aws:iam::{ACCOUNT}:role/t"},
            },
        ),
        {("ecs:RunTask", TASK), ("iam:PassRole", f"arn:aws:iam::{ACCOUNT}:role/t")},
    ),
    (
        "PutMetricData: its resource types are all optional, the request's resource is *",
        call("monitoring.amazonaws.com", "PutMetricData", {"namespace": "App"}),
        {("cloudwatch:PutMetricData", "*")},
    ),
]


@pytest.mark.parametrize(("why", "event", "expected"), CASES, ids=[c[0] for c in CASES])
def test_each_authorisation_aws_performs(
    why: str, event: CloudTrailEvent, expected: set[tuple[str, str]], mapper: EventMapper
) -> None:
    assert uses_of(event, mapper) == expected, why


@pytest.mark.parametrize(
    ("actions", "services"),
    [
        (["ecs:RunTask", "s3:GetObject"], ("ecs-tasks.amazonaws.com",)),
        (
            ["lambda:CreateFunction", "ec2:RunInstances", "lambda:UpdateFunctionConfiguration"],
            ("ec2.amazonaws.com", "lambda.amazonaws.com"),
        ),
        (["iam:AddRoleToInstanceProfile"], ()),
    ],
)
def test_the_service_a_role_is_passed_to(actions: list[str], services: tuple[str, ...]) -> None:
    assert passed_to_services(actions) == services


def test_every_role_passing_call_names_its_service(mapper: EventMapper) -> None:
    """Each mapped call that passes a role (but AddRoleToInstanceProfile, which hands it to no
    service) has the iam:PassedToService its PassRole is authorised with."""
    for entry in mapper.table.entries:
        if "iam:PassRole@passed" in entry.actions and entry.event != "AddRoleToInstanceProfile":
            assert passed_to_services(entry.actions[:1]), entry


def test_ssmmessages_channels_are_mapped(mapper: EventMapper) -> None:
    for name in (
        "CreateControlChannel",
        "CreateDataChannel",
        "OpenControlChannel",
        "OpenDataChannel",
    ):
        event = call("ssmmessages.amazonaws.com", name, {"sessionId": "s-1"})
        assert uses_of(event, mapper) == {(f"ssmmessages:{name}", "*")}


def test_an_unmapped_call_is_the_principals_activity_under_a_stand_in(mapper: EventMapper) -> None:
    result = interpret(call("nothing.amazonaws.com", "DoIt", {}), mapper)
    assert isinstance(result, UnmappedEvent)
    (use,) = result.usage.uses
    assert use.action == unmapped_action("nothing.amazonaws.com", "DoIt")
    assert unmapped_call(use.action) == ("nothing.amazonaws.com", "DoIt")
    assert unmapped_call("s3:GetObject") is None


@pytest.mark.parametrize(
    ("action", "resource", "scope"),
    [
        ("s3:GetObject", "arn:aws:s3:::b/k", Scope.KNOWN),
        ("cloudwatch:PutMetricData", "*", Scope.ANY),  # dataset optional
        ("ce:GetCostAndUsage", "*", Scope.ANY),
        ("sts:GetCallerIdentity", "*", Scope.ANY),  # no resource type at all
        ("athena:StartQueryExecution", "*", Scope.UNKNOWN),  # workgroup required
        ("unmapped:x.amazonaws.com/Y", "*", Scope.UNMAPPED),
    ],
)
def test_one_reading_of_a_stored_pair(
    action: str, resource: str, scope: Scope, catalog: Catalog
) -> None:
    assert resource_scope(catalog, action, resource) is scope
    checked = checked_call(catalog, action, resource)
    assert checked.scope is scope
    if scope in {Scope.KNOWN, Scope.ANY}:
        assert checked.resources == (resource,)
        assert checked.shortfall is None
    else:
        assert checked.resources == ()
        assert checked.shortfall


def test_unknown_resources_are_granted_on_their_types_in_the_account(catalog: Catalog) -> None:
    assert typed_patterns(catalog, "athena:StartQueryExecution", ACCOUNT, 3) == (
        f"arn:aws:athena:*:{ACCOUNT}:workgroup/*",
    )
    assert typed_patterns(catalog, "athena:StartQueryExecution", None, 3) == ()


@pytest.mark.parametrize(
    ("source", "prefix"),
    [
        ("rdsdata.amazonaws.com", "rds-data"),
        ("api.pricing.amazonaws.com", "pricing"),
        ("monitoring.amazonaws.com", "cloudwatch"),
        ("s3.amazonaws.com", "s3"),
        ("nothing.amazonaws.com", None),
    ],
)
def test_service_prefix_of_an_event_source(
    source: str, prefix: str | None, catalog: Catalog
) -> None:
    assert service_prefix(catalog, source) == prefix


# What stays unmapped in the real samples: none is an operation a service's API reference
# names (Panther's test events are deliberately odd: operations under another service's
# source, made-up names; ec2messages has no API reference and no SendHeartbeat action).
NOT_AN_API = {
    ("cloudtrail.amazonaws.com", "DeleteRule"),
    ("cloudtrail.amazonaws.com", "DescribeTrail"),  # the API is DescribeTrails
    ("cloudtrail.amazonaws.com", "EnableRegion"),  # account:EnableRegion, not CloudTrail's
    ("ec2.amazonaws.com", "DeleteBucketEncryption"),
    ("ec2.amazonaws.com", "DeleteBucketPublicAccessBlock"),
    ("ec2.amazonaws.com", "DeleteBucketReplication"),
    ("ec2.amazonaws.com", "PutBucketLogging"),
    ("ec2.amazonaws.com", "PutBucketVersioning"),
    ("ec2.amazonaws.com", "RegisterManagedInstance"),
    ("ec2messages.amazonaws.com", "SendHeartbeat"),
    ("iam.amazonaws.com", "DescribePolicy"),
    ("iam.amazonaws.com", "DetachUserGroup"),
    ("iam.amazonaws.com", "NotCreateUser"),
    ("iam.amazonaws.com", "PutPolicy"),
    ("s3.amazonaws.com", "CreateServiceLinkedRole"),
    ("s3.amazonaws.com", "SetQueueAttributes"),
}


def test_the_real_samples_leave_no_api_call_unmapped(mapper: EventMapper) -> None:
    unmapped: set[tuple[str, str]] = set()
    for path in sorted(SAMPLES.rglob("*.json")):
        document = json.loads(path.read_text())
        records = document["Records"] if isinstance(document, dict) else document
        for raw in records:
            try:
                event = msgspec.convert(raw, CloudTrailEvent)
            except msgspec.ValidationError:
                continue
            found = interpret(event, mapper)
            if isinstance(found, UnmappedEvent):
                unmapped.add((found.event_source, found.event_name))
    assert unmapped == NOT_AN_API
