"""`RolloutService`: the one object the CLI (and later an API) calls for the workflow after a
proposal is stored: approve, reject, expire, run, resume, roll back, status.

Approving and rejecting happen inside one store transaction: read the state, check, move the
state with compare-and-set, record the decision, audit. Of two approvers at once exactly one
moves the state; the other gets a clear error.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta

from alpha.rollout.approvals import (
    ApprovalDecision,
    ApprovalStatus,
    BlockingCheck,
    blocking_violations,
    check_can_decide,
    decide,
)
from alpha.rollout.engine import RolloutEngine, RolloutSettings, RunResult, Sleeper
from alpha.rollout.errors import ConcurrentChangeError
from alpha.rollout.iam_ports import IamChanger, JsonDict, Monitor
from alpha.rollout.leases import (
    DEFAULT_LEASE,
    HeldLeases,
    PrincipalBusyError,
    holder_name,
    principals_lease,
    wall_clock,
)
from alpha.rollout.metrics import Metrics, metrics
from alpha.rollout.notify_ports import Notifier
from alpha.rollout.steps import Clock
from alpha.rollout.targets import target_states
from alpha.rollout.workflow import USER_STATE, Event, next_state, workflow_state
from alpha.store.model import Approval, ProposalState, Stage, StageRecord, StoredProposal
from alpha.store.ports import Store

__all__ = ["ProposalStatus", "RolloutService", "Status"]


@dataclass(frozen=True, slots=True)
class ProposalStatus:
    proposal: StoredProposal
    state: ProposalState
    approval: ApprovalDecision
    stages: tuple[StageRecord, ...]

    def to_dict(self) -> JsonDict:
        latest = self.approval.approval
        return {
            "id": self.proposal.id,
            "short_id": self.proposal.short_id,
            "principal": self.proposal.principal,
            "state": self.state.value,
            "created_at": self.proposal.created_at.isoformat(),
            "created_by": self.proposal.created_by,
            "approval": {
                "status": self.approval.status.value,
                "expires_at": self.approval.expires_at.isoformat(),
                "by": None if latest is None else latest.approver,
                "at": None if latest is None else latest.timestamp.isoformat(),
            },
            "targets": [t.to_dict() for t in target_states(self.proposal, self.state, self.stages)],
            "stages": [
                {
                    "stage": r.stage.value,
                    "state": r.state.value,
                    "started_at": r.started_at.isoformat(),
                    "updated_at": r.updated_at.isoformat(),
                    "metrics": r.metrics,
                }
                for r in self.stages
            ],
        }


@dataclass(frozen=True, slots=True)
class Status:
    proposals: tuple[ProposalStatus, ...]
    metrics: Metrics

    def to_dict(self) -> JsonDict:
        return {
            "proposals": [p.to_dict() for p in self.proposals],
            "metrics": self.metrics.to_dict(),
        }


class RolloutService:
    def __init__(
        self,
        store: Store,
        iam: IamChanger,
        monitor: Monitor,
        clock: Clock,
        settings: RolloutSettings | None = None,
        *,
        sleeper: Sleeper | None = None,
        actor: str = "alpha",
        blocking: BlockingCheck = blocking_violations,
        holder: str | None = None,
        notifier: Notifier | None = None,
        lease_clock: Callable[[], datetime] = wall_clock,
    ) -> None:
        self.store = store
        self.holder = holder or holder_name()
        self.lease_clock = lease_clock  # leases are about processes: wall time, not log time
        self.clock = clock
        self.settings = settings or RolloutSettings()
        self.blocking = blocking
        self.engine = RolloutEngine(
            store,
            iam,
            monitor,
            clock,
            self.settings,
            sleeper=sleeper,
            actor=actor,
            blocking=blocking,
            notifier=notifier,
        )

    # Approvals ---------------------------------------------------------------------------
    def approve(self, proposal_id: str, by: str, comment: str = "") -> Approval:
        return self._decide(proposal_id, by, comment, approve=True)

    def reject(self, proposal_id: str, by: str, comment: str = "") -> Approval:
        return self._decide(proposal_id, by, comment, approve=False)

    def _decide(self, proposal_id: str, by: str, comment: str, *, approve: bool) -> Approval:
        now = self.clock()
        with self.store.transaction():
            proposal = self._find(proposal_id)
            state = self.store.proposal_state(proposal.id)
            latest = decide(
                proposal, self.store.approvals(proposal.id), now, self.settings.approval
            )
            who = check_can_decide(
                proposal,
                state,
                decider=by,
                approve=approve,
                now=now,
                policy=self.settings.approval,
                latest=latest.approval,
                blocking=self.blocking,
            )
            event = Event.APPROVED if approve else Event.REJECTED
            target = USER_STATE[next_state(workflow_state(state), event)]
            assert target is not None
            if not self.store.set_state(proposal.id, target, state):
                raise ConcurrentChangeError(
                    f"proposal {proposal.short_id} changed while deciding; try again"
                )
            approval = Approval(proposal.id, now, approve, who, comment, proposal.id)
            self.store.record_approval(approval)
            self.store.append_audit(
                at=now,
                proposal_id=proposal.id,
                actor=who,
                action="approve" if approve else "reject",
                reason=comment or ("approved" if approve else "rejected"),
                details={"from": state.value, "to": target.value},
            )
        return approval

    def expire(self) -> list[str]:
        """Move every proposal whose wait or approval is older than the expiry to `expired`;
        returns their ids."""
        now = self.clock()
        expired: list[str] = []
        for proposal in self.store.proposals():
            state = self.store.proposal_state(proposal.id)
            if state not in (ProposalState.PROPOSED, ProposalState.APPROVED):
                continue
            decision = decide(
                proposal, self.store.approvals(proposal.id), now, self.settings.approval
            )
            if decision.status is not ApprovalStatus.EXPIRED:
                continue
            if self.store.set_state(proposal.id, ProposalState.EXPIRED, state):
                self.store.append_audit(
                    at=now,
                    proposal_id=proposal.id,
                    actor="alpha",
                    action="expire",
                    reason=f"no decision or rollout by {decision.expires_at.isoformat()}",
                )
                expired.append(proposal.id)
        return expired

    # Rollout -----------------------------------------------------------------------------
    def run(
        self,
        proposal_id: str,
        through: Stage = Stage.PRODUCTION,
        targets: list[str] | None = None,
        *,
        wait: bool = False,
    ) -> RunResult:
        """Start or continue a rollout, holding the principal's lease while it acts."""
        proposal = self._find(proposal_id)
        with self._lease(proposal, wait=wait) as lease:
            return self.engine.run(proposal.id, through, targets, wait=wait, renew=lease.renew)

    def resume(self, *, wait: bool = False) -> list[RunResult]:
        """Continue every rollout left in the middle; one whose principal another process is
        acting on is left to it (its result says so)."""
        results: list[RunResult] = []
        for proposal in self.engine.resumable():
            try:
                with self._lease(proposal, wait=wait) as lease:
                    results.append(self.engine.resume_one(proposal, wait=wait, renew=lease.renew))
            except PrincipalBusyError as exc:
                state = self.store.proposal_state(proposal.id)
                results.append(RunResult(proposal.id, state, None, None, str(exc)))
        return results

    def rollback(self, proposal_id: str, by: str, reason: str = "by hand") -> RunResult:
        proposal = self._find(proposal_id)
        with self._lease(proposal, wait=False):
            return self.engine.rollback(proposal.id, by, reason)

    def _lease(self, proposal: StoredProposal, *, wait: bool) -> AbstractContextManager[HeldLeases]:
        """Renewed before each stage and each poll, so it need only outlast one of them (and
        the sleep between polls): a killed rollout frees the principal soon after."""
        length = DEFAULT_LEASE + (self.settings.poll_interval if wait else timedelta(0))
        return principals_lease(self.store, proposal.targets, self.holder, length, self.lease_clock)

    # Status ------------------------------------------------------------------------------
    def proposal_status(self, proposal_id: str) -> ProposalStatus:
        return self._status_of(self._find(proposal_id), self.clock())

    def status(self) -> Status:
        now = self.clock()
        found = tuple(self._status_of(p, now) for p in self.store.proposals())
        return Status(found, metrics(self.store))

    def _status_of(self, proposal: StoredProposal, now: datetime) -> ProposalStatus:
        approvals = self.store.approvals(proposal.id)
        return ProposalStatus(
            proposal,
            self.store.proposal_state(proposal.id),
            decide(proposal, approvals, now, self.settings.approval),
            tuple(self.store.stages(proposal.id)),
        )

    def _find(self, proposal_id: str) -> StoredProposal:
        found = self.store.proposal(proposal_id)
        return found if found is not None else self.store.find_proposal(proposal_id)
