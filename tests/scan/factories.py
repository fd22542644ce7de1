"""Hand-written accounts and usage for scan tests: a role or user from policy documents, and
usage rows as the usage store returns them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from alpha.account import (
    AccountSnapshot,
    AttachedPolicy,
    InlinePolicy,
    LastUsed,
    ManagedPolicy,
    Role,
    User,
)
from alpha.policy.parse import parse_policy
from alpha.usage.aggregate import UsageRow

ACCOUNT = "111122223333"
START = datetime(2026, 10, 1, tzinfo=UTC)
END = START + timedelta(days=30)


def allow(actions: str | Sequence[str], resources: str | Sequence[str] = "*") -> dict[str, Any]:
    return {"Effect": "Allow", "Action": actions, "Resource": resources}


def deny(actions: str | Sequence[str], resources: str | Sequence[str] = "*") -> dict[str, Any]:
    return {"Effect": "Deny", "Action": actions, "Resource": resources}


def allow_not(actions: Sequence[str], resources: str = "*") -> dict[str, Any]:
    return {"Effect": "Allow", "NotAction": list(actions), "Resource": resources}


def document(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def role_arn(name: str) -> str:
    return f"arn:aws:iam::{ACCOUNT}:role/{name}"


def policy_arn(name: str, *, aws: bool = False) -> str:
    return f"arn:aws:iam::aws:policy/{name}" if aws else f"arn:aws:iam::{ACCOUNT}:policy/{name}"


def role(
    name: str,
    *statements: dict[str, Any],
    managed: Sequence[str] = (),
    boundary: str | None = None,
    last_used: datetime | None = None,
) -> Role:
    inline = (InlinePolicy(f"{name}-inline", parse_policy(document(*statements))),)
    return Role(
        arn=role_arn(name),
        name=name,
        path="/",
        role_id=f"AROA{name.upper()}",
        create_date=None,
        trust_policy=None,
        inline_policies=inline if statements else (),
        attached_policies=tuple(AttachedPolicy(a, a.rpartition("/")[2]) for a in managed),
        boundary_arn=boundary,
        last_used=None if last_used is None else LastUsed(last_used, "eu-west-1"),
    )


def user(name: str, *statements: dict[str, Any]) -> User:
    return User(
        arn=f"arn:aws:iam::{ACCOUNT}:user/{name}",
        name=name,
        path="/",
        user_id=f"AIDA{name.upper()}",
        create_date=None,
        inline_policies=(InlinePolicy(f"{name}-inline", parse_policy(document(*statements))),),
    )


def managed(arn: str, *statements: dict[str, Any]) -> ManagedPolicy:
    return ManagedPolicy(
        arn=arn,
        name=arn.rpartition("/")[2],
        path="/",
        policy_id="ANPA" + arn.rpartition("/")[2].upper(),
        default_version_id="v1",
        document=parse_policy(document(*statements)),
        attachment_count=1,
    )


def snapshot(*principals: Role | User, policies: Iterable[ManagedPolicy] = ()) -> AccountSnapshot:
    return AccountSnapshot(
        account_id=ACCOUNT,
        roles=tuple(p for p in principals if isinstance(p, Role)),
        users=tuple(p for p in principals if isinstance(p, User)),
        policies=tuple(policies),
        source="test-account.json",
    )


def used(
    principal: str,
    actions: Mapping[str, int] | Iterable[str],
    *,
    denied: int = 0,
    at: datetime = START + timedelta(days=1),
) -> list[UsageRow]:
    """Rows for calls by `principal`: each action `count` times (once when a plain list)."""
    counts = actions if isinstance(actions, Mapping) else dict.fromkeys(actions, 1)
    return [
        UsageRow(principal, action, "*", count, denied, at, at, ())
        for action, count in counts.items()
    ]
