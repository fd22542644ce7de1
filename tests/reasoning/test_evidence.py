"""Evidence built from report rows, a real PolicyDiff and the catalog."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from alpha.catalog import AccessLevel, Catalog
from alpha.policy.diff import diff_policies
from alpha.policy.model import Policy
from alpha.policy.parse import parse_policy
from alpha.reasoning.evidence import (
    GuardrailSummary,
    InferredPermission,
    build_evidence,
    days_seen_from_hourly,
)
from alpha.usage.aggregate import HourlyUsage, UsageRow

ROLE = "arn:aws:iam::123456789012:role/app"
T0 = datetime(2026, 10, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Inferred:
    action: str
    reason: str


@dataclass(frozen=True)
class Violation:
    code: str
    message: str
    blocks: bool


def row(
    action: str,
    resource: str,
    count: int,
    first: int,
    last: int,
    *,
    principal: str = ROLE,
    denied: int = 0,
    sessions: tuple[str, ...] = ("s1",),
) -> UsageRow:
    return UsageRow(
        principal=principal,
        action=action,
        resource=resource,
        count=count,
        denied=denied,
        first_seen=T0 + timedelta(days=first),
        last_seen=T0 + timedelta(days=last, hours=1),
        sessions=sessions,
    )


def policy(actions: list[str]) -> Policy:
    return parse_policy(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}],
        }
    )


def test_build_evidence_folds_rows_per_action(catalog: Catalog) -> None:
    rows = [
        row("s3:GetObject", "arn:aws:s3:::b/a", 10, 0, 20, sessions=("s1", "s2")),
        row("s3:GetObject", "arn:aws:s3:::b/c", 5, 3, 25, denied=2, sessions=("s3",)),
        row("sqs:SendMessage", "arn:aws:sqs:us-east-1:1:q", 1, 4, 4),
        row("s3:GetObject", "arn:aws:s3:::b/a", 99, 0, 1, principal="arn:other"),
    ]
    existing = parse_policy(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": [
                        "s3:GetObject",
                        "sqs:SendMessage",
                        "iam:PutRolePolicy",
                        "s3:DeleteObject",
                    ],
                    "Resource": "*",
                }
            ],
        }
    )
    proposed = parse_policy(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Action": ["s3:GetObject", "sqs:SendMessage"], "Resource": "*"}
            ],
        }
    )
    ev = build_evidence(
        principal=ROLE,
        window=(T0, T0 + timedelta(days=30)),
        rows=rows,
        diff=diff_policies(existing, proposed, catalog),
        catalog=catalog,
        data_events_logged=False,
        replay=(16, 16),
        inferred=[Inferred("s3:ListBucket", "pagination"), Inferred("kms:Decrypt", "via S3")],
        violations=[Violation("WILDCARD_ACTION", "no wildcards", True)],
    )
    get, send = ev.actions
    assert (get.action, get.calls, get.denied, get.resources) == ("s3:GetObject", 15, 2, 2)
    assert get.first_seen == T0
    assert get.last_seen == T0 + timedelta(days=25, hours=1)
    assert get.days_seen == 4  # lower bound: days 0, 20, 3, 25
    assert not ev.days_exact
    assert (send.calls, send.days_seen, send.recurrence_days) == (1, 1, None)
    assert ev.total_calls == 16
    assert ev.denied_calls == 2
    assert ev.sessions == 3
    assert ev.window_days == 30
    assert [r.action for r in ev.diff.removed_actions] == ["iam:PutRolePolicy", "s3:DeleteObject"]
    assert ev.diff.removed_at(AccessLevel.PERMISSIONS_MANAGEMENT) == 1
    delete = catalog.action("s3:DeleteObject")
    assert delete is not None  # one grant per resource type it takes
    assert ev.diff.removed_at(AccessLevel.WRITE) == len(catalog.resource_types_of(delete))
    assert ev.inferred == (
        InferredPermission("kms:Decrypt", "via S3"),
        InferredPermission("s3:ListBucket", "pagination"),
    )
    assert ev.guardrails == (GuardrailSummary("WILDCARD_ACTION", "no wildcards", True),)


def test_exact_days_come_from_hourly_rows() -> None:
    hour0 = int(T0.timestamp()) // 3600
    hourly = [
        HourlyUsage(ROLE, None, "s3:GetObject", "r", hour0 + h, 1, 0, 0, 0)
        for h in (0, 5, 30, 24 * 7)
    ]
    hourly.append(HourlyUsage(ROLE, None, "s3:PutObject", "r", hour0, 0, 3, 0, 0))
    hourly.append(HourlyUsage("arn:other", None, "s3:GetObject", "r", hour0 + 999, 1, 0, 0, 0))
    assert days_seen_from_hourly(hourly, ROLE) == {"s3:GetObject": 3}


def test_recurrence_is_the_gap_between_active_days(catalog: Catalog) -> None:
    rows = [row("s3:GetObject", "r", 400, 0, 28)]
    ev = build_evidence(
        principal=ROLE,
        window=(T0, T0 + timedelta(days=30)),
        rows=rows,
        diff=diff_policies(policy(["s3:GetObject"]), policy(["s3:GetObject"]), catalog),
        catalog=catalog,
        data_events_logged=True,
        replay=(400, 400),
        days_seen={"s3:GetObject": 5},
    )
    (get,) = ev.actions
    assert ev.days_exact
    assert get.recurrence_days == pytest.approx((28 + 1 / 24) / 4)
    assert get.mean_interval_days == pytest.approx((28 + 1 / 24) / 399)
