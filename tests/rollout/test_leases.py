"""One rollout of a principal at a time: the principal's lease in the store."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest

from alpha.adapters.local.sqlite_store import SQLiteStore
from alpha.adapters.local.working_copy_iam import WorkingCopyIam, import_account_copy
from alpha.rollout.engine import RolloutSettings
from alpha.rollout.leases import (
    DEFAULT_LEASE,
    LeaseLostError,
    PrincipalBusyError,
    principal_lease,
    wall_clock,
)
from alpha.rollout.service import RolloutService
from alpha.rollout.stages import StageSettings
from alpha.store.model import ProposalState, Stage
from alpha.store.ports import Store
from tests.fakes.scripted_monitor import Call, ScriptedMonitor
from tests.rollout.factories import ACCOUNT, APP, T0, Clock, account, approve, proposal, setup

GET = ("s3:GetObject", "arn:aws:s3:::data/a.txt")
POLL = timedelta(minutes=10)
SLOW_READ = timedelta(minutes=10)  # what each poll's log read costs in wall time
# Three stages of an hour's bake, polled every 10 minutes: about 6 hours of wall time, far
# longer than any lease a rollout takes (which once was max_wait + 15 minutes: 4h15 here).
LONG_BAKES = RolloutSettings(
    stages=StageSettings(bake=timedelta(hours=1)), poll_interval=POLL, max_wait=timedelta(hours=4)
)


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


def _slow_bakes(
    store: Store, iam: WorkingCopyIam, on_poll: Callable[[], None]
) -> tuple[RolloutService, Clock]:
    """A rollout whose logs arrive as it polls, on a rollout clock (log time) and a wall clock
    that runs ahead by each poll's slow read; `on_poll` runs after each poll's sleep."""
    clock, wall = Clock(), Clock()
    monitor = ScriptedMonitor()
    monitor.add(Call(APP, T0 - timedelta(days=1), *GET))

    def sleeper(seconds: float) -> None:
        clock.advance(timedelta(seconds=seconds))
        wall.advance(timedelta(seconds=seconds) + SLOW_READ)
        monitor.add(Call(APP, clock() - timedelta(minutes=1), *GET))
        on_poll()

    service = RolloutService(
        store, iam, monitor, clock, LONG_BAKES, sleeper=sleeper, holder="me", lease_clock=wall
    )
    return service, wall


def test_a_long_bake_renews_its_lease_at_each_poll() -> None:
    store, iam = setup()
    pid = _approved(store)
    refused: list[bool] = []

    def another_tries() -> None:
        now = wall()
        refused.append(not store.acquire_lease(f"rollout:{APP}", "other", now + POLL, now))

    service, wall = _slow_bakes(store, iam, another_tries)
    result = service.run(pid, wait=True)
    assert result.state is ProposalState.SUCCEEDED
    assert wall() - T0 > LONG_BAKES.max_wait + DEFAULT_LEASE  # longer than any fixed lease
    assert len(refused) >= 18
    assert all(refused)  # at every poll: still held by this rollout
    assert store.lease(f"rollout:{APP}") is None  # released at the end


def test_a_rollout_whose_lease_was_taken_stops_without_acting_again() -> None:
    store, iam = setup()
    pid = _approved(store)
    polls: list[int] = []

    def taken_on_the_third_poll() -> None:
        polls.append(len(store.journal(pid)))
        if len(polls) == 3:  # it had expired (the holder was stopped): another took it
            later = wall() + DEFAULT_LEASE + POLL
            assert store.acquire_lease(f"rollout:{APP}", "other", later + POLL, later)
            wall.advance(DEFAULT_LEASE + POLL)

    service, wall = _slow_bakes(store, iam, taken_on_the_third_poll)
    with pytest.raises(LeaseLostError, match=r"lease was taken by other"):
        service.run(pid, wait=True)
    assert len(store.journal(pid)) == polls[-1]  # nothing done after the lease was lost
    lease = store.lease(f"rollout:{APP}")
    assert lease is not None
    assert lease.holder == "other"  # the new holder keeps it
