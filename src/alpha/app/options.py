"""Before a decision: what a user may do with a proposal now, and why not (the same checks the
decision makes, asked ahead, so a page can say why a button will be refused); and the check
that a proposal has not moved since the decider saw it."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from alpha.app.errors import AppError
from alpha.rollout.approvals import (
    ApprovalPolicy,
    BlockingCheck,
    check_can_decide,
    require_approved,
)
from alpha.rollout.errors import RolloutError
from alpha.rollout.service import ProposalStatus
from alpha.rollout.workflow import Event, next_state, workflow_state
from alpha.store.model import Approval, ProposalState
from alpha.store.ports import Store

__all__ = ["ChangedError", "action_options", "check_unchanged"]

IN_PROGRESS = (ProposalState.SANDBOX, ProposalState.CANARY, ProposalState.PRODUCTION)


class ChangedError(AppError):
    """The proposal moved to another state since the decider saw it."""


def check_unchanged(store: Store, proposal_id: str, expected: ProposalState) -> None:
    found = store.proposal(proposal_id) or store.find_proposal(proposal_id)
    state = store.proposal_state(found.id)
    if state is not expected:
        latest = store.latest_approval(found.id)
        by = f" (last decision by {latest.approver})" if latest is not None else ""
        raise ChangedError(
            f"proposal {found.short_id} changed since you saw it: it was {expected.value}, it is "
            f"now {state.value}{by}; look again before deciding"
        )


def action_options(
    status: ProposalStatus,
    approvals: Sequence[Approval],
    user: str,
    *,
    now: datetime,
    policy: ApprovalPolicy,
    blocking: BlockingCheck,
) -> dict[str, str | None]:
    def decision(approve: bool) -> str | None:
        return _refusal(
            lambda: check_can_decide(
                status.proposal,
                status.state,
                decider=user,
                approve=approve,
                now=now,
                policy=policy,
                latest=status.approval.approval,
                blocking=blocking,
            )
        )

    return {
        "approve": decision(True),
        "reject": decision(False),
        "roll_out": _roll_out(status, list(approvals), now, policy, blocking),
        "roll_back": _refusal(lambda: next_state(workflow_state(status.state), Event.ROLLBACK)),
    }


def _roll_out(
    status: ProposalStatus,
    approvals: list[Approval],
    now: datetime,
    policy: ApprovalPolicy,
    blocking: BlockingCheck,
) -> str | None:
    if status.state in IN_PROGRESS:
        return None
    if status.state is not ProposalState.APPROVED:
        return (
            f"proposal {status.proposal.short_id} is {status.state.value}: only an approved "
            "proposal, or one in the middle of its rollout, can be rolled out"
        )
    return _refusal(lambda: require_approved(status.proposal, approvals, now, policy, blocking))


def _refusal(check: Callable[[], object]) -> str | None:
    try:
        check()
    except RolloutError as exc:
        return str(exc)
    return None
