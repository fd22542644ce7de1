from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from alpha.rollout.approvals import ApprovalPolicy, ApprovalStatus, decide, require_approved
from alpha.rollout.engine import RolloutSettings
from alpha.rollout.errors import ApprovalError, IllegalTransitionError, RolloutError
from alpha.rollout.service import RolloutService
from alpha.store.model import Approval, ProposalState
from tests.fakes.scripted_monitor import ScriptedMonitor
from tests.rollout.factories import PROPOSED, T0, Clock, proposal, setup


def service(policy: ApprovalPolicy | None = None, clock: Clock | None = None) -> RolloutService:
    store, iam = setup()
    settings = RolloutSettings(approval=policy or ApprovalPolicy())
    return RolloutService(store, iam, ScriptedMonitor(), clock or Clock(), settings)


def stored(svc: RolloutService, **kwargs: Any) -> str:
    made = proposal(**kwargs)
    svc.store.save_proposal(made)
    return made.id


def test_approve_moves_to_approved_and_records_the_decision() -> None:
    svc = service()
    pid = stored(svc)
    approval = svc.approve(pid[:8], "alice", "looks right")
    assert svc.store.proposal_state(pid) is ProposalState.APPROVED
    assert approval.proposal_hash == pid
    assert svc.store.latest_approval(pid) == approval
    assert [e.action for e in svc.store.audit(pid)] == ["approve"]


def test_reject_then_a_later_approval_wins() -> None:
    svc = service()
    pid = stored(svc)
    svc.reject(pid, "bob", "too broad")
    assert svc.store.proposal_state(pid) is ProposalState.REJECTED
    svc.approve(pid, "alice")
    assert svc.store.proposal_state(pid) is ProposalState.APPROVED


def test_approving_twice_is_refused() -> None:
    svc = service()
    pid = stored(svc)
    svc.approve(pid, "alice")
    with pytest.raises(IllegalTransitionError, match="Approved"):
        svc.approve(pid, "carol")


def test_an_approval_binds_to_the_content_hash() -> None:
    original = proposal()
    changed = proposal(policy={**PROPOSED, "Id": "changed"})
    assert changed.id != original.id
    approvals = [Approval(original.id, T0, True, "alice")]
    assert decide(changed, approvals, T0, ApprovalPolicy()).status is ApprovalStatus.PENDING
    with pytest.raises(ApprovalError, match="not approved yet"):
        require_approved(changed, approvals, T0, ApprovalPolicy())
    forged = [Approval(original.id, T0, True, "alice", proposal_hash="0" * 64)]
    assert decide(original, forged, T0, ApprovalPolicy()).status is ApprovalStatus.PENDING


def test_separation_of_duties_on_by_default() -> None:
    svc = service()
    pid = stored(svc, by="mallory")
    with pytest.raises(ApprovalError, match="separation of duties"):
        svc.approve(pid, "mallory")
    svc.reject(pid, "mallory", "withdrawn")  # rejecting your own is fine
    assert svc.store.proposal_state(pid) is ProposalState.REJECTED


def test_separation_of_duties_can_be_turned_off() -> None:
    svc = service(ApprovalPolicy(separation_of_duties=False))
    pid = stored(svc, by="mallory")
    svc.approve(pid, "mallory")
    assert svc.store.proposal_state(pid) is ProposalState.APPROVED


def test_allowlist() -> None:
    svc = service(ApprovalPolicy(approvers=frozenset({"alice"})))
    pid = stored(svc)
    with pytest.raises(ApprovalError, match="'eve' is not an allowed approver"):
        svc.approve(pid, "eve")
    assert svc.store.proposal_state(pid) is ProposalState.PROPOSED
    assert svc.store.approvals(pid) == []
    svc.approve(pid, "alice")


def test_blocking_guardrail_violation_prevents_approval() -> None:
    svc = service()
    pid = stored(svc, blocks=True)
    with pytest.raises(ApprovalError, match="blocking guardrail violations PASS_ROLE"):
        svc.approve(pid, "alice")
    svc.reject(pid, "alice")


def test_a_waiting_proposal_expires() -> None:
    clock = Clock()
    svc = service(ApprovalPolicy(expiry=timedelta(days=2)), clock)
    pid = stored(svc)
    clock.advance(timedelta(days=2))
    with pytest.raises(ApprovalError, match="expired at 2024-05-03T10:00:00Z"):
        svc.approve(pid, "alice")
    assert svc.expire() == [pid]
    assert svc.store.proposal_state(pid) is ProposalState.EXPIRED


def test_an_old_approval_expires_before_the_rollout() -> None:
    clock = Clock()
    svc = service(ApprovalPolicy(expiry=timedelta(hours=1)), clock)
    pid = stored(svc)
    svc.approve(pid, "alice")
    clock.advance(timedelta(minutes=59))
    found = svc.store.proposal(pid)
    assert found is not None
    policy = ApprovalPolicy(timedelta(hours=1))
    assert (
        decide(found, svc.store.approvals(pid), clock(), policy).status is ApprovalStatus.APPROVED
    )
    clock.advance(timedelta(minutes=1))
    with pytest.raises(ApprovalError, match="expired"):
        svc.run(pid)
    assert svc.store.proposal_state(pid) is ProposalState.EXPIRED


def test_a_rollout_needs_an_approval() -> None:
    svc = service()
    pid = stored(svc)
    with pytest.raises(RolloutError, match="is proposed"):
        svc.run(pid)


def test_concurrent_approvals_exactly_one_wins_sqlite(tmp_path: Path) -> None:
    from alpha.adapters.local.sqlite_store import SQLiteStore
    from alpha.adapters.local.working_copy_iam import WorkingCopyIam

    path = tmp_path / "alpha.db"
    made = proposal()
    with_store = SQLiteStore(path)
    with_store.save_proposal(made)
    outcomes: list[str] = []
    barrier = threading.Barrier(2)

    def approve(who: str) -> None:
        store = SQLiteStore(path)  # its own connection, as a second process would have
        svc = RolloutService(store, WorkingCopyIam(store, []), ScriptedMonitor(), Clock())
        barrier.wait()
        try:
            svc.approve(made.id, who)
            outcomes.append("won")
        except RolloutError as exc:
            outcomes.append(type(exc).__name__)
        finally:
            store.close()

    threads = [threading.Thread(target=approve, args=(who,)) for who in ("alice", "bob")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["IllegalTransitionError", "won"]
    assert len(with_store.approvals(made.id)) == 1
    assert with_store.proposal_state(made.id) is ProposalState.APPROVED
    assert [e.action for e in with_store.audit(made.id)] == ["approve"]
    with_store.close()
