"""The staged rollout: runs the stages of an approved proposal, journals every step, resumes
after a crash, and rolls back automatically.

Crash safety. Every IAM change is a `Change` journalled as `intent` before it is made and
`done` after; it is applied only when it is not in effect already. After a crash anywhere
(`kill -9`), `resume` replays the journal: a change whose `done` is missing is applied if IAM
does not show it yet, so each reaches IAM exactly once. State moves are compare-and-set on the
store, following the transition table; the principal's state before the first change is
stored write-once in the canary's `StageRecord.previous_state` and is what a rollback restores.

Bake time is log time: a stage's bake period starts when its changes are applied (the injected
clock) and passes when the monitor's logs cover it with no breach. Until then the stage stays
`baking` and `run` returns, unless told to wait: then it polls with the injected sleeper.
`renew` (the caller's lease on the principal, see `alpha.rollout.leases`) is called before each
stage and each poll; it raises to stop the run when the lease is lost.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime

from alpha.policy.org_record import recorded_guardrails
from alpha.rollout.approvals import (
    BlockingCheck,
    blocking_violations,
    require_approved,
)
from alpha.rollout.drift import BASELINE_KEY, ENFORCED_KEY, check_unchanged
from alpha.rollout.errors import ApprovalError, RolloutError
from alpha.rollout.iam_ports import IamChanger, JsonDict, Monitor
from alpha.rollout.notify_ports import Notifier, StageFailed, StagePassed
from alpha.rollout.ordering import check_may_roll_back, check_may_start
from alpha.rollout.rollback import Rollbacks, captured_state
from alpha.rollout.runs import RunRecord, append_run, latest_run, was_started
from alpha.rollout.settings import RolloutSettings
from alpha.rollout.stages import (
    Judgement,
    StageSettings,
    Verdict,
    canary_changes,
    judge_errors,
    judge_sandbox,
    plan_steps,
    production_changes,
    uncanary_changes,
    waves,
)
from alpha.rollout.steps import Checkpoint, Clock, RolloutSteps
from alpha.rollout.workflow import Event, WorkflowState, next_state, workflow_state
from alpha.store.model import (
    ProposalState,
    Stage,
    StageRecord,
    StageState,
    StoredProposal,
)
from alpha.store.ports import Store

__all__ = ["RolloutSettings", "RunResult"]


Sleeper = Callable[[float], None]
Renewal = Callable[[], None]

_STAGE_OF = {
    ProposalState.SANDBOX: Stage.SANDBOX,
    ProposalState.CANARY: Stage.CANARY,
    ProposalState.PRODUCTION: Stage.PRODUCTION,
}
_ORDER = list(Stage)


def _no_checkpoint(_: str) -> None:
    return None


def _no_renewal() -> None:
    return None


@dataclass(frozen=True, slots=True)
class RunResult:
    """Where a proposal's rollout stands after `run`, `resume` or `rollback`."""

    proposal_id: str
    state: ProposalState
    stage: Stage | None
    stage_state: StageState | None
    detail: str

    def to_dict(self) -> JsonDict:
        return {
            "id": self.proposal_id,
            "state": self.state.value,
            "stage": None if self.stage is None else self.stage.value,
            "stage_state": None if self.stage_state is None else self.stage_state.value,
            "detail": self.detail,
        }


class RolloutEngine:
    def __init__(
        self,
        store: Store,
        iam: IamChanger,
        monitor: Monitor,
        clock: Clock,
        settings: RolloutSettings | None = None,
        *,
        sleeper: Sleeper | None = None,
        checkpoint: Checkpoint = _no_checkpoint,
        actor: str = "alpha",
        blocking: BlockingCheck = blocking_violations,
        notifier: Notifier | None = None,
    ) -> None:
        self.store, self.iam, self.monitor, self.clock = store, iam, monitor, clock
        self.settings = settings or RolloutSettings()
        self.sleeper = sleeper
        self.checkpoint = checkpoint
        self.actor = actor
        self.blocking = blocking
        self.steps = RolloutSteps(
            store, iam, clock, checkpoint, actor, notifier=notifier, scope=self.settings.scope
        )
        self.rollbacks = Rollbacks(store, iam, clock, self.steps, checkpoint)

    # Entry points ------------------------------------------------------------------------
    def run(
        self,
        proposal_id: str,
        through: Stage = Stage.PRODUCTION,
        targets: list[str] | None = None,
        *,
        wait: bool = False,
        renew: Renewal = _no_renewal,
    ) -> RunResult:
        """Start (an approved proposal) or continue the rollout, through stage `through`."""
        proposal = self._proposal(proposal_id)
        if self.rollbacks.pending(proposal.id):
            return self._finish_rollback(proposal)
        state = self.store.proposal_state(proposal.id)
        if state is ProposalState.APPROVED:
            check_may_start(self.store, proposal)
            # A fleet proposal's targets are the role in each account, the canary's first.
            chosen = targets or list(proposal.targets)
            for target in chosen:
                self.steps.guard(target)  # refused before the rollout even starts
            self._start(proposal, through, chosen)
        elif state in _STAGE_OF:
            # A rollout keeps the stage settings (bakes, thresholds) it started with.
            self._record_run(
                proposal.id, through, targets or self._targets(proposal), self._stages(proposal)
            )
        else:
            raise RolloutError(
                f"proposal {proposal.short_id} is {state.value}: only an approved proposal, "
                "or one in the middle of its rollout, can be rolled out"
            )
        return self._advance(proposal, wait, renew)

    def resume(self, *, wait: bool = False) -> list[RunResult]:
        """Continue every rollout left in the middle (after a crash, or still baking)."""
        return [self.resume_one(proposal, wait=wait) for proposal in self.resumable()]

    def resumable(self) -> list[StoredProposal]:
        """The proposals a `resume` continues: rollouts and rollbacks left in the middle."""
        return [p for p in self.store.proposals() if self._left_in_the_middle(p)]

    def resume_one(
        self, proposal: StoredProposal, *, wait: bool = False, renew: Renewal = _no_renewal
    ) -> RunResult:
        if self.rollbacks.pending(proposal.id):
            return self._finish_rollback(proposal)
        state = self.store.proposal_state(proposal.id)
        if state in _STAGE_OF:
            return self._advance(proposal, wait, renew)
        return self._restart(proposal, wait, renew)

    def _left_in_the_middle(self, proposal: StoredProposal) -> bool:
        state = self.store.proposal_state(proposal.id)
        return (
            self.rollbacks.pending(proposal.id)
            or state in _STAGE_OF
            or (state is ProposalState.APPROVED and self._was_started(proposal.id))
        )

    def _was_started(self, proposal_id: str) -> bool:
        return was_started(self.store, proposal_id)

    def _restart(self, proposal: StoredProposal, wait: bool, renew: Renewal) -> RunResult:
        """A run that crashed before its first state move: start it again."""
        run = self._latest_run(proposal)
        through, targets = run.through, list(run.targets)
        try:
            self._start(proposal, through, targets, run.stages)
        except ApprovalError as exc:
            state = self.store.proposal_state(proposal.id)
            return self._result(proposal, state, None, None, str(exc))
        return self._advance(proposal, wait, renew)

    def rollback(self, proposal_id: str, actor: str, reason: str = "by hand") -> RunResult:
        """Restore the exact IAM state from before the rollout (a canary, production or
        succeeded proposal), or finish a rollback a crash interrupted."""
        proposal = self._proposal(proposal_id)
        if not self.rollbacks.pending(proposal.id):
            state = self.store.proposal_state(proposal.id)
            next_state(workflow_state(state), Event.ROLLBACK)  # refuses an illegal rollback
            check_may_roll_back(self.store, proposal)
            self._check_left_as_enforced(proposal)
            self.rollbacks.begin(proposal, actor, reason, Event.ROLLBACK)
        return self._finish_rollback(proposal)

    # Starting ----------------------------------------------------------------------------
    def _start(
        self,
        proposal: StoredProposal,
        through: Stage,
        targets: list[str],
        stages: StageSettings | None = None,
    ) -> None:
        now = self.clock()
        approvals = self.store.approvals(proposal.id)
        try:
            approval = require_approved(
                proposal, approvals, now, self.settings.approval, self.blocking
            )
        except ApprovalError:
            if self._expired(proposal, now):
                self.steps.move(proposal, WorkflowState.APPROVED, Event.EXPIRED, "approval expired")
            raise
        self._record_run(proposal.id, through, targets, stages or self.settings.stages)
        self.checkpoint("before start")
        self.steps.move(
            proposal, WorkflowState.APPROVED, Event.STARTED, f"approved by {approval.approver}"
        )

    def _expired(self, proposal: StoredProposal, now: datetime) -> bool:
        from alpha.rollout.approvals import ApprovalStatus, decide

        decision = decide(proposal, self.store.approvals(proposal.id), now, self.settings.approval)
        return decision.status is ApprovalStatus.EXPIRED

    def _record_run(
        self, proposal_id: str, through: Stage, targets: list[str], stages: StageSettings
    ) -> None:
        append_run(
            self.store, proposal_id, RunRecord(through, tuple(targets), stages), self.clock()
        )

    def _latest_run(self, proposal: StoredProposal) -> RunRecord:
        return latest_run(self.store, proposal.id, proposal.principal, self.settings.stages)

    def _stages(self, proposal: StoredProposal) -> StageSettings:
        return self._latest_run(proposal).stages

    def _targets(self, proposal: StoredProposal) -> list[str]:
        return list(self._latest_run(proposal).targets)

    # Advancing ---------------------------------------------------------------------------
    def _advance(self, proposal: StoredProposal, wait: bool, renew: Renewal) -> RunResult:
        run = self._latest_run(proposal)
        through, targets = run.through, list(run.targets)
        deadline = self.clock() + self.settings.max_wait
        while True:
            renew()  # before each stage and each poll: a long bake keeps the principal's lease
            state = self.store.proposal_state(proposal.id)
            stage = _STAGE_OF.get(state)
            if stage is None:
                return self._result(proposal, state, None, None, f"{state.value}")
            record = self.store.stage(proposal.id, stage)
            if record is not None and record.state is StageState.PASSED:
                if stage is Stage.PRODUCTION:
                    self.steps.move(
                        proposal, WorkflowState.PRODUCTION, Event.PASSED, "production baked"
                    )
                    continue
                if _ORDER.index(stage) >= _ORDER.index(through):
                    return self._result(proposal, state, stage, record.state, f"{stage} passed")
                self.steps.move(proposal, workflow_state(state), Event.PASSED, f"{stage} passed")
                continue
            if record is None:
                self._check_before(proposal, stage, targets)
            refused = self._refusal(proposal, stage) if record is None else None
            if refused is not None:
                return self._fail(proposal, stage, Judgement(Verdict.FAILED, refused, {}))
            judgement = self._stage(proposal, stage, targets)
            if judgement.verdict is Verdict.BAKING:
                if wait and self.sleeper is not None and self.clock() < deadline:
                    self.sleeper(self.settings.poll_interval.total_seconds())
                    continue
                return self._result(proposal, state, stage, StageState.BAKING, judgement.detail)
            if judgement.verdict is Verdict.FAILED:
                return self._fail(proposal, stage, judgement)
            self.steps.log(proposal, stage, "stage passed", "passed", metrics=judgement.metrics)
            self.steps.notify(StagePassed(proposal.id, proposal.principal, stage, judgement.detail))

    def _check_before(self, proposal: StoredProposal, stage: Stage, targets: list[str]) -> None:
        """Before a stage changes anything: every target in scope, and each as the stage was
        planned against (`alpha.rollout.drift`); either refusal stops the run, nothing
        changed, the proposal left where it is."""
        if stage is Stage.SANDBOX:
            return
        for target in targets:
            self.steps.guard(target)
        if stage is Stage.CANARY:
            expected = (proposal.plan or {}).get(BASELINE_KEY) or {}
            before = f"proposal {proposal.short_id} was made"
        else:
            canary = self.store.stage(proposal.id, Stage.CANARY)
            expected = {} if canary is None else canary.metrics.get(ENFORCED_KEY) or {}
            before = "its canary"
        for target in targets:
            if target in expected:
                live = self.iam.principal_state(target)
                check_unchanged(target, expected[target], live, before)

    def _check_left_as_enforced(self, proposal: StoredProposal) -> None:
        """A rollback by hand restores the state from before the canary: refused when someone
        changed a principal since the rollout last did (the rollback would undo it too)."""
        for stage in (Stage.PRODUCTION, Stage.CANARY):
            record = self.store.stage(proposal.id, stage)
            enforced = None if record is None else record.metrics.get(ENFORCED_KEY)
            if enforced:
                for target, expected in enforced.items():
                    live = self.iam.principal_state(target)
                    check_unchanged(target, expected, live, f"its {stage.value} changed it")
                return

    def _refusal(self, proposal: StoredProposal, stage: Stage) -> str | None:
        """Why the stage may not begin now: the approval expired, or the guardrails in force
        (stricter, maybe, than at approval) block the proposal. None: it may."""
        from alpha.rollout.approvals import ApprovalStatus, decide

        now = self.clock()
        decision = decide(proposal, self.store.approvals(proposal.id), now, self.settings.approval)
        if decision.status is ApprovalStatus.EXPIRED:
            expired = decision.expires_at.isoformat()
            return f"{stage.value} not started: the approval expired at {expired}"
        blocks = self.blocking(proposal)
        if blocks:
            return (
                f"{stage.value} not started: blocking guardrail violations {', '.join(blocks)} "
                "under the guardrails in force"
            )
        return None

    def _stage(self, proposal: StoredProposal, stage: Stage, targets: list[str]) -> Judgement:
        if stage is Stage.SANDBOX:
            return self._sandbox(proposal, targets)
        if stage is Stage.CANARY:
            return self._canary(proposal, targets)
        return self._production(proposal, targets)

    def _sandbox(self, proposal: StoredProposal, targets: list[str]) -> Judgement:
        record = self.steps.stage_record(proposal, Stage.SANDBOX, None)
        since = record.started_at
        judgement = judge_sandbox(
            self.monitor,
            targets,
            proposal.proposed_policy,
            since,
            self._stages(proposal),
            org=recorded_guardrails(proposal.document),
        )
        self.steps.judged(record, judgement)
        return judgement

    def _canary(self, proposal: StoredProposal, targets: list[str]) -> Judgement:
        settings = self._stages(proposal)
        record = self.steps.stage_record(proposal, Stage.CANARY, targets)
        previous = captured_state(record)
        planned = waves(targets, settings.canary_fraction)
        wave = int(record.metrics.get("wave", 0))
        while True:
            for target in planned[wave]:
                changes = canary_changes(
                    target, previous[target], proposal.id, proposal.document, settings
                )
                if self.steps.apply_all(proposal, f"canary.{wave}", changes):
                    self.steps.account_audit(proposal, target, f"canary wave {wave + 1} applied")
            record = self._enforced(record, planned[wave])
            record = self.steps.baking(record)
            enforced = [t for w in planned[: wave + 1] for t in w]
            since = datetime.fromisoformat(record.metrics["bake_since"])
            judgement = judge_errors(
                self.monitor, enforced, since, settings.bake_of("canary"), settings
            )
            if judgement.verdict is not Verdict.PASSED or wave + 1 >= len(planned):
                self.steps.judged(record, judgement)
                return judgement
            wave += 1
            metrics = {**record.metrics, "wave": wave, f"wave_{wave - 1}": judgement.metrics}
            metrics.pop("bake_since")
            record = self.steps.save_stage(
                replace(record, state=StageState.STARTED, metrics=metrics)
            )

    def _enforced(self, record: StageRecord, wave: list[str]) -> StageRecord:
        """Note the state the canary left each target in: production starts from it."""
        enforced = dict(record.metrics.get(ENFORCED_KEY) or {})
        if all(t in enforced for t in wave):
            return record
        enforced.update({t: self.iam.principal_state(t) for t in wave})
        metrics = {**record.metrics, ENFORCED_KEY: enforced}
        return self.steps.save_stage(replace(record, metrics=metrics))

    def _production(self, proposal: StoredProposal, targets: list[str]) -> Judgement:
        settings = self._stages(proposal)
        canary = self.store.stage(proposal.id, Stage.CANARY)
        if canary is None:
            raise RolloutError(f"proposal {proposal.short_id}: production needs a passed canary")
        previous = captured_state(canary)
        record = self.steps.stage_record(proposal, Stage.PRODUCTION, targets)
        steps = plan_steps(proposal.plan, proposal.document)
        for target in targets:
            changes = production_changes(
                target,
                proposal_id=proposal.id,
                proposal_principal=proposal.principal,
                document=proposal.document,
                plan=steps,
                settings=settings,
            )
            changes += uncanary_changes(target, previous[target], proposal.id, settings)
            if self.steps.apply_all(proposal, "production", changes):
                self.steps.account_audit(proposal, target, "production applied")
        record = self._enforced(record, targets)
        record = self.steps.baking(record)
        since = datetime.fromisoformat(record.metrics["bake_since"])
        judgement = judge_errors(
            self.monitor, targets, since, settings.bake_of("production"), settings
        )
        self.steps.judged(record, judgement)
        return judgement

    # Failing and rolling back ------------------------------------------------------------
    def _fail(self, proposal: StoredProposal, stage: Stage, judgement: Judgement) -> RunResult:
        self.steps.log(proposal, stage, f"stage failed: {judgement.detail}", "failed")
        self.steps.notify(StageFailed(proposal.id, proposal.principal, stage, judgement.detail))
        if stage is Stage.SANDBOX:
            self.steps.move(proposal, WorkflowState.SANDBOX, Event.FAILED, judgement.detail)
            return self._result(
                proposal, ProposalState.FAILED, stage, StageState.FAILED, judgement.detail
            )
        self.rollbacks.begin(proposal, self.actor, judgement.detail)
        return self._finish_rollback(proposal)

    def _finish_rollback(self, proposal: StoredProposal) -> RunResult:
        state, detail = self.rollbacks.finish(proposal)
        return self._result(proposal, state, None, None, detail)

    def _proposal(self, proposal_id: str) -> StoredProposal:
        found = self.store.proposal(proposal_id)
        return found if found is not None else self.store.find_proposal(proposal_id)

    def _result(
        self,
        proposal: StoredProposal,
        state: ProposalState,
        stage: Stage | None,
        stage_state: StageState | None,
        detail: str,
    ) -> RunResult:
        return RunResult(proposal.id, state, stage, stage_state, detail)
