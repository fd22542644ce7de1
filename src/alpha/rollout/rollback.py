"""Rollbacks: restore the exact IAM state a rollout found, journalled so a crash in the middle
is finished on the next run. The canary's stage record holds that state (`previous_state`,
write-once); policies the rollout created are deleted again."""

from __future__ import annotations

from dataclasses import replace

from alpha.rollout.changes import Change, Op, restore_changes, restore_versions
from alpha.rollout.errors import IamChangeError, RolloutError
from alpha.rollout.iam_ports import IamChanger, JsonDict
from alpha.rollout.notify_ports import RollbackFailed, RolledBack
from alpha.rollout.runs import latest_run
from alpha.rollout.settings import StageSettings
from alpha.rollout.steps import Checkpoint, Clock, RolloutSteps
from alpha.rollout.workflow import Event, WorkflowState, workflow_state
from alpha.store.model import (
    JournalPhase,
    ProposalState,
    Stage,
    StageRecord,
    StageState,
    StoredProposal,
)
from alpha.store.ports import Store

__all__ = ["ROLLBACK_STEP", "Rollbacks", "captured_state"]

ROLLBACK_STEP = "rollback"
_KEPT_ON_ROLLBACK = (StageState.FAILED, StageState.ROLLED_BACK)


class Rollbacks:
    def __init__(
        self,
        store: Store,
        iam: IamChanger,
        clock: Clock,
        steps: RolloutSteps,
        checkpoint: Checkpoint,
    ) -> None:
        self.store, self.iam, self.clock, self.steps = store, iam, clock, steps
        self.checkpoint = checkpoint

    def begin(
        self, proposal: StoredProposal, actor: str, reason: str, event: Event = Event.FAILED
    ) -> None:
        payload = {"reason": reason, "actor": actor, "event": event.value}
        self.store.append_journal(
            proposal.id, ROLLBACK_STEP, JournalPhase.INTENT, payload, self.clock()
        )
        self.checkpoint("before rollback state")

    def finish(self, proposal: StoredProposal) -> tuple[ProposalState, str]:
        """Restore the principal and record it; the state the proposal ends in and why."""
        state = self.store.proposal_state(proposal.id)
        reason, event, actor = self._intent(proposal.id)
        if state in (ProposalState.CANARY, ProposalState.PRODUCTION, ProposalState.SUCCEEDED):
            self.steps.move(proposal, workflow_state(state), event, reason)
        try:
            self._restore(proposal)
        except IamChangeError as exc:
            self.steps.log(proposal, None, f"rollback failed: {exc}", "failed", error=str(exc))
            self.steps.audit(proposal, "rollback_failed", str(exc))
            self.steps.notify(RollbackFailed(proposal.id, proposal.principal, actor, str(exc)))
            return ProposalState.FAILED, f"rollback failed: {exc}"
        self.checkpoint("before rolled back state")
        if self.store.proposal_state(proposal.id) is ProposalState.FAILED:
            self.steps.move(proposal, WorkflowState.ROLLBACK, Event.RESTORED, reason)
        self.store.append_journal(proposal.id, ROLLBACK_STEP, JournalPhase.DONE, {}, self.clock())
        self._mark_rolled_back(proposal)
        self.steps.notify(RolledBack(proposal.id, proposal.principal, actor, reason))
        return self.store.proposal_state(proposal.id), f"rolled back: {reason}"

    def _restore(self, proposal: StoredProposal) -> None:
        canary = self.store.stage(proposal.id, Stage.CANARY)
        if canary is None or canary.previous_state is None:
            return  # nothing was changed before the state was captured
        captured = captured_state(canary)
        for target in self._newest_first(proposal, captured):
            previous = captured[target]
            current = self.iam.principal_state(target)
            changes = restore_changes(target, previous, current)
            if self.steps.apply_all(proposal, "rollback", changes):
                self.steps.account_audit(proposal, target, "rolled back")
        versions: dict[str, str] = canary.previous_state.get("policies") or {}
        self.steps.apply_all(proposal, "rollback", restore_versions(versions, self.iam))
        for arn in self._created_policies(proposal.id):
            self.steps.apply(proposal, "rollback", Change(Op.DELETE_POLICY, arn))

    def _newest_first(self, proposal: StoredProposal, captured: dict[str, JsonDict]) -> list[str]:
        """The targets in the reverse of the order the rollout changed them (the run's order:
        the canary's accounts first); a stored state's keys keep no order."""
        run = latest_run(self.store, proposal.id, proposal.principal, StageSettings())
        order = [t for t in run.targets if t in captured]
        order += sorted(t for t in captured if t not in order)
        return order[::-1]

    def _created_policies(self, proposal_id: str) -> list[str]:
        created = {
            e.payload["target"]: None
            for e in self.store.journal(proposal_id)
            if e.phase is JournalPhase.INTENT and e.payload.get("op") == Op.CREATE_POLICY.value
        }
        return list(created)

    def _mark_rolled_back(self, proposal: StoredProposal) -> None:
        for record in self.store.stages(proposal.id):
            # A failed stage stays `failed` (the metrics count it); the others are undone.
            if record.stage is not Stage.SANDBOX and record.state not in _KEPT_ON_ROLLBACK:
                self.steps.save_stage(replace(record, state=StageState.ROLLED_BACK))

    def pending(self, proposal_id: str) -> bool:
        """A rollback was begun and not finished (a crash came between)."""
        pending = False
        for entry in self.store.journal(proposal_id):
            if entry.step == ROLLBACK_STEP:
                pending = entry.phase is JournalPhase.INTENT
        return pending

    def _intent(self, proposal_id: str) -> tuple[str, Event, str]:
        """Why the rollback was begun, on which event, and by whom."""
        intents = [
            e.payload
            for e in self.store.journal(proposal_id)
            if e.step == ROLLBACK_STEP and e.phase is JournalPhase.INTENT
        ]
        if not intents:
            return "rollback", Event.FAILED, self.steps.actor
        last = intents[-1]
        actor = str(last.get("actor") or self.steps.actor)
        return str(last.get("reason", "")), Event(last.get("event", "failed")), actor


def captured_state(record: StageRecord) -> dict[str, JsonDict]:
    if record.previous_state is None:
        raise RolloutError(f"proposal {record.proposal_id[:12]}: no captured IAM state")
    targets: dict[str, JsonDict] = record.previous_state["targets"]
    return targets
