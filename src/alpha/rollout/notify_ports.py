"""What the workflow tells people as it happens: a proposal made, decided, each rollout stage
started, passed or failed, a rollback. `Notifier` is the port (Slack, a webhook, or nothing);
the events are plain frozen values, so an adapter can keep them in a durable queue.

A notifier must neither lose an event nor hold the workflow up: `notify` hands the event over
(kept until delivered) and never raises because the destination is down; `flush` tries to
deliver what is waiting and says how many are still waiting.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from alpha.store.model import Stage, StoredProposal

__all__ = [
    "DIFF_ACTIONS_SHOWN",
    "Finding",
    "Notifier",
    "NotifyEvent",
    "ProposalApproved",
    "ProposalCreated",
    "ProposalRejected",
    "RollbackFailed",
    "RolledBack",
    "SilentNotifier",
    "StageFailed",
    "StagePassed",
    "StageStarted",
]

DIFF_ACTIONS_SHOWN = 8
"""How many actions of each side of the diff a message lists (the rest are counted)."""


@dataclass(frozen=True, slots=True)
class Finding:
    """One guardrail finding on a proposal."""

    code: str
    message: str
    blocks: bool


@dataclass(frozen=True, slots=True)
class ProposalCreated:
    """A new proposal, with what an approver looks at first."""

    proposal_id: str
    principal: str
    proposed_by: str
    privilege_reduction: float | None
    risk_of_break: float | None
    findings: tuple[Finding, ...]
    change_summary: str
    granted: tuple[str, ...]
    granted_count: int
    removed: tuple[str, ...]
    removed_count: int
    added: tuple[str, ...]
    added_count: int
    # whose work it might break, one line (`people_line`); "" when no person used the role
    people: str = ""

    @property
    def blocked(self) -> bool:
        return any(f.blocks for f in self.findings)

    @classmethod
    def of(cls, proposal: StoredProposal) -> ProposalCreated:
        document = proposal.document
        diff = document.get("diff") or {}
        removed = [str(a) for a in diff.get("removed_actions") or []]
        added = [str(a) for a in diff.get("added_actions") or []]
        granted = _granted(proposal.proposed_policy)
        return cls(
            proposal_id=proposal.id,
            principal=proposal.principal,
            proposed_by=proposal.created_by,
            privilege_reduction=_number(diff.get("privilege_reduction")),
            risk_of_break=_number((document.get("risk_signal") or {}).get("probability_of_break")),
            findings=tuple(_finding(v) for v in document.get("guardrail_violations") or []),
            change_summary=str(diff.get("change_summary") or ""),
            granted=tuple(granted[:DIFF_ACTIONS_SHOWN]),
            granted_count=len(granted),
            removed=tuple(removed[:DIFF_ACTIONS_SHOWN]),
            removed_count=len(removed),
            added=tuple(added[:DIFF_ACTIONS_SHOWN]),
            added_count=len(added),
            people=people_line(document),
        )


@dataclass(frozen=True, slots=True)
class ProposalApproved:
    proposal_id: str
    principal: str
    by: str
    at: datetime
    comment: str


@dataclass(frozen=True, slots=True)
class ProposalRejected:
    proposal_id: str
    principal: str
    by: str
    at: datetime
    comment: str


@dataclass(frozen=True, slots=True)
class StageStarted:
    proposal_id: str
    principal: str
    stage: Stage


@dataclass(frozen=True, slots=True)
class StagePassed:
    proposal_id: str
    principal: str
    stage: Stage
    detail: str


@dataclass(frozen=True, slots=True)
class StageFailed:
    proposal_id: str
    principal: str
    stage: Stage
    detail: str


@dataclass(frozen=True, slots=True)
class RolledBack:
    """The principal's IAM state from before the rollout is restored."""

    proposal_id: str
    principal: str
    by: str
    reason: str


@dataclass(frozen=True, slots=True)
class RollbackFailed:
    """A rollback could not restore the principal: someone must look now."""

    proposal_id: str
    principal: str
    by: str
    error: str


NotifyEvent = (
    ProposalCreated
    | ProposalApproved
    | ProposalRejected
    | StageStarted
    | StagePassed
    | StageFailed
    | RolledBack
    | RollbackFailed
)


class Notifier(Protocol):
    def notify(self, event: NotifyEvent) -> None:
        """Hand the event over, in order after the ones before it; kept until delivered."""
        ...

    def flush(self) -> int:
        """Deliver what is waiting, as far as the destination lets now; how many still wait."""
        ...


class SilentNotifier:
    """No one to tell: every event is let go."""

    def notify(self, event: NotifyEvent) -> None:
        return None

    def flush(self) -> int:
        return 0


def people_line(document: dict[str, Any]) -> str:
    """The document's one line on whose work it might break (`people_at_risk.summary`); ""
    when nobody is at risk."""
    found = document.get("people_at_risk") or {}
    return str(found.get("summary") or "") if found.get("at_risk") else ""


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _finding(violation: Any) -> Finding:
    found = violation if isinstance(violation, dict) else {}
    return Finding(
        str(found.get("code", "")), str(found.get("message", "")), bool(found.get("blocks"))
    )


def _granted(policy: dict[str, Any]) -> list[str]:
    """The actions the proposed policy allows, in statement order, each once."""
    statements = policy.get("Statement") or []
    actions: dict[str, None] = {}
    for statement in statements if isinstance(statements, list) else [statements]:
        if not isinstance(statement, dict) or statement.get("Effect") != "Allow":
            continue
        listed = statement.get("Action") or []
        for action in [listed] if isinstance(listed, str) else listed:
            actions[str(action)] = None
    return list(actions)
