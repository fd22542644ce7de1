"""Fault injection: a crash before and after every side effect and state move, then resume.
The rollout must end succeeded (or rolled back) with each IAM change made exactly once."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any

import pytest

from alpha.adapters.local.working_copy_iam import export_account_copy
from alpha.rollout.engine import RolloutEngine, RolloutSettings
from alpha.rollout.stages import StageSettings
from alpha.store.model import ProposalState
from tests.fakes.scripted_monitor import Call, ScriptedMonitor
from tests.rollout.factories import (
    ACCOUNT,
    APP,
    T0,
    Clock,
    CountingIam,
    CrashAt,
    SimulatedCrash,
    approve,
    proposal,
    setup,
)

COPY = f"account-{ACCOUNT}"


def scenario(breach: bool, crash_at: int | None) -> dict[str, Any]:
    store, inner = setup()
    iam = CountingIam(inner)
    monitor, clock = ScriptedMonitor(), Clock()
    monitor.add(Call(APP, T0 + timedelta(minutes=5), "s3:GetObject", "arn:aws:s3:::data/a"))
    if breach:
        monitor.add(Call(APP, T0 + timedelta(minutes=9), "sqs:SendMessage", "*", True))
    monitor.covered = T0 + timedelta(hours=2)
    made = proposal()
    store.save_proposal(made)
    approve(store, made)
    original = export_account_copy(store, COPY)
    settings = RolloutSettings(stages=StageSettings(bake=timedelta(hours=1)))
    hook = CrashAt(crash_at)
    crashed = False
    try:
        RolloutEngine(store, iam, monitor, clock, settings, checkpoint=hook).run(made.id)
    except SimulatedCrash:
        crashed = True
        RolloutEngine(store, iam, monitor, clock, settings).resume()
    return {
        "state": store.proposal_state(made.id),
        "copy": export_account_copy(store, COPY),
        "original": original,
        "counts": iam.counts,
        "points": hook.points,
        "crashed": crashed,
    }


def _points(breach: bool) -> int:
    return len(scenario(breach, None)["points"])


@pytest.mark.parametrize("breach", [False, True], ids=["succeeds", "rolls-back"])
def test_a_crash_at_every_step_then_resume(breach: bool) -> None:
    clean = scenario(breach, None)
    expected_state = ProposalState.ROLLED_BACK if breach else ProposalState.SUCCEEDED
    assert clean["state"] is expected_state
    assert all(n == 1 for n in clean["counts"].values())
    assert len(clean["points"]) > 10
    if breach:
        assert clean["copy"] == clean["original"]
    for n in range(1, len(clean["points"]) + 1):
        run = scenario(breach, n)
        point = clean["points"][n - 1]
        assert run["crashed"], point
        assert run["state"] is expected_state, point
        assert run["copy"] == clean["copy"], point
        assert run["counts"] == clean["counts"], point
        assert max(Counter(run["counts"]).values()) == 1, point


def test_crash_points_surround_every_side_effect() -> None:
    points = scenario(False, None)["points"]
    befores = {p.removeprefix("before ") for p in points if p.startswith("before ") and ":" in p}
    afters = {p.removeprefix("after ") for p in points if p.startswith("after ")}
    assert befores == afters
    assert any("put_boundary" in p for p in afters)
    assert any("detach" in p for p in afters)
