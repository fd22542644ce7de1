"""`Application`: the use cases every interface calls (the command line, the demo, and the web
console, Slack, Lambda and MCP to come). An interface parses its input, calls one method, and
renders what it returns; it never opens a store or picks an adapter itself.

Each call opens what it needs through `Backends` and closes it before returning, so a
long-lived server holds no store open between requests.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from alpha.app.approval_requests import answer_request, pending_request, record_request
from alpha.app.backends import (
    Backends,
    Clock,
    ConfiguredBackends,
    account_copy_name,
    working_copies,
)
from alpha.app.errors import AppError
from alpha.app.proposing import (
    Generated,
    GenerateRequest,
    ProposeResult,
    generate,
    propose,
)
from alpha.app.scanning import ReadProgress, ScanOutcome, ScanRequest, scan
from alpha.app.settings import Settings
from alpha.app.timeline import check_time
from alpha.app.views import diff_view, list_row, show_view
from alpha.rollout.approvals import BlockingCheck
from alpha.rollout.engine import RunResult
from alpha.rollout.identity import check_name
from alpha.rollout.service import RolloutService, Status
from alpha.store.model import ProposalState, Stage, StoredProposal
from alpha.store.ports import Store

__all__ = ["Application", "Decision", "Exported", "application_for"]

Sleeper = Callable[[float], None]


@dataclass(frozen=True, slots=True)
class Decision:
    """An approval or rejection as recorded, and the state it moved the proposal to."""

    proposal_id: str
    approved: bool
    by: str
    at: datetime
    comments: str
    state: ProposalState
    answered_execution: str | None = None  # the Step Functions execution it let go on

    def to_dict(self) -> dict[str, Any]:
        answered = {"answered_execution": self.answered_execution}
        return {
            "id": self.proposal_id,
            "approved": self.approved,
            "by": self.by,
            "at": self.at.isoformat(),
            "comments": self.comments,
            "state": self.state.value,
            **(answered if self.answered_execution else {}),
        }


@dataclass(frozen=True, slots=True)
class Exported:
    """A working copy of an account, as rollouts left it, as authorization-details JSON."""

    name: str
    document: dict[str, Any]


class Application:
    def __init__(
        self, settings: Settings, backends: Backends, *, sleeper: Sleeper | None = None
    ) -> None:
        self.settings = settings
        self.backends = backends
        self._sleeper = sleeper

    # From usage --------------------------------------------------------------------------
    def scan(
        self,
        request: ScanRequest,
        on_start: ReadProgress | None = None,
        on_progress: ReadProgress | None = None,
    ) -> ScanOutcome:
        return scan(self.backends, request, on_start, on_progress)

    def generate(
        self, request: GenerateRequest, on_progress: Callable[[str], None] | None = None
    ) -> Generated:
        return generate(self.backends, request, on_progress)

    def propose(
        self,
        request: GenerateRequest,
        by: str | None = None,
        on_progress: Callable[[str], None] | None = None,
    ) -> ProposeResult:
        return propose(
            self.backends,
            request,
            by or self.settings.user,
            on_progress,
            check_time=self._check_time,
        )

    # Decisions ---------------------------------------------------------------------------
    def approve(self, proposal_id: str, by: str, comment: str = "") -> Decision:
        return self._decide(proposal_id, by, comment, approve=True)

    def reject(self, proposal_id: str, by: str, comment: str = "") -> Decision:
        return self._decide(proposal_id, by, comment, approve=False)

    def _decide(self, proposal_id: str, by: str, comment: str, *, approve: bool) -> Decision:
        with self._service(writes=True) as (store, service):
            decide = service.approve if approve else service.reject
            approval = decide(proposal_id, by, comment)
            state = store.proposal_state(approval.proposal_id)
            answered = self._answer_execution(store, approval.proposal_id, state, by)
        return Decision(
            approval.proposal_id,
            approval.approved,
            approval.approver,
            approval.timestamp,
            approval.comments,
            state,
            answered,
        )

    def _answer_execution(
        self, store: Store, proposal_id: str, state: ProposalState, by: str
    ) -> str | None:
        """Let a Step Functions execution waiting for this decision go on (or end)."""
        request = pending_request(store, proposal_id)
        if request is None:
            return None
        callbacks = self.backends.workflow_callbacks()
        return answer_request(store, callbacks, request, state, by=by, now=self.backends.clock()())

    def record_approval_request(self, proposal_id: str, token: str, execution: str) -> str:
        """Keep the task token of an execution waiting for the decision; the full id."""
        with self.backends.open_store() as store:
            found = store.proposal(proposal_id) or store.find_proposal(proposal_id)
            record_request(store, found.id, token, execution, self.backends.clock()())
            return found.id

    # Rollout -----------------------------------------------------------------------------
    def roll_out(
        self, proposal_id: str, through: Stage = Stage.PRODUCTION, *, wait: bool = False
    ) -> RunResult:
        with self._service(watch=True, writes=True) as (_, service):
            return service.run(proposal_id, through, wait=wait)

    def resume(self, *, wait: bool = False) -> list[RunResult]:
        """Every rollout left in the middle (after a crash, or still baking), continued."""
        with self._service(watch=True, writes=True) as (_, service):
            return service.resume(wait=wait)

    def roll_back(self, proposal_id: str, by: str, reason: str = "by hand") -> RunResult:
        who = check_name(by, "name of who rolls back")
        with self._service(writes=True) as (_, service):
            return service.rollback(proposal_id, who, reason)

    # Reading -----------------------------------------------------------------------------
    def status(self) -> Status:
        with self._service() as (_, service):
            return service.status()

    def list_proposals(self, state: ProposalState | None = None) -> list[dict[str, Any]]:
        rows = [list_row(p) for p in self.status().proposals]
        return [r for r in rows if state is None or r["state"] == state.value]

    def show(self, proposal_id: str) -> tuple[StoredProposal, dict[str, Any]]:
        """The proposal, and everything about it: risk, findings, approvals, stages, audit."""
        with self._service() as (store, service):
            status = service.proposal_status(proposal_id)
            found = status.proposal
            return found, show_view(status, store.approvals(found.id), store.audit(found.id))

    def proposal(self, proposal_id: str) -> StoredProposal:
        """By full id or a unique prefix."""
        with self.backends.open_store() as store:
            return store.proposal(proposal_id) or store.find_proposal(proposal_id)

    def diff(self, proposal_id: str) -> tuple[StoredProposal, dict[str, Any]]:
        found = self.proposal(proposal_id)
        return found, diff_view(found)

    def export_account(self, account_id: str | None = None) -> Exported:
        """The store's working copy of the account (the only one, or `account_id`'s)."""
        from alpha.adapters.local.working_copy_iam import export_account_copy

        with self.backends.open_store() as store:
            names = [account_copy_name(account_id)] if account_id else working_copies(store)
            if len(names) != 1:
                found = ", ".join(n.removeprefix("account-") for n in names) or "none"
                raise AppError(f"give --account-id: the store has accounts {found}")
            return Exported(names[0], export_account_copy(store, names[0]))

    # Wiring ------------------------------------------------------------------------------
    @contextmanager
    def _service(
        self, *, watch: bool = False, writes: bool = False
    ) -> Iterator[tuple[Store, RolloutService]]:
        with (
            self.backends.open_store() as store,
            self.backends.open_monitor(watch=watch) as monitor,
        ):
            if writes:
                self._check_time(store, self.backends.clock()())
            yield (
                store,
                RolloutService(
                    store,
                    self.backends.iam_changer(store),
                    monitor,
                    self.backends.clock(),
                    self.settings.rollout_settings(),
                    sleeper=self._sleeper,
                    actor="alpha",
                    blocking=self._guardrails_in_force(),
                ),
            )

    def _check_time(self, store: Store, now: datetime) -> None:
        check_time(store, now, self.settings)

    def _guardrails_in_force(self) -> BlockingCheck:
        """What blocks a proposal, derived again from its policy under the guardrails configured
        now: a proposal stored under laxer guardrails is held to the current ones."""
        from alpha.guardrails.check import blocking_codes

        catalog, config = self.backends.catalog(), self.backends.guardrails()
        return lambda proposal: blocking_codes(proposal.proposed_policy, catalog, config)


def application_for(
    settings: Settings,
    env: Mapping[str, str],
    *,
    clock: Clock | None = None,
    sleeper: Sleeper | None = None,
) -> Application:
    """The application over the adapters the settings choose."""
    return Application(settings, ConfiguredBackends(settings, env, clock=clock), sleeper=sleeper)
