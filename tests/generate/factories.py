"""Small account snapshots and usage rows for the generate tests."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from alpha.account import AccountSnapshot
from alpha.adapters.local.authorization_details import parse_authorization_details_text
from alpha.usage.aggregate import UsageRow

ACCOUNT = "111122223333"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/app"
T0 = datetime(2026, 1, 1, tzinfo=UTC)
T1 = datetime(2026, 1, 30, tzinfo=UTC)


def role(
    name: str,
    *,
    inline: Sequence[Sequence[dict[str, Any]]] = (),
    attached: Sequence[str] = (),
) -> dict[str, Any]:
    return {
        "Path": "/",
        "RoleName": name,
        "RoleId": "AROA" + name.upper().ljust(17, "X")[:17],
        "Arn": f"arn:aws:iam::{ACCOUNT}:role/{name}",
        "CreateDate": "2025-01-01T00:00:00Z",
        "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": []},
        "InstanceProfileList": [],
        "RolePolicyList": [
            {
                "PolicyName": f"p{i}",
                "PolicyDocument": {"Version": "2012-10-17", "Statement": list(s)},
            }
            for i, s in enumerate(inline)
        ],
        "AttachedManagedPolicies": [
            {"PolicyName": a.rpartition("/")[2], "PolicyArn": a} for a in attached
        ],
        "Tags": [],
        "RoleLastUsed": {},
    }


def _document(statements: Sequence[dict[str, Any]]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def managed(arn: str, statements: list[dict[str, Any]], count: int) -> dict[str, Any]:
    return {
        "PolicyName": arn.rpartition("/")[2],
        "PolicyId": "ANPA" + "X" * 17,
        "Arn": arn,
        "Path": "/",
        "DefaultVersionId": "v1",
        "AttachmentCount": count,
        "PermissionsBoundaryUsageCount": 0,
        "IsAttachable": True,
        "CreateDate": "2025-01-01T00:00:00Z",
        "UpdateDate": "2025-01-01T00:00:00Z",
        "PolicyVersionList": [
            {
                "Document": {"Version": "2012-10-17", "Statement": statements},
                "VersionId": "v1",
                "IsDefaultVersion": True,
                "CreateDate": "2025-01-01T00:00:00Z",
            }
        ],
    }


def snapshot(
    roles: list[dict[str, Any]], policies: Sequence[dict[str, Any]] = ()
) -> AccountSnapshot:
    doc = {
        "UserDetailList": [],
        "GroupDetailList": [],
        "RoleDetailList": roles,
        "Policies": list(policies),
    }
    return parse_authorization_details_text(json.dumps(doc), "test.json")


def single_role(*statements: dict[str, Any]) -> AccountSnapshot:
    return snapshot([role("app", inline=[list(statements)])])


def row(action: str, resource: str, count: int = 1, *, regions: tuple[str, ...] = ()) -> UsageRow:
    return UsageRow(ROLE, action, resource, count, 0, T0, T1, ("s1",), regions)


ALLOW_ALL = {"Effect": "Allow", "Action": "*", "Resource": "*"}
