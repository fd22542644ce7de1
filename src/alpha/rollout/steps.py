"""What every step of a rollout does the same way, for `RolloutEngine`: IAM changes journalled
`intent` then `done` and applied only when not in effect (so each reaches IAM exactly once, even
across a crash), stage records saved and read back, compare-and-set state moves along the
workflow's transition table, and the audit trail and JSON logs of each."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Any

from alpha.rollout.changes import POLICY_OPS, Change
from alpha.rollout.errors import ConcurrentChangeError
from alpha.rollout.iam_ports import IamChanger, JsonDict
from alpha.rollout.logs import LOGGER_NAME, step_fields
from alpha.rollout.notify_ports import Notifier, NotifyEvent, SilentNotifier, StageStarted
from alpha.rollout.scope import PrincipalScope
from alpha.rollout.stages import Judgement, Verdict
from alpha.rollout.workflow import USER_STATE, Event, WorkflowState, next_state
from alpha.store.model import JournalPhase, Stage, StageRecord, StageState, StoredProposal
from alpha.store.ports import Store

ACCOUNT_STEP = "account.changed"
"""The audit action of one account's step in a fleet rollout."""

MAX_CHECKS = 200
"""The checks of one stage's bake kept in its metrics (the latest)."""

# The engine's logger: step records keep the name they always had.
log = logging.getLogger(f"{LOGGER_NAME}.engine")

Clock = Callable[[], datetime]
Checkpoint = Callable[[str], None]


class RolloutSteps:
    """The journalled, audited steps of one engine's rollouts."""

    def __init__(
        self,
        store: Store,
        iam: IamChanger,
        clock: Clock,
        checkpoint: Checkpoint,
        actor: str,
        *,
        notifier: Notifier | None = None,
        scope: PrincipalScope | None = None,
    ) -> None:
        self.store, self.iam, self.clock = store, iam, clock
        self.checkpoint = checkpoint
        self.actor = actor
        self.notifier = notifier or SilentNotifier()
        self.scope = scope or PrincipalScope()
        self._allowed: set[str] = set()

    # Scope -------------------------------------------------------------------------------
    def guard(self, principal: str) -> None:
        """`OutOfScopeError` unless the scope lets the principal be changed (checked once
        per principal for the engine's life: a command's worth)."""
        if principal in self._allowed:
            return
        full = self.iam.principal_state(principal)["principal"]  # with its path
        tags = self.iam.principal_tags(principal) if self.scope.needs_tags else {}
        self.scope.check(full, tags)
        self._allowed.add(principal)

    # Stage records -----------------------------------------------------------------------
    def stage_record(
        self, proposal: StoredProposal, stage: Stage, capture: list[str] | None
    ) -> StageRecord:
        found = self.store.stage(proposal.id, stage)
        if found is not None:
            return found
        now = self.clock()
        previous = None
        if capture is not None:
            # Captured before this stage changes anything; write-once in the store.
            targets = {t: self.iam.principal_state(t) for t in capture}
            previous = {"targets": targets, "policies": self._default_versions(targets)}
        record = StageRecord(proposal.id, stage, StageState.STARTED, now, now, previous, {})
        self.checkpoint(f"before {stage} record")
        self.log(proposal, stage, "stage started", "started")
        saved = self.save_stage(record)
        self.notify(StageStarted(proposal.id, proposal.principal, stage))
        return saved

    def _default_versions(self, states: dict[str, JsonDict]) -> dict[str, str]:
        """The default version of each customer-managed policy the principals have, so a
        rollback can set it back after the rollout made a new one."""
        found: dict[str, str] = {}
        for state in states.values():
            for arn in state["attached"]:
                if ":aws:policy/" not in arn and arn not in found:
                    version = self.iam.managed_policy_version(arn)
                    if version is not None:
                        found[arn] = version
        return found

    def baking(self, record: StageRecord) -> StageRecord:
        if "bake_since" in record.metrics:
            return record
        now = self.clock()
        metrics = {**record.metrics, "bake_since": now.isoformat()}
        return self.save_stage(replace(record, state=StageState.BAKING, metrics=metrics))

    def judged(self, record: StageRecord, judgement: Judgement) -> None:
        states = {
            Verdict.PASSED: StageState.PASSED,
            Verdict.FAILED: StageState.FAILED,
            Verdict.BAKING: StageState.BAKING,
        }
        metrics = {**record.metrics, "last": judgement.metrics, "detail": judgement.detail}
        # Every check of the bake, bounded, so the console can draw IAMErrorRate over time.
        check = {"at": self.clock().isoformat(), **judgement.metrics}
        metrics["checks"] = [*record.metrics.get("checks", [])[-(MAX_CHECKS - 1) :], check]
        if "bake_since" not in metrics:
            metrics["bake_since"] = record.started_at.isoformat()
        self.save_stage(replace(record, state=states[judgement.verdict], metrics=metrics))

    def save_stage(self, record: StageRecord) -> StageRecord:
        record = replace(record, updated_at=self.clock())
        self.store.save_stage(record)
        saved = self.store.stage(record.proposal_id, record.stage)
        assert saved is not None
        return saved

    # Changes -----------------------------------------------------------------------------
    def apply_all(self, proposal: StoredProposal, label: str, changes: list[Change]) -> int:
        """How many of the changes were done by this call (not already journalled done)."""
        return sum(self.apply(proposal, label, change) for change in changes)

    def apply(self, proposal: StoredProposal, label: str, change: Change) -> bool:
        """False when the journal says the change was done before (a resumed run)."""
        key = f"{label}:{change.key}"
        entries = [e for e in self.store.journal(proposal.id) if e.step == key]
        if any(e.phase is JournalPhase.DONE for e in entries):
            return False
        if change.op not in POLICY_OPS:
            self.guard(change.target)
        payload: JsonDict = {"op": change.op.value, "target": change.target, "name": change.name}
        if not entries:
            self.store.append_journal(proposal.id, key, JournalPhase.INTENT, payload, self.clock())
        self.checkpoint(f"before {key}")
        applied = not change.in_effect(self.iam)
        if applied:
            change.apply(self.iam)
        self.checkpoint(f"after {key}")
        self.store.append_journal(proposal.id, key, JournalPhase.DONE, payload, self.clock())
        outcome = "applied" if applied else "already in effect"
        self.log(proposal, None, f"{change.describe()}: {outcome}", outcome, step=key)
        return True

    def notify(self, event: NotifyEvent) -> None:
        """Tell people, after the step is stored (a notifier never holds the rollout up)."""
        self.notifier.notify(event)

    # State moves, logs, audit ------------------------------------------------------------
    def move(
        self, proposal: StoredProposal, source: WorkflowState, event: Event, reason: str
    ) -> None:
        target = next_state(source, event)
        old, new = USER_STATE[source], USER_STATE[target]
        if old is None or new is None:
            raise AssertionError(f"{source} -> {target} is not a stored state")
        if old is not new:
            self.checkpoint(f"before state {new.value}")
            if not self.store.set_state(proposal.id, new, old):
                found = self.store.proposal_state(proposal.id)
                raise ConcurrentChangeError(
                    f"proposal {proposal.short_id} is {found.value}, not {old.value}: "
                    "another process changed it first"
                )
        self.audit(proposal, f"{source.value}->{target.value}", reason, event=event.value)
        self.log(proposal, None, f"{source.value} -> {target.value} on {event.value}", event.value)

    def account_audit(self, proposal: StoredProposal, target: str, what: str) -> None:
        """A fleet rollout's audit names the account each step changed (`alpha status` and
        the audit log show per-account state)."""
        if len(proposal.targets) > 1:
            account = target.split(":")[4]
            reason = f"{what} in account {account} ({target})"
            self.audit(proposal, ACCOUNT_STEP, reason, account=account, principal=target, step=what)

    def audit(self, proposal: StoredProposal, action: str, reason: str, **details: str) -> None:
        self.store.append_audit(
            at=self.clock(),
            proposal_id=proposal.id,
            actor=self.actor,
            action=action,
            reason=reason,
            details=dict(details),
        )

    def log(
        self,
        proposal: StoredProposal,
        stage: Stage | None,
        message: str,
        outcome: str,
        **more: Any,
    ) -> None:
        fields = step_fields(
            proposal.id,
            proposal.principal,
            None if stage is None else stage.value,
            outcome=outcome,
            **more,
        )
        log.info("%s: %s", proposal.short_id, message, extra=fields)
