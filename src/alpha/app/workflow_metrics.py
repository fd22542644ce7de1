"""The seed's workflow metrics as events for the `MetricLog` (CloudWatch embedded metric
format), emitted by the use cases at the moment each is known:

- `GenerationSuccess` (None, 1 or 0) for each principal `propose` stored a new proposal for
  or failed on; its Average is the generation success rate. With it, `PrivilegeReduction`
  (Percent): the share of the existing grants the new proposal removes.
- `ApprovalTime` (Seconds), when an approval is a proposal's first binding one: from
  proposing to it.
- `RolloutFailure` (None, 1 or 0) when a rollout ends (succeeded, rolled back or failed:
  automatically or by hand); its Average is the rollout failure rate. A rollout that
  succeeded also gives `PrivilegeReductionApplied` (Percent).

These are the same definitions `alpha status` computes from the store (`alpha.rollout.metrics`),
one event at a time rather than over the whole store.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from alpha.generate.model import GenerationFailure
from alpha.rollout.approvals import approval_time
from alpha.rollout.engine import RunResult
from alpha.rollout.metric_ports import WorkflowEvent, WorkflowMeasure
from alpha.store.model import Approval, ProposalState, StoredProposal

__all__ = ["approval_event", "created_event", "failed_event", "rollout_event"]

FINISHED = frozenset({ProposalState.SUCCEEDED, ProposalState.ROLLED_BACK, ProposalState.FAILED})


def created_event(proposal: StoredProposal, at: datetime) -> WorkflowEvent:
    """A new proposal: emitted as it is stored, so a run over many holds none of them."""
    measures = [WorkflowMeasure("GenerationSuccess", 1)]
    reduction = _reduction(proposal)
    if reduction is not None:
        measures.append(WorkflowMeasure("PrivilegeReduction", reduction, "Percent"))
    return WorkflowEvent(at, tuple(measures), _about(proposal))


def failed_event(failure: GenerationFailure, at: datetime) -> WorkflowEvent:
    return WorkflowEvent(
        at,
        (WorkflowMeasure("GenerationSuccess", 0),),
        (("principal", failure.principal), ("reason", failure.reason)),
    )


def approval_event(
    proposal: StoredProposal, approvals: Sequence[Approval], decided: Approval
) -> WorkflowEvent | None:
    """The approval time, when `decided` is the proposal's first binding approval."""
    waited = approval_time(proposal, list(approvals))
    first = next((a for a in approvals if a.binds(proposal) and a.approved), None)
    if waited is None or first != decided:
        return None
    measure = WorkflowMeasure("ApprovalTime", waited.total_seconds(), "Seconds")
    return WorkflowEvent(
        decided.timestamp, (measure,), (*_about(proposal), ("by", decided.approver))
    )


def rollout_event(
    proposal: StoredProposal, before: ProposalState, result: RunResult, at: datetime
) -> WorkflowEvent | None:
    """The rollout's outcome, when this run ended it (it was not over before)."""
    if result.state not in FINISHED or before in FINISHED:
        return None
    failed = result.state is not ProposalState.SUCCEEDED
    measures = [WorkflowMeasure("RolloutFailure", int(failed))]
    reduction = _reduction(proposal)
    if not failed and reduction is not None:
        measures.append(WorkflowMeasure("PrivilegeReductionApplied", reduction, "Percent"))
    stage = "" if result.stage is None else result.stage.value
    details = (("state", result.state.value), ("stage", stage), ("detail", result.detail))
    return WorkflowEvent(at, tuple(measures), (*_about(proposal), *details))


def _about(proposal: StoredProposal) -> tuple[tuple[str, str], ...]:
    return (("proposal", proposal.id), ("principal", proposal.principal))


def _reduction(proposal: StoredProposal) -> float | None:
    value = (proposal.document.get("diff") or {}).get("privilege_reduction")
    return round(100 * float(value), 2) if isinstance(value, int | float) else None
