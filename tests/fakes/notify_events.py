"""Notification events as the workflow makes them, for the notifier tests."""

from __future__ import annotations

from datetime import UTC, datetime

from alpha.rollout.notify_ports import (
    Finding,
    NotifyEvent,
    ProposalApproved,
    ProposalCreated,
    RollbackFailed,
    RolledBack,
    StageFailed,
    StagePassed,
    StageStarted,
)
from alpha.store.model import Stage

ORDERS = "arn:aws:iam::111122223333:role/orders-api"
AT = datetime(2026, 10, 31, 5, 0, tzinfo=UTC)


def proposal_id(n: int) -> str:
    return f"{n:012x}" + "ab" * 26


def created(n: int, principal: str = ORDERS, *, blocked: bool = False) -> ProposalCreated:
    findings = (Finding("PRIVILEGE_ESCALATION", "iam:PassRole on *", True),) if blocked else ()
    return ProposalCreated(
        proposal_id=proposal_id(n),
        principal=principal,
        proposed_by="dana",
        privilege_reduction=0.9898,
        risk_of_break=0.2035,
        findings=findings,
        change_summary="+0 actions, -560 actions",
        granted=("dynamodb:GetItem", "dynamodb:PutItem"),
        granted_count=2,
        removed=("dynamodb:DeleteTable", "s3:DeleteBucket"),
        removed_count=560,
        added=(),
        added_count=0,
    )


def lifecycle(n: int) -> list[NotifyEvent]:
    """One proposal's events, from its making to a failed canary's rollback."""
    pid = proposal_id(n)
    return [
        created(n),
        ProposalApproved(pid, ORDERS, "sam", AT, "looks right"),
        StageStarted(pid, ORDERS, Stage.SANDBOX),
        StagePassed(pid, ORDERS, Stage.SANDBOX, "no would-be denials"),
        StageStarted(pid, ORDERS, Stage.CANARY),
        StageFailed(pid, ORDERS, Stage.CANARY, "3 new AccessDenied"),
        RolledBack(pid, ORDERS, "alpha", "3 new AccessDenied"),
        RollbackFailed(pid, ORDERS, "sam", "iam:PutRolePolicy refused"),
    ]


def key_fact(event: NotifyEvent) -> str:
    """A word a delivered message about this event must say."""
    if isinstance(event, ProposalApproved):
        return event.by
    if isinstance(event, StageStarted | StagePassed | StageFailed):
        return event.stage.value
    if isinstance(event, RolledBack):
        return event.reason
    if isinstance(event, RollbackFailed):
        return event.error
    return event.proposal_id[:12]
