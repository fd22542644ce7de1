"""Who may approve what, and whether a proposal is approved now: pure functions over records.

An approval binds to the proposal's content hash: an approval recorded for other content (a
changed proposal has another id) never counts. The latest decision wins. A decision expires
`ApprovalPolicy.expiry` after it was made, and a proposal nobody decided on expires that long
after it was proposed. Separation of duties (on by default): whoever proposed cannot approve.
A proposal with a blocking guardrail violation cannot be approved at all.

Every refusal raises an `ApprovalError` whose message names the proposal and the reason.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from alpha.rollout.errors import ApprovalError
from alpha.rollout.identity import IdentityError, check_name, person_key, same_person
from alpha.rollout.settings import ApprovalPolicy
from alpha.store.model import Approval, ProposalState, StoredProposal

__all__ = [
    "ApprovalPolicy",
    "BlockingCheck",
    "approval_time",
    "approval_wait",
    "check_can_decide",
    "require_approved",
]


_DECIDABLE = frozenset({ProposalState.PROPOSED, ProposalState.APPROVED, ProposalState.REJECTED})


class ApprovalStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    EXPIRED = "expired"


@dataclass(frozen=True, slots=True)
class ApprovalDecision:
    """Where the approval of one proposal stands at `now`, and the decision that says so."""

    status: ApprovalStatus
    approval: Approval | None
    expires_at: datetime


BlockingCheck = Callable[[StoredProposal], list[str]]
"""The codes of what blocks a proposal's approval and rollout. The application passes one that
checks the proposed policy again under the guardrails in force; `blocking_violations` (what
generation found, as stored) is for callers with no configuration at hand."""


def blocking_violations(proposal: StoredProposal) -> list[str]:
    """The codes of the proposal's guardrail violations that block approval, as stored."""
    found = proposal.document.get("guardrail_violations") or []
    codes = [
        str(v.get("code", "?")) for v in found if isinstance(v, dict) and v.get("blocks") is True
    ]
    if not codes and proposal.document.get("blocked") is True:
        codes.append("blocked")
    return codes


def check_decider(
    proposal: StoredProposal, decider: str, approve: bool, policy: ApprovalPolicy
) -> str:
    """The decider's name as recorded; refused when it cannot stand for one person, is not on
    the allowlist, or is the proposer approving their own proposal. Names compare as people
    (`alpha.rollout.identity`): `DANA`, `Ｄａｎａ` and `Dána` are all `dana`."""
    try:
        who = check_name(decider, "approver's name")
    except IdentityError as exc:
        raise ApprovalError(f"proposal {proposal.short_id}: {exc}") from exc
    if policy.approvers and person_key(who) not in {person_key(a) for a in policy.approvers}:
        raise ApprovalError(
            f"proposal {proposal.short_id}: {who!r} is not an allowed approver "
            f"(allowed: {', '.join(sorted(policy.approvers))})"
        )
    if approve and policy.separation_of_duties and same_person(who, proposal.created_by):
        raise ApprovalError(
            f"proposal {proposal.short_id}: {who!r} proposed it (as {proposal.created_by!r}) "
            "and cannot approve it (separation of duties)"
        )
    return who


def check_can_decide(
    proposal: StoredProposal,
    state: ProposalState,
    *,
    decider: str,
    approve: bool,
    now: datetime,
    policy: ApprovalPolicy,
    latest: Approval | None,
    blocking: BlockingCheck = blocking_violations,
) -> str:
    """Every check before recording an approval (`approve`) or a rejection; the decider's
    name as it is to be recorded."""
    if state not in _DECIDABLE:
        raise ApprovalError(
            f"proposal {proposal.short_id} is {state.value}: only a proposal waiting for "
            "approval can be approved or rejected"
        )
    if expired(proposal, latest, now, policy):
        raise ApprovalError(
            f"proposal {proposal.short_id} expired at {_iso(expires_at(proposal, latest, policy))}"
            "; propose it again"
        )
    who = check_decider(proposal, decider, approve, policy)
    if approve:
        blocks = blocking(proposal)
        if blocks:
            raise ApprovalError(
                f"proposal {proposal.short_id} cannot be approved: blocking guardrail "
                f"violations {', '.join(blocks)}"
            )
    return who


def binding(proposal: StoredProposal, approvals: list[Approval]) -> Approval | None:
    """The latest decision made on exactly this content (others are ignored)."""
    mine = [a for a in approvals if a.binds(proposal)]
    return mine[-1] if mine else None


def expires_at(
    proposal: StoredProposal, latest: Approval | None, policy: ApprovalPolicy
) -> datetime:
    since = latest.timestamp if latest is not None else proposal.created_at
    return since + policy.expiry


def expired(
    proposal: StoredProposal, latest: Approval | None, now: datetime, policy: ApprovalPolicy
) -> bool:
    return now >= expires_at(proposal, latest, policy)


def decide(
    proposal: StoredProposal, approvals: list[Approval], now: datetime, policy: ApprovalPolicy
) -> ApprovalDecision:
    """Where the approval stands: the latest binding decision, unless it (or the wait for one)
    is older than the expiry."""
    latest = binding(proposal, approvals)
    deadline = expires_at(proposal, latest, policy)
    if now >= deadline:
        return ApprovalDecision(ApprovalStatus.EXPIRED, latest, deadline)
    if latest is None:
        return ApprovalDecision(ApprovalStatus.PENDING, None, deadline)
    status = ApprovalStatus.APPROVED if latest.approved else ApprovalStatus.REJECTED
    return ApprovalDecision(status, latest, deadline)


def require_approved(
    proposal: StoredProposal,
    approvals: list[Approval],
    now: datetime,
    policy: ApprovalPolicy,
    blocking: BlockingCheck = blocking_violations,
) -> Approval:
    """The approval a rollout may start on; `ApprovalError` naming why there is none."""
    decision = decide(proposal, approvals, now, policy)
    if decision.status is ApprovalStatus.APPROVED and decision.approval is not None:
        # Re-checked: the allowlist or the guardrails may have changed since it was recorded.
        check_decider(proposal, decision.approval.approver, True, policy)
        blocks = blocking(proposal)
        if blocks:
            raise ApprovalError(
                f"proposal {proposal.short_id}: blocking guardrail violations {', '.join(blocks)}"
            )
        return decision.approval
    reasons = {
        ApprovalStatus.PENDING: "is not approved yet",
        ApprovalStatus.REJECTED: f"was rejected by {_who(decision.approval)}",
        ApprovalStatus.EXPIRED: f"expired at {_iso(decision.expires_at)}",
    }
    raise ApprovalError(f"proposal {proposal.short_id} {reasons[decision.status]}")


def approval_time(proposal: StoredProposal, approvals: list[Approval]) -> timedelta | None:
    """From proposing to the first binding approval (the seed's "approval time")."""
    return approval_wait(proposal.id, proposal.created_at, approvals)


def approval_wait(
    proposal_id: str, created_at: datetime, approvals: list[Approval]
) -> timedelta | None:
    """`approval_time` of the proposal with this id, proposed at `created_at`."""
    first = next((a for a in approvals if a.binds_id(proposal_id) and a.approved), None)
    return None if first is None else first.timestamp - created_at


def _who(approval: Approval | None) -> str:
    return "?" if approval is None else repr(approval.approver)


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
