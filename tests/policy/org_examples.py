"""An organization built from AWS's documented example SCPs and RCPs (tests/data/org, with their
attribution in its README): root, OU and account levels, as `OrgGuardrails` of one account.

    root r-ab12 "Root":          SCPs FullAWSAccess, DenyLeaveOrganization
                                 RCPs RCPFullAWSAccess
    OU ou-ab12-prod0001 "Prod":  SCPs FullAWSAccess, DenyRegions, RequireIMDSv2
                                 RCPs RCPFullAWSAccess, EnforceSecureTransport
    account 222222222222 "prod": SCPs FullAWSAccess, DenyRootUser
                                 RCPs RCPFullAWSAccess, DenyBucketDeletion
"""

from __future__ import annotations

import json
from pathlib import Path

from alpha.policy.org_policies import LevelKind, OrgGuardrails, OrgPolicy, PolicyLevel
from alpha.policy.parse import parse_policy

DATA = Path(__file__).resolve().parents[1] / "data" / "org"
ACCOUNT = "222222222222"
ROOT_ID = "r-ab12"
PROD_ID = "ou-ab12-prod0001"


def org_policy(name: str, policy_id: str | None = None) -> OrgPolicy:
    text = (DATA / f"{name}.json").read_text()
    return OrgPolicy(policy_id or f"p-{name.lower()[:8]}", name, parse_policy(json.loads(text)))


def level(kind: LevelKind, target: str, name: str, *policies: str) -> PolicyLevel:
    return PolicyLevel(kind, target, name, tuple(org_policy(p) for p in policies))


def prod_guardrails(*, management: bool = False) -> OrgGuardrails:
    return OrgGuardrails(
        scps=(
            level(LevelKind.ROOT, ROOT_ID, "Root", "FullAWSAccess", "DenyLeaveOrganization"),
            level(LevelKind.OU, PROD_ID, "Prod", "FullAWSAccess", "DenyRegions", "RequireIMDSv2"),
            level(LevelKind.ACCOUNT, ACCOUNT, "prod", "FullAWSAccess", "DenyRootUser"),
        ),
        rcps=(
            level(LevelKind.ROOT, ROOT_ID, "Root", "RCPFullAWSAccess"),
            level(LevelKind.OU, PROD_ID, "Prod", "RCPFullAWSAccess", "EnforceSecureTransport"),
            level(LevelKind.ACCOUNT, ACCOUNT, "prod", "RCPFullAWSAccess", "DenyBucketDeletion"),
        ),
        management=management,
    )


def s3_only_sandbox() -> OrgGuardrails:
    """An OU whose only SCP allows S3: FullAWSAccess detached there."""
    s3 = OrgPolicy(
        "p-s3only",
        "S3Only",
        parse_policy(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}],
            }
        ),
    )
    return OrgGuardrails(
        scps=(
            level(LevelKind.ROOT, ROOT_ID, "Root", "FullAWSAccess"),
            PolicyLevel(LevelKind.OU, "ou-ab12-sand0001", "Sandbox", (s3,)),
        )
    )
