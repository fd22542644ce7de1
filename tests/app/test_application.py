"""The use cases over `MemoryBackends`: what every interface gets from `Application`."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from alpha.app import AppError, Application, GenerateRequest, Proposed, Settings
from alpha.app.proposing import ProposalSummary
from alpha.demo.sample import ROLLOUT_AT
from alpha.guardrails import load_config
from alpha.rollout.errors import ApprovalError, RolloutError
from alpha.rollout.metrics import GENERATION_FAILED
from alpha.store.model import ProposalState, Stage, StageState
from tests.app.conftest import (
    ACCOUNT,
    APPROVER,
    LOGS,
    PROPOSER,
    CountingSource,
    CountingUsageStore,
    orders_of,
)
from tests.fakes.memory_backends import MemoryBackends


def _name(arn: str) -> str:
    return arn.rpartition("/")[2]


def test_generate_gives_proposals_and_failures_from_one_ingest(
    app: Application, backends: MemoryBackends
) -> None:
    backends.usage = counting = CountingUsageStore()
    generated = app.generate(GenerateRequest(ACCOUNT, (LOGS,)))
    names = [_name(p.principal) for p in generated.run.proposals]
    assert names == ["ci-deployer", "orders-api"]  # legacy-batch was only ever refused
    assert [_name(f.principal) for f in generated.run.failures] == ["report-builder"]
    assert "the reasoner gave no answer" in generated.run.failures[0].reason
    source = backends.sources[LOGS]
    assert isinstance(source, CountingSource)
    assert set(source.reads.values()) == {1}  # every log read once, failure or not
    assert counting.queries == 1  # one report for every principal, not one per principal


def test_propose_stores_once_and_audits_the_failures(
    app: Application, backends: MemoryBackends
) -> None:
    first = app.propose(GenerateRequest(ACCOUNT, (LOGS,)))
    assert first.account_imported
    assert all(p.created and p.state is ProposalState.PROPOSED for p in first.proposed)
    assert first.blocked  # ci-deployer's admin grant blocks it
    failed = [e for e in backends.store.audit(None) if e.action == GENERATION_FAILED]
    assert [_name(str(e.details["principal"])) for e in failed] == ["report-builder"]
    again = app.propose(GenerateRequest(ACCOUNT, (LOGS,)))
    assert not again.account_imported
    assert [p.id for p in again.proposed] == [p.id for p in first.proposed]
    assert not any(p.created for p in again.proposed)


def test_propose_keeps_summaries_and_hands_each_whole_proposal_to_the_hook(
    app: Application, backends: MemoryBackends
) -> None:
    heard: list[Proposed] = []
    result = app.propose(GenerateRequest(ACCOUNT, (LOGS,)), on_stored=heard.append)
    assert [p.summary() for p in heard] == list(result.proposed)
    assert all(isinstance(p, ProposalSummary) for p in result.proposed)
    for whole, summary in zip(heard, result.proposed, strict=True):
        assert backends.store.proposal(summary.id) == whole.proposal  # stored before told
        assert (
            summary.to_dict()["privilege_reduction"]
            == (whole.proposal.document["diff"]["privilege_reduction"])
        )
    assert [v["code"] for p in result.proposed for v in p.guardrail_violations]  # ci-deployer


def test_decisions_keep_separation_of_duties(app: Application) -> None:
    proposed = app.propose(GenerateRequest(ACCOUNT, (LOGS,)), by=PROPOSER)
    orders = next(p for p in proposed.proposed if "orders-api" in p.principal)
    with pytest.raises(ApprovalError, match="separation of duties"):
        app.approve(orders.short_id, PROPOSER)
    decision = app.approve(orders.short_id, APPROVER, "looks right")
    assert (decision.proposal_id, decision.by, decision.state) == (
        orders.id,
        APPROVER,
        ProposalState.APPROVED,
    )
    assert decision.to_dict()["state"] == "approved"
    rows = app.list_proposals(ProposalState.APPROVED)
    assert [r["id"] for r in rows] == [orders.id]
    _, shown = app.show(orders.short_id)
    assert [a["by"] for a in shown["approvals"]] == [APPROVER]


def test_a_rollout_watches_and_a_rollback_does_not(
    app: Application, backends: MemoryBackends
) -> None:
    proposed = app.propose(GenerateRequest(ACCOUNT, (LOGS,)), by=PROPOSER)
    orders = next(p for p in proposed.proposed if "orders-api" in p.principal)
    app.approve(orders.id, APPROVER)
    assert app.roll_out(orders.id, Stage.SANDBOX).stage is Stage.SANDBOX
    backends.monitor.covered = ROLLOUT_AT + timedelta(days=1)  # the logs reach past the bakes
    backends.set_clock.at = ROLLOUT_AT + timedelta(hours=2)
    assert app.roll_out(orders.id, Stage.CANARY).state is ProposalState.CANARY
    back = app.roll_back(orders.id, APPROVER, "changed my mind")
    assert back.state is ProposalState.ROLLED_BACK
    assert backends.opened_monitors == [False, True, True, False]  # approve, 2 stages, back


def test_export_without_a_working_copy_says_so(app: Application) -> None:
    with pytest.raises(AppError, match="the store has accounts none"):
        app.export_account()


def test_export_gives_the_imported_copy(app: Application, sample: Any) -> None:
    app.propose(GenerateRequest(ACCOUNT, (LOGS,)))
    exported = app.export_account()
    roles = {r["RoleName"] for r in exported.document["RoleDetailList"]}
    assert roles == {r["RoleName"] for r in sample[0]["RoleDetailList"]}


def test_an_unwatched_rollout_is_a_clear_error(tmp_path: Path) -> None:
    from alpha.app import ConfiguredBackends

    settings = Settings(store=tmp_path / "a.db", usage_store=tmp_path / "u.duckdb", user="x")
    with (
        ConfiguredBackends(settings, {}).open_monitor(watch=True) as monitor,
        pytest.raises(RolloutError, match="no logs to watch"),
    ):
        monitor.covered_until()


STRICT = {"ALPHA_DISALLOWED_SERVICES": "dynamodb"}  # orders-api reads and writes its table


def test_approval_holds_a_proposal_to_the_guardrails_in_force(
    app: Application, backends: MemoryBackends
) -> None:
    orders = orders_of(app)  # stored under the default guardrails: nothing blocks it
    backends.guardrail_config = load_config(None, STRICT)
    with pytest.raises(ApprovalError, match="DISALLOWED_SERVICE"):
        app.approve(orders, APPROVER)
    assert orders in [r["id"] for r in app.list_proposals(ProposalState.PROPOSED)]


def test_a_rollout_holds_an_approved_proposal_to_the_guardrails_in_force(
    app: Application, backends: MemoryBackends
) -> None:
    orders = orders_of(app)
    app.approve(orders, APPROVER)
    backends.guardrail_config = load_config(None, STRICT)
    with pytest.raises(ApprovalError, match="DISALLOWED_SERVICE"):
        app.roll_out(orders, Stage.SANDBOX)
    backends.guardrail_config = load_config(None, {})
    assert app.roll_out(orders, Stage.SANDBOX).stage is Stage.SANDBOX


def test_no_next_stage_starts_under_stricter_guardrails(
    app: Application, backends: MemoryBackends
) -> None:
    orders = orders_of(app)
    app.approve(orders, APPROVER)
    backends.monitor.covered = ROLLOUT_AT + timedelta(days=1)
    assert app.roll_out(orders, Stage.SANDBOX).stage_state is StageState.PASSED
    backends.guardrail_config = load_config(None, STRICT)
    result = app.roll_out(orders, Stage.CANARY)
    assert result.state is ProposalState.ROLLED_BACK
    assert "canary not started: blocking guardrail violations DISALLOWED_SERVICE" in result.detail
    assert backends.iam is not None
    assert "canary" not in json.dumps(backends.iam.principal_state(_orders_arn(app)))


def test_no_stage_starts_once_the_approval_expired(
    app: Application, backends: MemoryBackends
) -> None:
    orders = orders_of(app)
    app.approve(orders, APPROVER)
    backends.monitor.covered = ROLLOUT_AT + timedelta(days=30)
    assert app.roll_out(orders, Stage.SANDBOX).stage_state is StageState.PASSED
    backends.set_clock.at = ROLLOUT_AT + timedelta(days=8)  # the default expiry is 7 days
    result = app.roll_out(orders, Stage.CANARY)
    assert (result.state, result.stage) == (ProposalState.ROLLED_BACK, None)
    assert "canary not started: the approval expired" in result.detail


def _orders_arn(app: Application) -> str:
    return next(str(r["principal"]) for r in app.list_proposals() if "orders-api" in r["principal"])
