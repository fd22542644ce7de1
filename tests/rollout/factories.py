"""Fakes and sample data for the rollout tests: an account, a proposal, a counting IAM wrapper,
a clock. The monitor is the shared `tests.fakes.scripted_monitor.ScriptedMonitor`."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from alpha.adapters.local.working_copy_iam import WorkingCopyIam, import_account_copy
from alpha.rollout.iam_ports import IamChanger
from alpha.store.model import Approval, StoredProposal
from alpha.store.ports import Store
from tests.fakes.memory_store import MemoryStore

ACCOUNT = "111122223333"
OTHER_ACCOUNT = "444455556666"
T0 = datetime(2024, 5, 1, 10, 0, tzinfo=UTC)
APP = f"arn:aws:iam::{ACCOUNT}:role/app"
SHARED = f"arn:aws:iam::{ACCOUNT}:policy/shared"
BOUNDARY = f"arn:aws:iam::{ACCOUNT}:policy/existing-boundary"
WIDE = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
S3_ALL = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": ["s3:*", "sqs:*"], "Resource": "*"}],
}
PROPOSED = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": ["arn:aws:s3:::data/*"]}
    ],
}


def managed(arn: str, document: dict[str, Any], attachments: int) -> dict[str, Any]:
    return {
        "PolicyName": arn.rpartition("/")[2],
        "PolicyId": "ANPA" + arn.rpartition("/")[2].upper(),
        "Arn": arn,
        "Path": "/",
        "DefaultVersionId": "v1",
        "AttachmentCount": attachments,
        "PermissionsBoundaryUsageCount": 0,
        "IsAttachable": True,
        "PolicyVersionList": [{"Document": document, "VersionId": "v1", "IsDefaultVersion": True}],
    }


def role(
    account: str, name: str, *, boundary: str | None = None, shared: bool = True
) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "RoleName": name,
        "RoleId": f"AROA{name.upper()}",
        "Arn": f"arn:aws:iam::{account}:role/{name}",
        "Path": "/",
        "RolePolicyList": [{"PolicyName": "old-inline", "PolicyDocument": S3_ALL}],
        "AttachedManagedPolicies": [],
    }
    if shared:
        arn = f"arn:aws:iam::{account}:policy/shared"
        entry["AttachedManagedPolicies"].append({"PolicyName": "shared", "PolicyArn": arn})
    if boundary is not None:
        entry["PermissionsBoundary"] = {
            "PermissionsBoundaryType": "Policy",
            "PermissionsBoundaryArn": boundary,
        }
    return entry


def account(account_id: str = ACCOUNT, *, boundary: bool = False) -> dict[str, Any]:
    boundary_arn = f"arn:aws:iam::{account_id}:policy/existing-boundary"
    other = role(account_id, "other")
    policies = [managed(f"arn:aws:iam::{account_id}:policy/shared", WIDE, 2)]
    if boundary:
        policies.append(managed(boundary_arn, WIDE, 0))
        policies[-1]["PermissionsBoundaryUsageCount"] = 1
    return {
        "RoleDetailList": [
            role(account_id, "app", boundary=boundary_arn if boundary else None),
            other,
        ],
        "UserDetailList": [],
        "GroupDetailList": [],
        "Policies": policies,
    }


PLAN = {
    "steps": [
        {"action": "delete", "kind": "inline", "name": "old-inline"},
        {"action": "detach", "kind": "managed", "name": "shared", "arn": SHARED},
        {"action": "attach", "kind": "inline", "name": "alpha-least-privilege"},
    ]
}


def proposal(
    principal: str = APP,
    *,
    policy: dict[str, Any] | None = None,
    blocks: bool = False,
    by: str = "proposer",
    at: datetime = T0,
) -> StoredProposal:
    document = {
        "principal": principal,
        "proposed_policy": policy or PROPOSED,
        "guardrail_violations": [
            {"code": "PASS_ROLE", "message": "m", "path": "p", "severity": "high", "blocks": blocks}
        ],
        "diff": {
            "removed_actions": ["s3:PutObject", "sqs:SendMessage"],
            "privilege_reduction": 0.9,
        },
    }
    return StoredProposal.create(
        principal=principal, document=document, plan=PLAN, created_by=by, created_at=at
    )


@dataclass
class Clock:
    now: datetime = T0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


class SimulatedCrash(Exception):  # noqa: N818 - the name the fault-injection tests use
    """Stands in for kill -9 (not an AlphaError: nothing may catch it)."""


class CrashAt:
    """A checkpoint hook that crashes at its `n`-th call, once."""

    def __init__(self, n: int | None) -> None:
        self.n, self.calls, self.points = n, 0, list[str]()

    def __call__(self, point: str) -> None:
        self.points.append(point)
        self.calls += 1
        if self.n is not None and self.calls == self.n:
            raise SimulatedCrash(point)


class CountingIam:
    """Wraps an `IamChanger`, counting each mutating call by (method, args)."""

    MUTATING = (
        "put_inline_policy",
        "delete_inline_policy",
        "attach_managed_policy",
        "detach_managed_policy",
        "put_permissions_boundary",
        "delete_permissions_boundary",
        "add_to_group",
        "remove_from_group",
        "create_managed_policy",
        "delete_managed_policy",
        "update_managed_policy",
        "set_default_policy_version",
    )

    def __init__(self, inner: IamChanger) -> None:
        self.inner = inner
        self.counts: Counter[tuple[str, ...]] = Counter()

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.inner, name)
        if name not in self.MUTATING:
            return method

        def counted(*args: Any) -> Any:
            self.counts[(name, *(a for a in args if isinstance(a, str)))] += 1
            return method(*args)

        return counted


def setup(
    *, boundary: bool = False, accounts: tuple[str, ...] = (ACCOUNT,)
) -> tuple[MemoryStore, WorkingCopyIam]:
    store = MemoryStore()
    for account_id in accounts:
        import_account_copy(store, f"account-{account_id}", account(account_id, boundary=boundary))
    iam = WorkingCopyIam(store, [f"account-{a}" for a in accounts])
    return store, iam


def approve(store: Store, stored: StoredProposal, at: datetime = T0) -> None:
    from alpha.store.model import ProposalState

    store.record_approval(Approval(stored.id, at, True, "alice"))
    store.set_state(stored.id, ProposalState.APPROVED, ProposalState.PROPOSED)
