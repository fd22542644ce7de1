"""One rollout of the same role in three accounts: the canary's first wave in the first
account, then the others; a breach anywhere rolls every changed account back, newest first;
the audit and the per-account status say where each account stands; a crash anywhere is
resumed with the same targets."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from alpha.adapters.local.working_copy_iam import export_account_copy
from alpha.rollout.engine import RolloutEngine, RolloutSettings
from alpha.rollout.ordering import RolloutOrderError, check_may_start
from alpha.rollout.stages import StageSettings
from alpha.rollout.steps import ACCOUNT_STEP
from alpha.rollout.targets import target_states
from alpha.store.model import TARGETS_KEY, JournalPhase, ProposalState, Stage, StoredProposal
from tests.fakes.memory_store import MemoryStore
from tests.fakes.scripted_monitor import Call, ScriptedMonitor
from tests.rollout.factories import (
    PLAN,
    T0,
    Clock,
    CountingIam,
    CrashAt,
    SimulatedCrash,
    approve,
    proposal,
    setup,
)

ACCOUNTS = ("111111111111", "222222222222", "333333333333")
TARGETS = [f"arn:aws:iam::{a}:role/app" for a in ACCOUNTS]
SETTINGS = RolloutSettings(
    stages=StageSettings(bake=timedelta(hours=1), canary_fraction=0.3)  # waves: [A], [B, C]
)


def fleet_proposal(targets: list[str] = TARGETS) -> StoredProposal:
    made = proposal(targets[0])
    return StoredProposal.create(
        principal=made.principal,
        document=made.document,
        plan={**PLAN, TARGETS_KEY: targets},
        created_by=made.created_by,
        created_at=made.created_at,
    )


def monitor_for(breach_in: str | None) -> ScriptedMonitor:
    monitor = ScriptedMonitor()
    for target in TARGETS:
        monitor.add(Call(target, T0 + timedelta(minutes=5), "s3:GetObject", "arn:aws:s3:::data/a"))
    if breach_in is not None:
        monitor.add(Call(breach_in, T0 + timedelta(minutes=9), "sqs:SendMessage", "*", True))
    monitor.covered = T0 + timedelta(hours=2)
    return monitor


def scenario(breach_in: str | None, crash_at: int | None = None) -> dict[str, Any]:
    store, inner = setup(accounts=ACCOUNTS)
    iam = CountingIam(inner)
    monitor, clock = monitor_for(breach_in), Clock()
    made = fleet_proposal()
    store.save_proposal(made)
    approve(store, made)
    originals = {a: export_account_copy(store, f"account-{a}") for a in ACCOUNTS}
    hook = CrashAt(crash_at)
    crashed = False
    try:
        result = RolloutEngine(store, iam, monitor, clock, SETTINGS, checkpoint=hook).run(made.id)
    except SimulatedCrash:
        crashed = True
        [result] = RolloutEngine(store, iam, monitor, clock, SETTINGS).resume()
    return {
        "store": store,
        "proposal": made,
        "result": result,
        "copies": {a: export_account_copy(store, f"account-{a}") for a in ACCOUNTS},
        "originals": originals,
        "counts": iam.counts,
        "points": hook.points,
        "crashed": crashed,
    }


def test_the_proposal_targets_every_account_and_its_hash_covers_them() -> None:
    made = fleet_proposal()
    assert made.targets == tuple(TARGETS)
    assert fleet_proposal(TARGETS[:2]).id != made.id
    assert proposal(TARGETS[0]).targets == (TARGETS[0],)


def test_a_fleet_without_a_breach_reaches_every_account() -> None:
    run = scenario(None)
    assert run["result"].state is ProposalState.SUCCEEDED
    for account in ACCOUNTS:
        [role] = [r for r in run["copies"][account]["RoleDetailList"] if r["RoleName"] == "app"]
        assert [p["PolicyName"] for p in role["RolePolicyList"]] == ["alpha-least-privilege"]
    store: MemoryStore = run["store"]
    canary = store.stage(run["proposal"].id, Stage.CANARY)
    assert canary is not None
    assert canary.metrics["wave"] == 1
    states = target_states(run["proposal"], run["result"].state, store.stages(run["proposal"].id))
    assert [(s.account, s.state) for s in states] == [(a, "production") for a in ACCOUNTS]


def test_a_canary_breach_in_the_second_waves_first_account_rolls_back_all() -> None:
    run = scenario(breach_in=TARGETS[1])
    assert run["result"].state is ProposalState.ROLLED_BACK
    assert run["copies"] == run["originals"]
    store: MemoryStore = run["store"]
    made = run["proposal"]
    # The first wave (A) baked clean; the second (B and C) was applied, and B breached.
    canary = store.stage(made.id, Stage.CANARY)
    assert canary is not None
    assert canary.metrics["wave"] == 1
    audit = [e for e in store.audit(made.id) if e.action == ACCOUNT_STEP]
    assert [(e.details["account"], e.details["step"]) for e in audit] == [
        (ACCOUNTS[0], "canary wave 1 applied"),
        (ACCOUNTS[1], "canary wave 2 applied"),
        (ACCOUNTS[2], "canary wave 2 applied"),
        # newest first
        (ACCOUNTS[2], "rolled back"),
        (ACCOUNTS[1], "rolled back"),
        (ACCOUNTS[0], "rolled back"),
    ]
    states = target_states(made, run["result"].state, store.stages(made.id))
    assert {s.state for s in states} == {"rolled back"}


def test_a_breach_in_the_first_wave_leaves_the_other_accounts_unchanged() -> None:
    run = scenario(breach_in=TARGETS[0])
    assert run["result"].state is ProposalState.ROLLED_BACK
    assert run["copies"] == run["originals"]
    changed = {args[1] for args in run["counts"]}
    assert not any(ACCOUNTS[1] in arn or ACCOUNTS[2] in arn for arn in changed)


@pytest.mark.parametrize("breach_in", [None, TARGETS[2]], ids=["succeeds", "rolls-back"])
def test_a_crash_at_every_step_then_resume_keeps_the_targets(breach_in: str | None) -> None:
    clean = scenario(breach_in)
    expected = clean["result"].state
    assert all(n == 1 for n in clean["counts"].values())
    for n in range(1, len(clean["points"]) + 1, 3):
        run = scenario(breach_in, n)
        point = clean["points"][n - 1]
        assert run["crashed"], point
        assert run["result"].state is expected, point
        assert run["counts"] == clean["counts"], point  # each change once, in every account
        if breach_in is not None:
            assert run["copies"] == run["originals"], point
        runs = [e for e in run["store"].journal(run["proposal"].id) if e.step == "run"]
        assert all(e.payload["targets"] == TARGETS for e in runs), point
        assert all(e.phase is JournalPhase.DONE for e in runs)


def test_a_fleet_waits_for_another_rollout_of_any_of_its_roles() -> None:
    store, _ = setup(accounts=ACCOUNTS)
    single = proposal(TARGETS[2])
    store.save_proposal(single)
    approve(store, single)
    store.set_state(single.id, ProposalState.CANARY, ProposalState.APPROVED)
    with pytest.raises(RolloutOrderError, match="same principal"):
        check_may_start(store, fleet_proposal())
