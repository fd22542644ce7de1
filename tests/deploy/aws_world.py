"""The account the deployed application runs in, made in moto over HTTP: the template's own
tables, three roles in scope (under the template's ScopePath) with wide policies, and the trail
bucket holding a day of their calls before the rollout and a day after it."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.deploy.template_model import Resolved
from tests.fakes.cloudtrail_logs import ACCOUNT, record
from tests.moto_iam import TRUST

T0 = datetime(2024, 3, 10, 12, 0, tzinfo=UTC)
SCOPE = "/workloads/"
ROLES = ("app", "batch", "report")
TRAIL_BUCKET = "my-cloudtrail-bucket"  # the template's defaults
TRAIL_PREFIX = "AWSLogs/"
WIDE = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": ["s3:*", "sqs:*"], "Resource": "*"}],
}
SHARED = f"arn:aws:iam::{ACCOUNT}:policy/shared-read"


def role_arn(name: str) -> str:
    return f"arn:aws:iam::{ACCOUNT}:role{SCOPE}{name}"


def make_tables(dynamodb: Any, template: Resolved) -> list[str]:
    """The template's tables, as CloudFormation would make them."""
    made = []
    for props in template.of_type("AWS::DynamoDB::Table").values():
        name = template.resolve(props["TableName"])
        dynamodb.create_table(
            TableName=name,
            KeySchema=props["KeySchema"],
            AttributeDefinitions=props["AttributeDefinitions"],
            BillingMode=props["BillingMode"],
        )
        made.append(name)
    return made


def make_roles(iam: Any) -> None:
    iam.create_policy(PolicyName="shared-read", PolicyDocument=json.dumps(WIDE))
    for name in ROLES:
        iam.create_role(RoleName=name, Path=SCOPE, AssumeRolePolicyDocument=json.dumps(TRUST))
        iam.put_role_policy(RoleName=name, PolicyName="old-inline", PolicyDocument=json.dumps(WIDE))
        iam.attach_role_policy(RoleName=name, PolicyArn=SHARED)


def _call(role: str, at: datetime, name: str = "GetObject", **extra: Any) -> dict[str, Any]:
    event = record(name, role=role, time=at.strftime("%Y-%m-%dT%H:%M:%SZ"), **extra)
    issuer = event["userIdentity"]["sessionContext"]["sessionIssuer"]
    issuer["arn"] = role_arn(role)  # CloudTrail names the role with its path
    return event


def calls(role: str, start: datetime, hours: int) -> list[dict[str, Any]]:
    return [_call(role, start + timedelta(minutes=20 * i)) for i in range(hours * 3)]


def deliver(s3: Any, day: datetime, role: str, records: list[dict[str, Any]]) -> str:
    key = (
        f"{TRAIL_PREFIX}{ACCOUNT}/CloudTrail/eu-west-1/{day:%Y/%m/%d}/"
        f"{ACCOUNT}_CloudTrail_eu-west-1_{day:%Y%m%dT%H%MZ}_{role}.json"
    )
    s3.put_object(Bucket=TRAIL_BUCKET, Key=key, Body=json.dumps({"Records": records}).encode())
    return key


def make_trail(s3: Any, denied_role: str) -> None:
    """The day before `T0` (what the proposals are made from) and the day after (what the
    rollouts bake on): `denied_role` then also calls what its proposal removes, and is
    denied."""
    s3.create_bucket(Bucket=TRAIL_BUCKET)
    for role in ROLES:
        deliver(s3, T0 - timedelta(days=1), role, calls(role, T0 - timedelta(days=1), 12))
        after = calls(role, T0, 24)
        if role == denied_role:
            sent = T0 + timedelta(minutes=30)
            denied = _call(
                role, sent, "SendMessage", source="sqs.amazonaws.com", error="AccessDenied"
            )
            after.append(denied)
        deliver(s3, T0, role, after)
