"""One rollout of a principal at a time: the principal's lease in the store."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from alpha.adapters.local.sqlite_store import SQLiteStore
from alpha.adapters.local.working_copy_iam import WorkingCopyIam, import_account_copy
from alpha.rollout.engine import RolloutSettings
from alpha.rollout.leases import PrincipalBusyError, principal_lease, wall_clock
from alpha.rollout.service import RolloutService
from alpha.store.model import ProposalState, Stage
from alpha.store.ports import Store
from tests.fakes.scripted_monitor import Call, ScriptedMonitor
from tests.rollout.factories import ACCOUNT, APP, T0, Clock, account, approve, proposal, setup

GET = ("s3:GetObject", "arn:aws:s3:::data/a.txt")


def _service(store: Store, iam: WorkingCopyIam, holder: str) -> RolloutService:
    monitor = ScriptedMonitor()
    monitor.add(Call(APP, T0 - timedelta(days=1), *GET))
    return RolloutService(store, iam, monitor, Clock(), RolloutSettings(), holder=holder)


def _approved(store: Store) -> str:
    made = proposal()
    store.save_proposal(made)
    approve(store, made)
    return made.id


def _held_elsewhere(store: Store, length: timedelta = timedelta(hours=1)) -> None:
    now = wall_clock()
    assert store.acquire_lease(f"rollout:{APP}", "other-host:42:x", now + length, now)


def test_a_rollout_of_a_principal_another_process_is_acting_on_is_refused() -> None:
    store, iam = setup()
    pid = _approved(store)
    _held_elsewhere(store)
    with pytest.raises(PrincipalBusyError, match=r"other-host:42:x is rolling it out or back"):
        _service(store, iam, "me").run(pid, Stage.SANDBOX)
    assert store.proposal_state(pid) is ProposalState.APPROVED
    assert store.journal(pid) == []


def test_resume_leaves_a_busy_principal_to_its_holder() -> None:
    store, iam = setup()
    pid = _approved(store)
    mine = _service(store, iam, "me")
    mine.run(pid, Stage.SANDBOX)
    _held_elsewhere(store)
    [result] = _service(store, iam, "someone").resume()
    assert "rolling it out or back" in result.detail
    assert result.state is ProposalState.SANDBOX


def test_an_expired_lease_is_taken_over_and_a_finished_one_released() -> None:
    store, iam = setup()
    pid = _approved(store)
    now = wall_clock()
    assert store.acquire_lease(f"rollout:{APP}", "killed:1:x", now + timedelta(seconds=1), now)
    later = lambda: now + timedelta(minutes=1)  # noqa: E731 - a clock a minute on
    with principal_lease(store, APP, "me", clock=later):
        pass
    assert store.lease(f"rollout:{APP}") is None
    assert _service(store, iam, "me").run(pid, Stage.SANDBOX).stage is Stage.SANDBOX
    assert store.lease(f"rollout:{APP}") is None  # released after the run


def test_two_connections_to_one_sqlite_store_exclude_each_other(tmp_path: Path) -> None:
    path = tmp_path / "alpha.db"
    first, second = SQLiteStore(path), SQLiteStore(path)
    try:
        import_account_copy(first, f"account-{ACCOUNT}", account())
        pid = _approved(first)
        iam = WorkingCopyIam(second, [f"account-{ACCOUNT}"])
        with (
            principal_lease(first, APP, "first"),
            pytest.raises(PrincipalBusyError, match="first is rolling it out"),
        ):
            _service(second, iam, "second").run(pid, Stage.SANDBOX)
        assert _service(second, iam, "second").run(pid, Stage.SANDBOX).stage is Stage.SANDBOX
    finally:
        first.close()
        second.close()
