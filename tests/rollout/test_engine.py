from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta
from typing import Any

import pytest

from alpha.adapters.local.authorization_details import parse_authorization_details
from alpha.adapters.local.working_copy_iam import export_account_copy
from alpha.rollout.engine import RolloutEngine, RolloutSettings
from alpha.rollout.logs import JsonFormatter
from alpha.rollout.metrics import metrics
from alpha.rollout.stages import StageSettings, canary_deny_name, canary_policy_arn
from alpha.store.model import ProposalState, Stage, StageState
from tests.fakes.scripted_monitor import Call, ScriptedMonitor
from tests.rollout.factories import (
    ACCOUNT,
    APP,
    BOUNDARY,
    OTHER_ACCOUNT,
    PROPOSED,
    SHARED,
    T0,
    Clock,
    approve,
    proposal,
    setup,
)

HOUR = timedelta(hours=1)
GET = ("s3:GetObject", "arn:aws:s3:::data/a.txt")


def engine(
    boundary: bool = False, accounts: tuple[str, ...] = (ACCOUNT,), **stage: Any
) -> tuple[RolloutEngine, str, ScriptedMonitor, Clock]:
    store, iam = setup(boundary=boundary, accounts=accounts)
    monitor, clock = ScriptedMonitor(), Clock()
    settings = RolloutSettings(stages=StageSettings(**{"bake": HOUR, **stage}))
    made = proposal()
    store.save_proposal(made)
    approve(store, made)
    return RolloutEngine(store, iam, monitor, clock, settings), made.id, monitor, clock


def good_traffic(
    monitor: ScriptedMonitor, start: datetime, principals: tuple[str, ...] = (APP,)
) -> None:
    for p in principals:
        monitor.add(Call(p, start + timedelta(minutes=5), *GET))
    monitor.covered = start + HOUR


def test_sandbox_passes_when_replay_allows_every_call() -> None:
    eng, pid, monitor, _clock = engine()
    monitor.add(Call(APP, T0 - timedelta(days=1), *GET))
    result = eng.run(pid, Stage.SANDBOX)
    assert result.stage_state is StageState.BAKING
    assert eng.store.proposal_state(pid) is ProposalState.SANDBOX
    good_traffic(monitor, T0)
    result = eng.run(pid, Stage.SANDBOX)
    assert (result.stage, result.stage_state) == (Stage.SANDBOX, StageState.PASSED)
    assert eng.iam.principal_state(APP)["inline"].keys() == {"old-inline"}  # nothing enforced


@pytest.mark.parametrize(
    ("threshold", "outcome"), [(0, ProposalState.FAILED), (1, ProposalState.SANDBOX)]
)
def test_sandbox_denial_threshold(threshold: int, outcome: ProposalState) -> None:
    eng, pid, monitor, _ = engine(max_would_be_denials=threshold)
    monitor.add(Call(APP, T0 - timedelta(days=1), "s3:PutObject", "arn:aws:s3:::data/x"))
    result = eng.run(pid, Stage.SANDBOX)
    assert result.state is outcome
    if outcome is ProposalState.FAILED:
        assert "1 replayed call(s) would be denied" in result.detail
        assert "s3:PutObject" in result.detail


def test_canary_as_boundary_then_production_replaces_and_detaches() -> None:
    eng, pid, monitor, clock = engine()
    before = eng.iam.principal_state(APP)
    good_traffic(monitor, T0)
    eng.run(pid, Stage.CANARY)
    assert eng.store.proposal_state(pid) is ProposalState.CANARY
    canary_arn = canary_policy_arn(APP, pid, StageSettings())
    during = eng.iam.principal_state(APP)
    assert during["boundary"] == canary_arn
    assert during["inline"] == before["inline"]
    assert during["attached"] == before["attached"]
    assert eng.iam.managed_policy(canary_arn) == PROPOSED
    clock.advance(2 * HOUR)
    result = eng.run(pid)  # production applied at T0+2h; the logs do not reach its bake yet
    assert (result.stage, result.stage_state) == (Stage.PRODUCTION, StageState.BAKING)
    good_traffic(monitor, T0 + 2 * HOUR)
    result = eng.run(pid)
    assert result.state is ProposalState.SUCCEEDED
    after = eng.iam.principal_state(APP)
    assert after == {
        "principal": APP,
        "inline": {"alpha-least-privilege": PROPOSED},
        "attached": [],
        "boundary": None,
    }
    assert eng.iam.managed_policy(canary_arn) is None
    # The shared managed policy is detached, never edited; its other user keeps it.
    other = APP.replace("role/app", "role/other")
    assert SHARED in eng.iam.principal_state(other)["attached"]
    shared = eng.iam.managed_policy(SHARED)
    assert shared is not None
    assert shared["Statement"][0]["Action"] == "*"
    # The working copy is still a valid authorization-details file.
    snapshot = parse_authorization_details(
        export_account_copy(eng.store, f"account-{ACCOUNT}"), "x"
    )
    kept = snapshot.managed_policy(SHARED)
    assert kept is not None
    assert kept.attachment_count == 1
    summary = metrics(eng.store)
    assert summary.rollout_failure_rate == 0.0
    assert summary.privilege_reduction_applied == 0.9


def test_canary_with_an_existing_boundary_adds_an_inline_deny() -> None:
    eng, pid, monitor, _clock = engine(boundary=True)
    good_traffic(monitor, T0)
    eng.run(pid, Stage.CANARY)
    state = eng.iam.principal_state(APP)
    assert state["boundary"] == BOUNDARY
    deny = state["inline"][canary_deny_name(pid)]
    assert deny["Statement"][0]["Effect"] == "Deny"
    assert deny["Statement"][0]["Action"] == ["s3:PutObject", "sqs:*"]


def test_canary_breach_rolls_back_to_the_exact_previous_state() -> None:
    eng, pid, monitor, clock = engine()
    before = eng.iam.principal_state(APP)
    copy_before = export_account_copy(eng.store, f"account-{ACCOUNT}")
    good_traffic(monitor, T0)
    eng.run(pid, Stage.SANDBOX)
    clock.advance(HOUR)
    eng.run(pid, Stage.CANARY)  # canary applied at T0+1h, baking
    monitor.add(
        Call(APP, T0 + HOUR + timedelta(minutes=10), "s3:PutObject", "arn:aws:s3:::x", True)
    )
    result = eng.run(pid)
    assert result.state is ProposalState.ROLLED_BACK
    assert "IAMErrorRate breach" in result.detail
    assert eng.iam.principal_state(APP) == before
    assert export_account_copy(eng.store, f"account-{ACCOUNT}") == copy_before
    stages = {r.stage: r.state for r in eng.store.stages(pid)}
    assert stages == {Stage.SANDBOX: StageState.PASSED, Stage.CANARY: StageState.FAILED}
    assert metrics(eng.store).rollout_failure_rate == 1.0


def test_production_breach_and_manual_rollback_restore_exactly() -> None:
    eng, pid, monitor, clock = engine(boundary=True)
    copy_before = export_account_copy(eng.store, f"account-{ACCOUNT}")
    good_traffic(monitor, T0)
    eng.run(pid, Stage.CANARY)  # sandbox and canary bake within the logs
    clock.advance(HOUR)
    eng.run(pid)  # production applied at T0+1h and baking
    assert eng.store.proposal_state(pid) is ProposalState.PRODUCTION
    monitor.add(Call(APP, T0 + HOUR + timedelta(minutes=1), "sqs:SendMessage", "*", True))
    result = eng.run(pid)
    assert result.state is ProposalState.ROLLED_BACK
    assert export_account_copy(eng.store, f"account-{ACCOUNT}") == copy_before


def test_manual_rollback_of_a_success() -> None:
    eng, pid, monitor, _clock = engine()
    copy_before = export_account_copy(eng.store, f"account-{ACCOUNT}")
    good_traffic(monitor, T0)
    assert eng.run(pid).state is ProposalState.SUCCEEDED
    assert export_account_copy(eng.store, f"account-{ACCOUNT}") != copy_before
    result = eng.rollback(pid, "alice", "changed our mind")
    assert result.state is ProposalState.ROLLED_BACK
    assert export_account_copy(eng.store, f"account-{ACCOUNT}") == copy_before
    actions = [e.action for e in eng.store.audit(pid)]
    assert "Succeeded->Rollback" in actions
    assert "Rollback->RolledBack" in actions


def test_bake_not_covered_stays_baking_then_resume_after_more_logs() -> None:
    eng, pid, monitor, clock = engine()
    monitor.add(Call(APP, T0 - timedelta(days=1), *GET))
    result = eng.run(pid)
    assert (result.stage, result.stage_state) == (Stage.SANDBOX, StageState.BAKING)
    assert "logs reach" in result.detail
    clock.advance(HOUR)
    good_traffic(monitor, T0)
    [resumed] = eng.resume()  # sandbox passes; canary applied at T0+1h, not covered yet
    assert (resumed.stage, resumed.stage_state) == (Stage.CANARY, StageState.BAKING)


def test_wait_polls_with_the_injected_sleeper() -> None:
    eng, pid, monitor, clock = engine()
    slept: list[float] = []

    def sleeper(seconds: float) -> None:
        slept.append(seconds)
        clock.advance(timedelta(seconds=seconds))
        good_traffic(monitor, clock() - HOUR)
        monitor.covered = clock() + HOUR

    eng.sleeper = sleeper
    result = eng.run(pid, wait=True)
    assert result.state is ProposalState.SUCCEEDED
    assert slept
    assert all(s == 30 for s in slept)


def test_multi_account_canary_goes_to_a_first_fraction_then_the_rest() -> None:
    other = APP.replace(ACCOUNT, OTHER_ACCOUNT)
    eng, pid, monitor, _clock = engine(accounts=(ACCOUNT, OTHER_ACCOUNT), canary_fraction=0.5)
    good_traffic(monitor, T0, (APP, other))
    eng.run(pid, Stage.CANARY, targets=[APP, other])
    # Wave one baked at T0 (logs cover it); wave two applied to the other account now.
    assert eng.iam.principal_state(APP)["boundary"] is not None
    assert eng.iam.principal_state(other)["boundary"] is not None
    record = eng.store.stage(pid, Stage.CANARY)
    assert record is not None
    assert record.metrics["wave"] == 1
    # A denial in the other account during production's bake rolls back both accounts.
    monitor.add(Call(other, T0 + timedelta(minutes=1), "sqs:SendMessage", "*", True))
    assert eng.run(pid).state is ProposalState.ROLLED_BACK
    for principal in (APP, other):
        assert eng.iam.principal_state(principal)["boundary"] is None


def test_first_wave_only_when_its_bake_is_not_covered() -> None:
    other = APP.replace(ACCOUNT, OTHER_ACCOUNT)
    eng, pid, monitor, clock = engine(accounts=(ACCOUNT, OTHER_ACCOUNT), canary_fraction=0.5)
    good_traffic(monitor, T0, (APP, other))
    eng.run(pid, Stage.SANDBOX, targets=[APP, other])
    clock.advance(HOUR)
    eng.run(pid, Stage.CANARY)
    assert eng.iam.principal_state(APP)["boundary"] is not None
    assert eng.iam.principal_state(other)["boundary"] is None


def test_every_step_is_logged_as_json(caplog: pytest.LogCaptureFixture) -> None:
    eng, pid, monitor, _clock = engine()
    good_traffic(monitor, T0)
    with caplog.at_level(logging.INFO, logger="alpha.rollout"):
        eng.run(pid, Stage.CANARY)
    lines = [json.loads(JsonFormatter().format(r)) for r in caplog.records]
    assert all(line["proposal_id"] == pid and line["principal"] == APP for line in lines)
    assert any(line.get("stage") == "canary" and line["outcome"] == "started" for line in lines)
    assert any(line.get("step", "").startswith("canary.0:put_boundary") for line in lines)


def test_a_rollout_keeps_the_bake_it_started_with_when_resumed_under_other_settings() -> None:
    eng, pid, monitor, clock = engine(bake=6 * HOUR)
    monitor.add(Call(APP, T0 - timedelta(days=1), *GET))
    assert eng.run(pid, Stage.SANDBOX).stage_state is StageState.BAKING
    good_traffic(monitor, T0)  # the logs reach one hour past the start
    clock.now = T0 + 2 * HOUR
    # `alpha rollout resume` run later with the default bake of one hour
    later = RolloutEngine(eng.store, eng.iam, monitor, clock, RolloutSettings())
    assert [r.stage_state for r in later.resume()] == [StageState.BAKING]
    assert later.run(pid, Stage.SANDBOX).stage_state is StageState.BAKING
    monitor.covered = T0 + 6 * HOUR
    assert later.run(pid, Stage.SANDBOX).stage_state is StageState.PASSED


def test_a_store_whose_runs_kept_no_settings_uses_the_settings_in_force() -> None:
    from alpha.store.model import JournalPhase

    eng, pid, monitor, _ = engine()
    eng.store.append_journal(
        pid, "run", JournalPhase.DONE, {"through": "sandbox", "targets": [APP]}, T0
    )
    monitor.add(Call(APP, T0 - timedelta(days=1), *GET))
    good_traffic(monitor, T0)
    assert eng.resume()[0].stage_state is StageState.PASSED


def _second_proposal(eng: RolloutEngine) -> str:
    newer = proposal(policy={**PROPOSED, "Id": "second"}, at=T0 + timedelta(minutes=1))
    eng.store.save_proposal(newer)
    approve(eng.store, newer)
    return newer.id


def test_rollbacks_of_one_principal_go_newest_first() -> None:
    from alpha.rollout.ordering import RolloutOrderError

    eng, first, monitor, clock = engine()
    copy_before = export_account_copy(eng.store, f"account-{ACCOUNT}")
    good_traffic(monitor, T0)
    assert eng.run(first).state is ProposalState.SUCCEEDED
    after_first = export_account_copy(eng.store, f"account-{ACCOUNT}")
    second = _second_proposal(eng)
    clock.advance(HOUR)
    good_traffic(monitor, T0 + HOUR)
    assert eng.run(second).state is ProposalState.SUCCEEDED
    with pytest.raises(RolloutOrderError, match=r"roll .* back first"):
        eng.rollback(first, "alice")
    assert eng.store.proposal_state(first) is ProposalState.SUCCEEDED
    assert eng.rollback(second, "alice").state is ProposalState.ROLLED_BACK
    assert export_account_copy(eng.store, f"account-{ACCOUNT}") == after_first
    assert eng.rollback(first, "alice").state is ProposalState.ROLLED_BACK
    assert export_account_copy(eng.store, f"account-{ACCOUNT}") == copy_before


def test_a_second_rollout_of_a_principal_waits_for_the_first() -> None:
    from alpha.rollout.ordering import RolloutOrderError

    eng, first, monitor, _ = engine()
    monitor.add(Call(APP, T0 - timedelta(days=1), *GET))
    assert eng.run(first, Stage.SANDBOX).stage_state is StageState.BAKING
    second = _second_proposal(eng)
    with pytest.raises(RolloutOrderError, match="sandbox stage"):
        eng.run(second)
    assert eng.store.proposal_state(second) is ProposalState.APPROVED
