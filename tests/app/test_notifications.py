"""What the application tells the notifier, over `MemoryBackends`: each new proposal once, each
decision with who made it, each rollout stage and the rollback, in the order they happened."""

from __future__ import annotations

from datetime import timedelta

import pytest

from alpha.app import Application, GenerateRequest
from alpha.demo.sample import ROLLOUT_AT
from alpha.errors import AlphaError
from alpha.rollout.errors import ApprovalError
from alpha.rollout.notify_ports import (
    NotifyEvent,
    ProposalApproved,
    ProposalCreated,
    ProposalRejected,
    RolledBack,
    StagePassed,
)
from alpha.store.model import Stage
from tests.app.conftest import ACCOUNT, APPROVER, LOGS, PROPOSER
from tests.fakes.memory_backends import MemoryBackends


def _created(backends: MemoryBackends) -> dict[str, ProposalCreated]:
    return {
        e.principal.rpartition("/")[2]: e
        for e in backends.notified.delivered
        if isinstance(e, ProposalCreated)
    }


def test_each_new_proposal_is_told_once_with_what_an_approver_needs(
    app: Application, backends: MemoryBackends
) -> None:
    app.propose(GenerateRequest(ACCOUNT, (LOGS,)), by=PROPOSER)
    app.propose(GenerateRequest(ACCOUNT, (LOGS,)), by=PROPOSER)  # the same content again
    created = _created(backends)
    assert sorted(created) == ["ci-deployer", "orders-api"]  # report-builder's reasoner failed
    assert len(backends.notified.delivered) == 2
    orders, ci = created["orders-api"], created["ci-deployer"]
    assert orders.proposed_by == PROPOSER
    assert orders.privilege_reduction is not None
    assert 0 < orders.privilege_reduction <= 1
    assert orders.risk_of_break is not None
    assert orders.granted
    assert orders.granted_count >= len(orders.granted)
    assert orders.removed_count >= len(orders.removed) > 0
    assert not orders.blocked
    assert ci.blocked
    assert any(f.code == "PRIVILEGE_ESCALATION" for f in ci.findings)


def test_decisions_stages_and_rollback_are_told_in_order(
    app: Application, backends: MemoryBackends
) -> None:
    app.propose(GenerateRequest(ACCOUNT, (LOGS,)), by=PROPOSER)
    orders = _created(backends)["orders-api"].proposal_id
    with pytest.raises(ApprovalError):
        app.approve(orders, PROPOSER)  # refused: nothing to tell
    app.approve(orders, APPROVER, "looks right")
    app.roll_out(orders, Stage.SANDBOX)
    backends.monitor.covered = ROLLOUT_AT + timedelta(days=1)
    backends.set_clock.at = ROLLOUT_AT + timedelta(hours=2)
    app.roll_out(orders, Stage.CANARY)
    app.roll_back(orders, APPROVER, "changed my mind")
    told = [e for e in backends.notified.delivered if e.proposal_id == orders]
    assert [type(e).__name__ for e in told] == [
        "ProposalCreated",
        "ProposalApproved",
        "StageStarted",
        "StagePassed",
        "StageStarted",
        "StagePassed",
        "RolledBack",
    ]
    approved = told[1]
    assert isinstance(approved, ProposalApproved)
    assert (approved.by, approved.comment) == (APPROVER, "looks right")
    assert [e.stage for e in told if isinstance(e, StagePassed)] == [Stage.SANDBOX, Stage.CANARY]
    back = told[-1]
    assert isinstance(back, RolledBack)
    assert (back.by, back.reason) == (APPROVER, "changed my mind")


def test_a_rejection_is_told_with_its_comment(app: Application, backends: MemoryBackends) -> None:
    app.propose(GenerateRequest(ACCOUNT, (LOGS,)), by=PROPOSER)
    ci = _created(backends)["ci-deployer"].proposal_id
    app.reject(ci, APPROVER, "escalation path")
    last = backends.notified.delivered[-1]
    assert isinstance(last, ProposalRejected)
    assert (last.proposal_id, last.by, last.comment) == (ci, APPROVER, "escalation path")


class _BrokenNotifier:
    def notify(self, event: NotifyEvent) -> None:
        raise AlphaError("the outbox's disk is full")

    def flush(self) -> int:
        return 0


def test_a_notifier_that_cannot_queue_never_fails_the_decision(
    app: Application, backends: MemoryBackends, caplog: pytest.LogCaptureFixture
) -> None:
    app.propose(GenerateRequest(ACCOUNT, (LOGS,)), by=PROPOSER)
    orders = _created(backends)["orders-api"].proposal_id
    backends.notified = _BrokenNotifier()  # type: ignore[assignment]
    fresh = Application(app.settings, backends)
    assert fresh.approve(orders, APPROVER).by == APPROVER
    assert "disk is full" in caplog.text
