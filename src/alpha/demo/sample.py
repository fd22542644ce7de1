"""The demo's sample: an account of a few over-privileged roles and their CloudTrail.

Written deterministically into a folder when the demo runs (nothing large is bundled): the
account snapshot in the `get-account-authorization-details` format, 30 days of observed
CloudTrail in the S3 delivery layout, and a later batch for the bake periods, in which the
report builder runs its monthly clean-up (`s3:DeleteObject`) that the observation window never
saw, so its canary meets AccessDenied and is rolled back.

The timeline is fixed (observation window, then the rollout at `ROLLOUT_AT`), so every run
tells the same story; the demo's clock is set to that timeline.
"""

from __future__ import annotations

import gzip
import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ACCOUNT = "111122223333"
REGION = "eu-west-1"
WINDOW_START = datetime(2026, 10, 1, tzinfo=UTC)
WINDOW_DAYS = 30
ROLLOUT_AT = WINDOW_START + timedelta(days=WINDOW_DAYS)
BAKE = timedelta(hours=6)
"""Each stage bakes this long; the bake logs cover sandbox, canary and production in turn."""


@dataclass(frozen=True, slots=True)
class Call:
    """One kind of call a role makes: CloudTrail's source and name, request, resources."""

    source: str
    name: str
    params: dict[str, Any]
    per_day: float
    hours: tuple[int, int] = (0, 24)
    """The hours of the day (from, to) in which the call happens."""
    error: str | None = None


@dataclass(frozen=True, slots=True)
class DemoRole:
    name: str
    service: str
    policy: dict[str, Any]
    calls: tuple[Call, ...]
    bake_calls: tuple[Call, ...] = ()
    managed: tuple[str, ...] = ()


def _arn(kind: str, name: str) -> str:
    return f"arn:aws:iam::{ACCOUNT}:{kind}/{name}"


def _allow(actions: list[str], resources: str | list[str] = "*") -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": actions, "Resource": resources}],
    }


def demo_roles() -> tuple[DemoRole, ...]:
    """The cast: two roles to harden, one with a hidden monthly job, one admin, one unused."""
    orders = Call("dynamodb.amazonaws.com", "GetItem", {"tableName": "orders"}, 400)
    put_order = Call("dynamodb.amazonaws.com", "PutItem", {"tableName": "orders"}, 120)
    query = Call("dynamodb.amazonaws.com", "Query", {"tableName": "orders"}, 60)
    config = Call(
        "s3.amazonaws.com", "GetObject", {"bucketName": "shop-config", "key": "orders/app.json"}, 24
    )
    get_report = Call(
        "s3.amazonaws.com", "GetObject", {"bucketName": "shop-reports", "key": "raw/day.csv"}, 48
    )
    put_report = Call(
        "s3.amazonaws.com", "PutObject", {"bucketName": "shop-reports", "key": "out/day.pdf"}, 24
    )
    list_reports = Call(
        "s3.amazonaws.com", "ListObjects", {"bucketName": "shop-reports", "prefix": "raw/"}, 24
    )
    # The monthly clean-up the observation window never saw. It runs while the canary is
    # enforced (after the sandbox's bake), so the canary's boundary refuses it.
    cleanup = Call(
        "s3.amazonaws.com",
        "DeleteObject",
        {"bucketName": "shop-reports", "key": "raw/old.csv"},
        12,
        hours=(7, 11),
        error="AccessDenied",
    )
    deploy = Call("cloudformation.amazonaws.com", "UpdateStack", {"stackName": "shop"}, 3)
    describe = Call("cloudformation.amazonaws.com", "DescribeStacks", {"stackName": "shop"}, 12)
    # The deployer wires the shop's roles up itself: a grant that lets it give any role (its
    # own included) any managed policy, which the guardrails refuse to approve.
    attach = Call(
        "iam.amazonaws.com",
        "AttachRolePolicy",
        {"roleName": "orders-api", "policyArn": "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"},
        1,
        hours=(9, 17),
    )
    return (
        DemoRole(
            "orders-api",
            "lambda",
            _allow(["dynamodb:*", "s3:*", "logs:*"]),
            (orders, put_order, query, config),
            bake_calls=(orders, put_order, config),
        ),
        DemoRole(
            "report-builder",
            "ecs-tasks",
            _allow(["s3:*", "athena:*", "glue:*"]),
            (get_report, put_report, list_reports),
            bake_calls=(get_report, put_report, cleanup),
        ),
        DemoRole(
            "ci-deployer",
            "codebuild",
            _allow(["cloudformation:*", "iam:PassRole", "iam:GetRole"]),
            (deploy, describe, attach),
            managed=("arn:aws:iam::aws:policy/AdministratorAccess",),
        ),
        DemoRole("legacy-batch", "ec2", _allow(["s3:*", "sqs:*"]), ()),
    )


def write_sample(folder: Path) -> SamplePaths:
    """Write the account, the observed logs and the bake logs under `folder`."""
    roles = demo_roles()
    paths = SamplePaths(folder)
    paths.account.parent.mkdir(parents=True, exist_ok=True)
    paths.account.write_text(json.dumps(account_snapshot(roles), indent=2), encoding="utf-8")
    rng = random.Random(20261001)
    for day in range(WINDOW_DAYS):
        start = WINDOW_START + timedelta(days=day)
        _write_day(paths.observed, start, list(_day_events(roles, start, rng, bake=False)))
    _write_day(paths.bake, ROLLOUT_AT, list(_day_events(roles, ROLLOUT_AT, rng, bake=True)))
    return paths


@dataclass(frozen=True, slots=True)
class SamplePaths:
    root: Path

    @property
    def account(self) -> Path:
        return self.root / f"account-{ACCOUNT}.json"

    @property
    def observed(self) -> Path:
        return self.root / "cloudtrail"

    @property
    def bake(self) -> Path:
        return self.root / "cloudtrail-bake"


def account_snapshot(roles: tuple[DemoRole, ...]) -> dict[str, Any]:
    admin = "arn:aws:iam::aws:policy/AdministratorAccess"
    return {
        "UserDetailList": [],
        "GroupDetailList": [],
        "RoleDetailList": [_role_detail(role) for role in roles],
        "Policies": [
            {
                "PolicyName": "AdministratorAccess",
                "PolicyId": "ANPAIWMBCKSKIEE64ZLYK",
                "Arn": admin,
                "Path": "/",
                "DefaultVersionId": "v1",
                "AttachmentCount": 1,
                "PermissionsBoundaryUsageCount": 0,
                "IsAttachable": True,
                "PolicyVersionList": [
                    {
                        "Document": _allow(["*"]),
                        "VersionId": "v1",
                        "IsDefaultVersion": True,
                        "CreateDate": "2015-02-06T18:39:46Z",
                    }
                ],
            }
        ],
    }


def _role_detail(role: DemoRole) -> dict[str, Any]:
    return {
        "Path": "/",
        "RoleName": role.name,
        "RoleId": "AROA" + role.name.upper().replace("-", "")[:16].ljust(17, "X"),
        "Arn": _arn("role", role.name),
        "CreateDate": "2024-01-15T09:00:00Z",
        "AssumeRolePolicyDocument": {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": f"{role.service}.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                }
            ],
        },
        "InstanceProfileList": [],
        "RolePolicyList": [{"PolicyName": f"{role.name}-access", "PolicyDocument": role.policy}],
        "AttachedManagedPolicies": [
            {"PolicyName": arn.rsplit("/", 1)[1], "PolicyArn": arn} for arn in role.managed
        ],
        "Tags": [{"Key": "team", "Value": "shop"}],
        "RoleLastUsed": {},
    }


def _day_events(
    roles: tuple[DemoRole, ...], start: datetime, rng: random.Random, *, bake: bool
) -> Iterator[dict[str, Any]]:
    for role in roles:
        for call in role.bake_calls if bake else role.calls:
            count = max(1, round(rng.gauss(call.per_day, call.per_day / 10)))
            first, last = call.hours
            for _ in range(count):
                offset = rng.randrange(first * 3600, last * 3600)
                moment = start + timedelta(seconds=offset)
                yield _event(role, call, moment, rng)


def _event(role: DemoRole, call: Call, moment: datetime, rng: random.Random) -> dict[str, Any]:
    session = f"{role.name}-{rng.randrange(16**8):08x}"
    event = {
        "eventVersion": "1.09",
        "userIdentity": {
            "type": "AssumedRole",
            "principalId": f"AROAEXAMPLE:{session}",
            "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/{role.name}/{session}",
            "accountId": ACCOUNT,
            "sessionContext": {
                "sessionIssuer": {
                    "type": "Role",
                    "principalId": "AROAEXAMPLE",
                    "arn": _arn("role", role.name),
                    "accountId": ACCOUNT,
                    "userName": role.name,
                }
            },
        },
        "eventTime": moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "eventSource": call.source,
        "eventName": call.name,
        "awsRegion": REGION,
        "sourceIPAddress": f"{role.service}.amazonaws.com",
        "userAgent": "aws-sdk-python/1.35",
        "requestParameters": dict(call.params),
        "responseElements": None,
        "eventID": f"{rng.randrange(16**32):032x}",
        "readOnly": call.name.startswith(("Get", "List", "Describe", "Query")),
        "eventType": "AwsApiCall",
        "managementEvent": call.source not in ("s3.amazonaws.com", "dynamodb.amazonaws.com"),
        "recipientAccountId": ACCOUNT,
        "eventCategory": "Management",
    }
    if call.error is not None:
        event["errorCode"] = call.error
        event["errorMessage"] = (
            f"User: arn:aws:sts::{ACCOUNT}:assumed-role/{role.name}/{session} is not authorized"
            f" to perform: {call.source.split('.')[0]}:{call.name} with an explicit deny in a"
            " permissions boundary"
        )
    return event


def _write_day(root: Path, start: datetime, events: list[dict[str, Any]]) -> None:
    events.sort(key=lambda e: str(e["eventTime"]))
    folder = root / "AWSLogs" / ACCOUNT / "CloudTrail" / REGION / start.strftime("%Y/%m/%d")
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{ACCOUNT}_CloudTrail_{REGION}_{start:%Y%m%dT%H%MZ}_demo.json.gz"
    data = json.dumps({"Records": events}).encode()
    (folder / name).write_bytes(gzip.compress(data, mtime=0))
