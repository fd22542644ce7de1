"""`Application`: the use cases every interface calls (the command line, the demo, and the web
console, Slack, Lambda and MCP to come). An interface parses its input, calls one method, and
renders what it returns; it never opens a store or picks an adapter itself.

Each call opens what it needs through `Backends` and closes it before returning, so a
long-lived server holds no store open between requests.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from alpha.app.approval_requests import answer_request, pending_request, record_request
from alpha.app.backends import (
    Backends,
    Clock,
    ConfiguredBackends,
    account_copy_name,
    working_copies,
)
from alpha.app.console import Overview, ServiceChange, action_changes, overview
from alpha.app.errors import AppError
from alpha.app.notifying import GuardedNotifier
from alpha.app.options import action_options, check_unchanged
from alpha.app.proposing import (
    Generated,
    GenerateRequest,
    Proposed,
    ProposeResult,
    generate,
    propose,
)
from alpha.app.scanning import ReadProgress, ScanOutcome, ScanRequest, scan
from alpha.app.settings import Settings
from alpha.app.timeline import check_time
from alpha.app.views import diff_view, list_row, show_view
from alpha.errors import AlphaError
from alpha.rollout.approvals import BlockingCheck
from alpha.rollout.engine import RunResult
from alpha.rollout.identity import check_name
from alpha.rollout.notify_ports import ProposalApproved, ProposalCreated, ProposalRejected
from alpha.rollout.service import RolloutService, Status
from alpha.store.model import ProposalState, Stage, StoredProposal
from alpha.store.ports import Store
from alpha.store.summaries import SummaryPage, SummaryQuery, page_summaries

if TYPE_CHECKING:
    from alpha.app.fleet_proposing import FleetRequest, FleetResult
    from alpha.app.monitoring import NotifiedObject, Publishing, PublishReport
    from alpha.rollout.iam_ports import Monitor
    from alpha.rollout.metric_ports import WorkflowEvent
    from alpha.usage.ports import UsageSource, UsageStore

__all__ = ["Application", "Decision", "Exported", "application_for"]

Sleeper = Callable[[float], None]
_CHANGES_KEPT = 32


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
        self.notifier = GuardedNotifier(backends.notifier)
        """Who is told (see `Backends.notifier`); a failure to tell is logged, never raised."""
        self._changes: dict[str, tuple[ServiceChange, ...]] = {}

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
        on_stored: Callable[[Proposed], None] | None = None,
    ) -> ProposeResult:
        """Store the request's proposals; each new one is announced (the notifier, a
        `GenerationSuccess` event) as it is stored and `on_stored` hears of each, whole, then:
        the result holds only their summaries."""
        from alpha.app.workflow_metrics import created_event, failed_event

        events: list[WorkflowEvent] = []

        def stored(item: Proposed) -> None:
            if item.created:
                self.notifier.notify(ProposalCreated.of(item.proposal))
                events.append(created_event(item.proposal, self.backends.clock()()))
            if on_stored is not None:
                on_stored(item)

        result = propose(
            self.backends,
            request,
            by or self.settings.user,
            on_progress,
            check_time=self._check_time,
            on_stored=stored,
        )
        now = self.backends.clock()()
        self._emit([*events, *(failed_event(f, now) for f in result.failures)])
        return result

    def propose_fleet(
        self,
        request: FleetRequest,
        by: str | None = None,
        on_progress: Callable[[str], None] | None = None,
    ) -> FleetResult:
        """One proposal for the same role in several accounts (`alpha.app.fleet_proposing`)."""
        from alpha.app.fleet_proposing import propose_fleet
        from alpha.app.workflow_metrics import created_event, failed_event

        result = propose_fleet(
            self.backends,
            request,
            by or self.settings.user,
            on_progress,
            check_time=self._check_time,
        )
        now = self.backends.clock()()
        events = [failed_event(f, now) for f in result.failures]
        if result.proposed is not None and result.proposed.created:
            self.notifier.notify(ProposalCreated.of(result.proposed.proposal))
            events.append(created_event(result.proposed.proposal, now))
        self._emit(events)
        return result

    # Metrics -----------------------------------------------------------------------------
    def publish_metrics(self, sources: Sequence[str]) -> PublishReport:
        """Publish the `ALPHA/IAM` metrics of every new delivery of these sources."""
        from alpha.app.monitoring import publish_deliveries

        resolved = [self.backends.usage_source(text) for text in sources]
        with self.backends.open_usage_store() as usage:
            return publish_deliveries(resolved, self._publishing(usage))

    def publish_objects(self, objects: Sequence[NotifiedObject]) -> PublishReport:
        """The same for the objects S3 notifications name (the serverless path)."""
        from alpha.app.monitoring import publish_objects

        def reader_for(bucket: str) -> UsageSource:
            return self.backends.usage_source(f"s3://{bucket}")

        with self.backends.open_usage_store() as usage:
            return publish_objects(objects, reader_for, self._publishing(usage))

    def _publishing(self, usage: UsageStore) -> Publishing:
        from alpha.app.monitoring import Publishing

        backends = self.backends
        return Publishing(
            usage, backends.metric_sink(), backends.delivery_ledger(), backends.clock()
        )

    def _emit(self, events: Iterable[WorkflowEvent | None]) -> None:
        found = [e for e in events if e is not None]
        if found:
            with self.backends.open_metric_log() as metric_log:
                for event in found:
                    metric_log.emit(event)

    # Decisions ---------------------------------------------------------------------------
    def approve(
        self,
        proposal_id: str,
        by: str,
        comment: str = "",
        *,
        expected: ProposalState | None = None,
    ) -> Decision:
        """`expected`: the state the decider saw; a proposal that moved since is refused
        (someone else decided meanwhile), in the same transaction as the decision."""
        return self._decide(proposal_id, by, comment, expected, approve=True)

    def reject(
        self,
        proposal_id: str,
        by: str,
        comment: str = "",
        *,
        expected: ProposalState | None = None,
    ) -> Decision:
        return self._decide(proposal_id, by, comment, expected, approve=False)

    def _decide(
        self,
        proposal_id: str,
        by: str,
        comment: str,
        expected: ProposalState | None,
        *,
        approve: bool,
    ) -> Decision:
        with self._service(writes=True) as (store, service):
            with store.transaction():
                if expected is not None:
                    check_unchanged(store, proposal_id, expected)
                decide = service.approve if approve else service.reject
                approval = decide(proposal_id, by, comment)
                state = store.proposal_state(approval.proposal_id)
            decided = store.proposal(approval.proposal_id)
            assert decided is not None  # it was just decided
            from alpha.app.workflow_metrics import approval_event

            approvals = store.approvals(decided.id)
            self._emit([approval_event(decided, approvals, approval)])
            told = ProposalApproved if approval.approved else ProposalRejected
            self.notifier.notify(
                told(decided.id, decided.principal, approval.approver, approval.timestamp, comment)
            )
            # After the decision is stored: a failure to answer says it was recorded.
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
        with self._service(watch=True, writes=True) as (store, service):
            before = _state_of(store, proposal_id)
            result = service.run(proposal_id, through, wait=wait)
            self._emit_ends(store, before, [result])
            return result

    def resume(self, *, wait: bool = False) -> list[RunResult]:
        """Every rollout left in the middle (after a crash, or still baking), continued."""
        with self._service(watch=True, writes=True) as (store, service):
            before = _states(store)
            results = service.resume(wait=wait)
            self._emit_ends(store, before, results)
            return results

    def roll_back(self, proposal_id: str, by: str, reason: str = "by hand") -> RunResult:
        who = check_name(by, "name of who rolls back")
        with self._service(writes=True) as (store, service):
            before = _state_of(store, proposal_id)
            result = service.rollback(proposal_id, who, reason)
            self._emit_ends(store, before, [result])
            return result

    def _emit_ends(
        self, store: Store, before: dict[str, ProposalState], results: Sequence[RunResult]
    ) -> None:
        """A `RolloutFailure` for each rollout these results ended."""
        from alpha.app.workflow_metrics import rollout_event

        now = self.backends.clock()()
        events = []
        for result in results:
            proposal = store.proposal(result.proposal_id)
            was = before.get(result.proposal_id, ProposalState.PROPOSED)
            if proposal is not None:
                events.append(rollout_event(proposal, was, result, now))
        self._emit(events)

    # Notifications -----------------------------------------------------------------------
    def flush_notifications(self) -> int:
        """Deliver the notifications still waiting, as far as the destination lets now; how
        many still wait."""
        return self.notifier.flush()

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

    def summaries(self, query: SummaryQuery) -> SummaryPage:
        """A page of proposal summaries, newest first (cheap on a store that can page)."""
        with self.backends.open_store() as store:
            return page_summaries(store, query)

    def overview(self) -> Overview:
        """The status page: the metrics, privilege removed over time, the rollouts' checks."""
        with self.backends.open_store() as store:
            return overview(store, self.settings.rollout_settings().stages)

    def action_changes(self, proposal: StoredProposal) -> tuple[ServiceChange, ...]:
        """Kept for the latest few proposals: an id is its content's hash, so they never
        change, and a proposal removing every AWS action takes a while to group."""
        found = self._changes.pop(proposal.id, None)
        if found is None:
            found = action_changes(proposal.document, self.backends.catalog())
        self._changes[proposal.id] = found  # most recently used last
        while len(self._changes) > _CHANGES_KEPT:
            del self._changes[next(iter(self._changes))]
        return found

    def options(self, proposal_id: str, user: str) -> dict[str, str | None]:
        """What `user` may do with the proposal now: for `approve`, `reject`, `roll_out` and
        `roll_back`, None when it would be taken, else why it would be refused."""
        with self._service() as (store, service):
            status = service.proposal_status(proposal_id)
            return action_options(
                status,
                store.approvals(status.proposal.id),
                user,
                now=self.backends.clock()(),
                policy=self.settings.rollout_settings().approval,
                blocking=self._guardrails_in_force(),
            )

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
            self.backends.open_monitor(watch=watch) as opened,
        ):
            if writes:
                self._check_time(store, self.backends.clock()())
            yield (
                store,
                RolloutService(
                    store,
                    self.backends.iam_changer(store),
                    self._measured(opened, store) if watch else opened,
                    self.backends.clock(),
                    self.settings.rollout_settings(),
                    sleeper=self._sleeper,
                    actor="alpha",
                    blocking=self._guardrails_in_force(),
                    notifier=self.notifier,
                ),
            )

    def _measured(self, monitor: Monitor, store: Store) -> Monitor:
        """The hook that publishes what bakes measured (`MeasuredMonitor`), around whichever
        monitor the settings chose, when the backends say this rollout's bakes are published
        (a rollout to a live account)."""
        from alpha.app.monitoring import MeasuredMonitor

        sink = self.backends.bake_metrics(store)
        return monitor if sink is None else MeasuredMonitor(monitor, sink)

    def _check_time(self, store: Store, now: datetime) -> None:
        check_time(store, now, self.settings)

    def _guardrails_in_force(self) -> BlockingCheck:
        """What blocks a proposal, derived again from its policy under the guardrails configured
        now: a proposal stored under laxer guardrails is held to the current ones."""
        from alpha.guardrails.check import blocking_codes

        catalog, config = self.backends.catalog(), self.backends.guardrails()
        return lambda proposal: blocking_codes(proposal.proposed_policy, catalog, config)


def _states(store: Store) -> dict[str, ProposalState]:
    """Every proposal's state now, to tell which rollouts a run ends."""
    return {p.id: store.proposal_state(p.id) for p in store.proposals()}


def _state_of(store: Store, proposal_id: str) -> dict[str, ProposalState]:
    """The state of the proposal an id or prefix names; nothing when it names none (the
    rollout then says so itself)."""
    try:
        found = store.proposal(proposal_id) or store.find_proposal(proposal_id)
    except AlphaError:
        return {}
    return {found.id: store.proposal_state(found.id)}


def application_for(
    settings: Settings,
    env: Mapping[str, str],
    *,
    clock: Clock | None = None,
    sleeper: Sleeper | None = None,
) -> Application:
    """The application over the adapters the settings choose."""
    return Application(settings, ConfiguredBackends(settings, env, clock=clock), sleeper=sleeper)
