"""The seed's state machine as one transition table: data, not if-chains.

Generate -> Reason -> Guardrails -> Persist -> WaitForApproval (until approved, rejected or
expired) -> Sandbox -> Canary -> Production -> Succeeded. A failed sandbox enforced nothing, so
it fails outright; a failed canary or production goes to Rollback, which ends in RolledBack when
the exact previous IAM state is restored, or Failed when it cannot be. Transitions triggered by
an operator (approve, reject, a manual rollback) are marked, so the Step Functions definition
(`alpha.rollout.asl.to_asl`) can leave out the ones that leave a terminal state.

Each workflow state maps to the user-facing `ProposalState`; the four states before Persist have
none (nothing is stored yet). Rollback and Failed both show as `failed`: a `failed` proposal
with an unfinished rollback in its journal is still rolling back, and `resume` finishes it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from alpha.rollout.errors import IllegalTransitionError
from alpha.store.model import ProposalState

__all__ = [
    "TRANSITIONS",
    "USER_STATE",
    "Event",
    "Transition",
    "Trigger",
    "WorkflowState",
    "next_state",
    "terminal_states",
    "transition",
    "workflow_state",
]


class WorkflowState(StrEnum):
    GENERATE = "Generate"
    REASON = "Reason"
    GUARDRAILS = "Guardrails"
    PERSIST = "Persist"
    WAIT_FOR_APPROVAL = "WaitForApproval"
    APPROVED = "Approved"
    REJECTED = "Rejected"
    EXPIRED = "Expired"
    SANDBOX = "Sandbox"
    CANARY = "Canary"
    PRODUCTION = "Production"
    SUCCEEDED = "Succeeded"
    ROLLBACK = "Rollback"
    ROLLED_BACK = "RolledBack"
    FAILED = "Failed"


class Event(StrEnum):
    GENERATED = "generated"
    REASONED = "reasoned"
    CHECKED = "checked"
    PERSISTED = "persisted"
    APPROVED = "approved"
    REJECTED = "rejected"
    EXPIRED = "expired"
    STARTED = "started"
    PASSED = "passed"
    FAILED = "failed"
    ROLLBACK = "rollback"
    RESTORED = "restored"
    ERROR = "error"


class Trigger(StrEnum):
    """Who fires a transition: the workflow itself, or an operator (approver, `alpha rollback`)."""

    WORKFLOW = "workflow"
    OPERATOR = "operator"


@dataclass(frozen=True, slots=True)
class Transition:
    source: WorkflowState
    event: Event
    target: WorkflowState
    trigger: Trigger = Trigger.WORKFLOW


S, E, T = WorkflowState, Event, Trigger

TRANSITIONS: tuple[Transition, ...] = (
    Transition(S.GENERATE, E.GENERATED, S.REASON),
    Transition(S.GENERATE, E.ERROR, S.FAILED),
    Transition(S.REASON, E.REASONED, S.GUARDRAILS),
    Transition(S.REASON, E.ERROR, S.FAILED),
    Transition(S.GUARDRAILS, E.CHECKED, S.PERSIST),
    Transition(S.GUARDRAILS, E.ERROR, S.FAILED),
    Transition(S.PERSIST, E.PERSISTED, S.WAIT_FOR_APPROVAL),
    Transition(S.PERSIST, E.ERROR, S.FAILED),
    Transition(S.WAIT_FOR_APPROVAL, E.APPROVED, S.APPROVED, T.OPERATOR),
    Transition(S.WAIT_FOR_APPROVAL, E.REJECTED, S.REJECTED, T.OPERATOR),
    Transition(S.WAIT_FOR_APPROVAL, E.EXPIRED, S.EXPIRED),
    # The latest decision wins until the rollout starts.
    Transition(S.APPROVED, E.REJECTED, S.REJECTED, T.OPERATOR),
    Transition(S.REJECTED, E.APPROVED, S.APPROVED, T.OPERATOR),
    Transition(S.APPROVED, E.EXPIRED, S.EXPIRED),
    Transition(S.APPROVED, E.STARTED, S.SANDBOX),
    Transition(S.SANDBOX, E.PASSED, S.CANARY),
    Transition(S.SANDBOX, E.FAILED, S.FAILED),
    Transition(S.CANARY, E.PASSED, S.PRODUCTION),
    Transition(S.CANARY, E.FAILED, S.ROLLBACK),
    Transition(S.CANARY, E.ROLLBACK, S.ROLLBACK, T.OPERATOR),
    Transition(S.PRODUCTION, E.PASSED, S.SUCCEEDED),
    Transition(S.PRODUCTION, E.FAILED, S.ROLLBACK),
    Transition(S.PRODUCTION, E.ROLLBACK, S.ROLLBACK, T.OPERATOR),
    Transition(S.SUCCEEDED, E.ROLLBACK, S.ROLLBACK, T.OPERATOR),
    Transition(S.ROLLBACK, E.RESTORED, S.ROLLED_BACK),
    Transition(S.ROLLBACK, E.ERROR, S.FAILED),
)

USER_STATE: dict[WorkflowState, ProposalState | None] = {
    S.GENERATE: None,
    S.REASON: None,
    S.GUARDRAILS: None,
    S.PERSIST: None,
    S.WAIT_FOR_APPROVAL: ProposalState.PROPOSED,
    S.APPROVED: ProposalState.APPROVED,
    S.REJECTED: ProposalState.REJECTED,
    S.EXPIRED: ProposalState.EXPIRED,
    S.SANDBOX: ProposalState.SANDBOX,
    S.CANARY: ProposalState.CANARY,
    S.PRODUCTION: ProposalState.PRODUCTION,
    S.SUCCEEDED: ProposalState.SUCCEEDED,
    S.ROLLBACK: ProposalState.FAILED,
    S.ROLLED_BACK: ProposalState.ROLLED_BACK,
    S.FAILED: ProposalState.FAILED,
}


def transition(
    source: WorkflowState, event: Event, table: tuple[Transition, ...] = TRANSITIONS
) -> Transition:
    """The table's edge for this state and event; `IllegalTransitionError` if there is none."""
    for edge in table:
        if edge.source is source and edge.event is event:
            return edge
    allowed = ", ".join(sorted(e.event.value for e in table if e.source is source)) or "none"
    raise IllegalTransitionError(
        f"cannot go from {source.value} on {event.value!r} (allowed there: {allowed})"
    )


def next_state(
    source: WorkflowState, event: Event, table: tuple[Transition, ...] = TRANSITIONS
) -> WorkflowState:
    return transition(source, event, table).target


def workflow_state(state: ProposalState) -> WorkflowState:
    """The workflow state a stored proposal state stands for. `failed` reads as Failed; the
    engine checks the journal to tell an unfinished Rollback apart."""
    if state is ProposalState.FAILED:
        return S.FAILED
    for workflow, user in USER_STATE.items():
        if user is state:
            return workflow
    raise AssertionError(f"no workflow state maps to {state}")  # the table covers all


def terminal_states(table: tuple[Transition, ...] = TRANSITIONS) -> frozenset[WorkflowState]:
    """States the workflow itself never leaves (an operator may, e.g. rolling back a success)."""
    leaving = {e.source for e in table if e.trigger is Trigger.WORKFLOW}
    return frozenset(s for s in WorkflowState if s not in leaving)
