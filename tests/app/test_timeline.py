"""Time never runs backwards in a store; only a store made to replay takes `--now`."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest

from alpha.app import Application, GenerateRequest, Settings
from alpha.app.timeline import STORE_CLOCK, TimelineError
from alpha.demo.sample import ROLLOUT_AT
from tests.app.conftest import ACCOUNT, APPROVER, LOGS, PROPOSER, orders_of
from tests.fakes.memory_backends import MemoryBackends


def _app(
    backends: MemoryBackends,
    tmp_path: Path,
    *,
    now: datetime | None = None,
    replay: bool = False,
) -> Application:
    settings = Settings(
        store=tmp_path / "a.db", usage_store=tmp_path / "u", user=PROPOSER, now=now, replay=replay
    )
    return Application(settings, backends)


def test_a_new_store_follows_the_wall_clock_and_refuses_now(
    backends: MemoryBackends, tmp_path: Path
) -> None:
    wall = _app(backends, tmp_path)
    wall.propose(GenerateRequest(ACCOUNT, (LOGS,)))
    first = backends.store.audit(None)[0]
    assert (first.action, first.details) == (STORE_CLOCK, {"clock": "wall"})
    replaying = _app(backends, tmp_path, now=ROLLOUT_AT)
    with pytest.raises(TimelineError, match="follows the wall clock"):
        replaying.approve(orders_of(wall), APPROVER)
    with pytest.raises(TimelineError, match="applies only to a new store"):
        _app(backends, tmp_path, replay=True).approve(orders_of(wall), APPROVER)


def test_now_on_a_new_wall_store_writes_nothing(backends: MemoryBackends, tmp_path: Path) -> None:
    with pytest.raises(TimelineError, match="takes no other time"):
        _app(backends, tmp_path, now=ROLLOUT_AT).propose(GenerateRequest(ACCOUNT, (LOGS,)))
    assert backends.store.audit(None) == []
    assert backends.store.proposals() == []


def test_a_replay_store_takes_now_but_never_runs_backwards(
    backends: MemoryBackends, tmp_path: Path
) -> None:
    app = _app(backends, tmp_path, replay=True, now=ROLLOUT_AT)
    orders = orders_of(app)
    assert backends.store.audit(None)[0].details == {"clock": "replay"}
    backends.set_clock.at = ROLLOUT_AT - timedelta(seconds=30)  # within the replay slack
    app.reject(orders, APPROVER, "not yet")
    backends.set_clock.at = ROLLOUT_AT - timedelta(days=365 * 26)  # an approval dated 2000
    with pytest.raises(TimelineError, match="time never runs backwards"):
        app.approve(orders, APPROVER)
    assert [a.approved for a in backends.store.approvals(orders)] == [False]


def test_a_wall_store_refuses_any_step_back(backends: MemoryBackends, tmp_path: Path) -> None:
    app = _app(backends, tmp_path)
    orders = orders_of(app)
    backends.set_clock.at = ROLLOUT_AT - timedelta(seconds=1)
    with pytest.raises(TimelineError, match="earlier than the store's last event"):
        app.approve(orders, APPROVER)


def test_a_store_made_before_clocks_were_recorded_follows_the_wall_clock(
    backends: MemoryBackends, tmp_path: Path
) -> None:
    backends.store.append_audit(
        at=ROLLOUT_AT, proposal_id=None, actor="old", action="generation_failed", reason="x"
    )
    with pytest.raises(TimelineError, match="follows the wall clock"):
        _app(backends, tmp_path, now=ROLLOUT_AT).propose(GenerateRequest(ACCOUNT, (LOGS,)))
