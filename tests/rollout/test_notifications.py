"""What the rollout engine tells its notifier, where it logs each stage: a stage started,
passed or failed, a rollback done or failed, each once and in order."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from alpha.rollout.engine import RolloutEngine, RolloutSettings
from alpha.rollout.errors import IamChangeError
from alpha.rollout.iam_ports import IamChanger
from alpha.rollout.notify_ports import RollbackFailed, RolledBack, StageFailed
from alpha.rollout.stages import StageSettings
from alpha.store.model import ProposalState, Stage
from tests.fakes.recording_notifier import RecordingNotifier
from tests.fakes.scripted_monitor import Call, ScriptedMonitor
from tests.rollout.factories import APP, T0, Clock, CountingIam, approve, proposal, setup

HOUR = timedelta(hours=1)
GET = ("s3:GetObject", "arn:aws:s3:::data/a.txt")


class BreakingIam(CountingIam):
    """IAM that refuses every change once `broken`."""

    broken = False

    def __getattr__(self, name: str) -> Any:
        method = super().__getattr__(name)
        if name not in self.MUTATING or not self.broken:
            return method

        def refused(*args: Any) -> Any:
            raise IamChangeError(f"{name}: AccessDenied")

        return refused


def _engine(
    iam_of: type[CountingIam] = CountingIam,
) -> tuple[RolloutEngine, str, ScriptedMonitor, Clock, RecordingNotifier]:
    store, iam = setup()
    monitor, clock, told = ScriptedMonitor(), Clock(), RecordingNotifier()
    made = proposal()
    store.save_proposal(made)
    approve(store, made)
    wrapped: IamChanger = iam_of(iam)
    settings = RolloutSettings(stages=StageSettings(bake=HOUR))
    engine = RolloutEngine(store, wrapped, monitor, clock, settings, notifier=told)
    monitor.add(Call(APP, T0 + timedelta(minutes=5), *GET))
    monitor.covered = T0 + HOUR
    return engine, made.id, monitor, clock, told


def _breach_the_canary(
    engine: RolloutEngine, pid: str, monitor: ScriptedMonitor, clock: Clock
) -> None:
    engine.run(pid, Stage.SANDBOX)
    clock.advance(HOUR)
    engine.run(pid, Stage.CANARY)
    monitor.add(
        Call(APP, T0 + HOUR + timedelta(minutes=10), "s3:PutObject", "arn:aws:s3:::x", True)
    )


def test_a_canary_breach_is_told_then_its_rollback() -> None:
    engine, pid, monitor, clock, told = _engine()
    _breach_the_canary(engine, pid, monitor, clock)
    assert engine.run(pid).state is ProposalState.ROLLED_BACK
    assert [n.split(":")[0] for n in told.kinds()] == [
        "StageStarted",
        "StagePassed",
        "StageStarted",
        "StageFailed",
        "RolledBack",
    ]
    failed, back = told.delivered[-2:]
    assert isinstance(failed, StageFailed)
    assert (failed.stage, failed.proposal_id) == (Stage.CANARY, pid)
    assert "IAMErrorRate breach" in failed.detail
    assert isinstance(back, RolledBack)
    assert back.by == "alpha"
    assert back.reason == failed.detail
    assert engine.resume() == []  # nothing left to do, nothing more is told
    assert len(told.delivered) == 5


def test_a_sandbox_failure_is_told_and_nothing_is_rolled_back() -> None:
    engine, pid, monitor, _, told = _engine()
    monitor.add(Call(APP, T0 - timedelta(days=1), "s3:PutObject", "arn:aws:s3:::data/x"))
    assert engine.run(pid, Stage.SANDBOX).state is ProposalState.FAILED
    assert [n.split(":")[0] for n in told.kinds()] == ["StageStarted", "StageFailed"]


def test_a_rollback_that_cannot_restore_is_told_loudly() -> None:
    engine, pid, monitor, clock, told = _engine(BreakingIam)
    _breach_the_canary(engine, pid, monitor, clock)
    assert isinstance(engine.iam, BreakingIam)
    engine.iam.broken = True
    assert engine.run(pid).state is ProposalState.FAILED
    last = told.delivered[-1]
    assert isinstance(last, RollbackFailed)
    assert "AccessDenied" in last.error
