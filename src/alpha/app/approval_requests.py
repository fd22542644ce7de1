"""Approvals a Step Functions execution waits for: the task token stored with the proposal,
and the answer sent by whichever interface records the decision (CLI, web, Slack, Lambda).

The token is kept in the proposal's audit log (an `approval.requested` event) rather than a
new table, so the Store port is unchanged and every store has it; answering appends an
`approval.answered` event, so a token is answered once. `WorkflowCallbacks` is the port the
answer goes through (`alpha.adapters.aws.step_functions.StepFunctionsCallbacks`, and the
recording fake in tests).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from alpha.app.errors import AppError
from alpha.errors import AlphaError
from alpha.store.model import ProposalState
from alpha.store.ports import Store

__all__ = [
    "APPROVAL_ANSWERED",
    "APPROVAL_REQUESTED",
    "REJECTED_ERROR",
    "PendingRequest",
    "WorkflowCallbacks",
    "answer_request",
    "pending_request",
    "record_request",
]

APPROVAL_REQUESTED = "approval.requested"
APPROVAL_ANSWERED = "approval.answered"
REJECTED_ERROR = "ALPHA.Rejected"  # what the definition's Catch routes to Rejected


class WorkflowCallbacks(Protocol):
    """Answers a task waiting for a token (Step Functions' SendTaskSuccess/Failure)."""

    def succeed(self, token: str, output: dict[str, Any]) -> None: ...

    def fail(self, token: str, error: str, cause: str) -> None: ...


@dataclass(frozen=True, slots=True)
class PendingRequest:
    proposal_id: str
    token: str
    execution: str


def record_request(
    store: Store, proposal_id: str, token: str, execution: str, now: datetime
) -> PendingRequest:
    """Store the token with the proposal (once: a retried step records nothing new)."""
    found = pending_request(store, proposal_id)
    if found is not None and found.token == token:
        return found
    store.append_audit(
        at=now,
        proposal_id=proposal_id,
        actor="alpha",
        action=APPROVAL_REQUESTED,
        reason="a Step Functions execution waits for the decision",
        details={"task_token": token, "execution": execution},
    )
    return PendingRequest(proposal_id, token, execution)


def pending_request(store: Store, proposal_id: str) -> PendingRequest | None:
    """The latest request no decision has answered yet."""
    answered: set[str] = set()
    pending: PendingRequest | None = None
    for event in store.audit(proposal_id):
        details = event.details or {}
        token = str(details.get("task_token", ""))
        if event.action == APPROVAL_ANSWERED:
            answered.add(token)
        elif event.action == APPROVAL_REQUESTED:
            pending = PendingRequest(proposal_id, token, str(details.get("execution", "")))
    return pending if pending is not None and pending.token not in answered else None


def answer_request(
    store: Store,
    callbacks: WorkflowCallbacks,
    request: PendingRequest,
    state: ProposalState,
    *,
    by: str,
    now: datetime,
) -> str | None:
    """Answer the waiting execution if the decision settled it (approved, or rejected); None
    while more approvals are needed. Returns the execution answered. The decision is stored
    before: when the answer fails, the error says so (the execution then expires)."""
    try:
        if state is ProposalState.APPROVED:
            callbacks.succeed(request.token, _approved_output(request.proposal_id))
        elif state is ProposalState.REJECTED:
            callbacks.fail(request.token, REJECTED_ERROR, f"rejected by {by}")
        else:
            return None
    except AlphaError as exc:
        raise AppError(
            f"{state.value} (recorded), but the waiting execution {request.execution} "
            f"could not be answered: {exc}"
        ) from exc
    store.append_audit(
        at=now,
        proposal_id=request.proposal_id,
        actor=by,
        action=APPROVAL_ANSWERED,
        reason=f"{state.value}: answered the waiting execution",
        details={"task_token": request.token, "execution": request.execution},
    )
    return request.execution


def _approved_output(proposal_id: str) -> dict[str, Any]:
    # The shape every task's result has (alpha.rollout.asl.RESULT_KEYS).
    return {
        "event": "approved",
        "proposal_id": proposal_id,
        "wait_seconds": 0,
        "approval_timeout_seconds": 0,
    }
