"""The Step Functions workflow's steps as use cases: each answers the event the transition
table routes on (`alpha.rollout.asl`), so the Lambda handlers only parse and return.

A stage step runs the rollout through that stage once, never waiting: a stage still baking
answers `baking` with the seconds the bake has left, and the definition's Wait state calls
the step again after them. A failed canary or production is rolled back by the engine
itself (and journalled); the Rollback step then confirms it, or finishes one a crash cut off.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from alpha.app.application import Application
from alpha.app.errors import AppError
from alpha.app.proposing import GenerateRequest
from alpha.app.scanning import ScanRequest
from alpha.rollout.engine import RunResult
from alpha.rollout.rollback import ROLLBACK_STEP
from alpha.rollout.runs import latest_run
from alpha.rollout.workflow import Event
from alpha.store.model import JournalPhase, ProposalState, Stage, StageState
from alpha.store.ports import Store

__all__ = [
    "BAKING",
    "WORKFLOW_FAILED",
    "StepError",
    "StepResult",
    "find_principals",
    "propose_step",
    "record_failure",
    "rollback_step",
    "stage_step",
]

BAKING = "baking"  # alpha.rollout.asl.BAKING: the definition's loop through a Wait state
_ROLLED_BACK_OR_FAILED = (ProposalState.ROLLED_BACK, ProposalState.FAILED)


class StepError(AppError):
    """A step that cannot go on (the definition catches it into RecordFailure)."""


@dataclass(frozen=True, slots=True)
class StepResult:
    """What a step answers: the event, the proposal, and how long the next Wait lasts."""

    event: str
    proposal_id: str
    wait_seconds: int = 0
    approval_timeout_seconds: int = 0
    detail: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "event": self.event,
            "proposal_id": self.proposal_id,
            "wait_seconds": self.wait_seconds,
            "approval_timeout_seconds": self.approval_timeout_seconds,
            "detail": self.detail,
        }


def find_principals(app: Application, account: str, sources: tuple[str, ...]) -> list[str]:
    """The principals in the account holding grants they did not use, most excess first."""
    report = app.scan(ScanRequest(account, sources)).report
    return [score.principal for score in report.scores if score.unused_grants > 0]


def propose_step(
    app: Application, account: str, sources: tuple[str, ...], principal: str, by: str
) -> StepResult:
    """Generate, reason, check and store the principal's proposal; `error` when none could
    be made (the failure is audited by `propose`)."""
    result = app.propose(GenerateRequest(account, sources, principal), by=by)
    if not result.proposed:
        reasons = "; ".join(f.reason for f in result.failures) or "no usage observed"
        return StepResult(Event.ERROR.value, "", detail=f"{principal}: {reasons}")
    [made] = result.proposed  # one principal: one proposal
    if made.state is not ProposalState.PROPOSED:
        raise StepError(f"proposal {made.short_id} for {principal} is already {made.state.value}")
    expiry = int(app.settings.approval_expiry.total_seconds())
    return StepResult(Event.PERSISTED.value, made.id, approval_timeout_seconds=expiry)


def stage_step(app: Application, proposal_id: str, stage: Stage) -> StepResult:
    """Run the rollout through `stage` once: `passed`, `failed` or `baking`."""
    result = app.roll_out(proposal_id, through=stage)
    if result.state in _ROLLED_BACK_OR_FAILED:
        return StepResult(Event.FAILED.value, result.proposal_id, detail=result.detail)
    if result.state is ProposalState.SUCCEEDED or (
        result.stage is stage and result.stage_state is StageState.PASSED
    ):
        return StepResult(Event.PASSED.value, result.proposal_id, detail=result.detail)
    if result.stage is stage and result.stage_state is StageState.BAKING:
        wait = _bake_left(app, result, stage)
        return StepResult(BAKING, result.proposal_id, wait_seconds=wait, detail=result.detail)
    raise StepError(
        f"{stage.value} of {proposal_id} stopped at {result.state.value}: {result.detail}"
    )


def rollback_step(app: Application, proposal_id: str) -> StepResult:
    """`restored` once the principal's IAM state from before the rollout is back; `error`
    when the rollback could not restore it."""
    with app.backends.open_store() as store:
        state = store.proposal_state(proposal_id)
        pending = _rollback_pending(store, proposal_id)
    # Rolled back, or failed with no rollback left to finish: the engine already decided.
    if pending or state not in _ROLLED_BACK_OR_FAILED:
        state = app.roll_back(proposal_id, "alpha", "the workflow's Rollback step").state
    event = Event.RESTORED if state is ProposalState.ROLLED_BACK else Event.ERROR
    return StepResult(event.value, proposal_id, detail=state.value)


def _rollback_pending(store: Store, proposal_id: str) -> bool:
    entries = [e for e in store.journal(proposal_id) if e.step == ROLLBACK_STEP]
    return bool(entries) and entries[-1].phase is JournalPhase.INTENT


def _bake_left(app: Application, result: RunResult, stage: Stage) -> int:
    """Seconds until the bake ends (at least the poll interval: the logs may lag behind)."""
    with app.backends.open_store() as store:
        found = store.proposal(result.proposal_id)
        record = store.stage(result.proposal_id, stage)
        if found is None or record is None:
            raise StepError(f"{stage.value} of {result.proposal_id} has no stage record")
        run = latest_run(store, found.id, found.principal, app.settings.rollout_settings().stages)
    since = record.metrics.get("bake_since")
    bake = run.stages.bake_of(stage.value)
    now: datetime = app.backends.clock()()
    left = datetime.fromisoformat(since) + bake - now if since else bake
    return int(max(left, app.settings.poll_interval, timedelta(seconds=1)).total_seconds())


WORKFLOW_FAILED = "workflow.failed"


def record_failure(app: Application, state: dict[str, Any], execution: str) -> StepResult:
    """Audit why an execution ends in Failed: the error a task raised, or the event no
    route took. The proposal (when there is one yet) carries the event."""
    result = state.get("result") or {}
    error = state.get("error") or {}
    proposal_id = str(result.get("proposal_id") or "")
    reason = str(error.get("Cause") or result.get("detail") or result.get("event") or "failed")
    with app.backends.open_store() as store:
        store.append_audit(
            at=app.backends.clock()(),
            proposal_id=proposal_id if proposal_id and store.proposal(proposal_id) else None,
            actor="alpha",
            action=WORKFLOW_FAILED,
            reason=reason[:2000],
            details={
                "execution": execution,
                "error": str(error.get("Error") or ""),
                "principal": str(state.get("principal") or ""),
            },
        )
    return StepResult(Event.FAILED.value, proposal_id, detail=reason[:2000])
