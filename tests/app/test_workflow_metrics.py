"""The workflow's metrics as the use cases emit them (to the `MetricLog`), and the rollout's
hook that publishes what its bakes measured, over `MemoryBackends`."""

from __future__ import annotations

from datetime import timedelta

import pytest

from alpha.app import Application, GenerateRequest
from alpha.app.proposing import ProposalSummary
from alpha.demo.sample import ROLLOUT_AT
from alpha.rollout.errors import RolloutError
from alpha.rollout.metric_ports import WorkflowEvent
from alpha.store.model import ProposalState, Stage
from tests.app.conftest import ACCOUNT, APPROVER, LOGS, PROPOSER
from tests.fakes.memory_backends import MemoryBackends
from tests.fakes.scripted_monitor import Call


def measured(events: list[WorkflowEvent], name: str) -> list[tuple[float, dict[str, str]]]:
    return [(m.value, dict(e.properties)) for e in events for m in e.measures if m.name == name]


def in_sandbox(app: Application) -> ProposalSummary:
    """orders-api's proposal, approved and rolled out to the sandbox."""
    proposed = app.propose(GenerateRequest(ACCOUNT, (LOGS,)), by=PROPOSER).proposed
    orders = next(p for p in proposed if "orders-api" in p.principal)
    app.approve(orders.id, APPROVER)
    app.roll_out(orders.id, Stage.SANDBOX)
    return orders


def test_proposing_emits_one_generation_result_per_principal(
    app: Application, backends: MemoryBackends
) -> None:
    app.propose(GenerateRequest(ACCOUNT, (LOGS,)), by=PROPOSER)
    events = backends.metric_log.events
    results = sorted(
        (v, p["principal"].rpartition("/")[2]) for v, p in measured(events, "GenerationSuccess")
    )
    assert results == [(0, "report-builder"), (1, "ci-deployer"), (1, "orders-api")]
    reductions = measured(events, "PrivilegeReduction")
    assert len(reductions) == 2
    assert all(0 <= value <= 100 for value, _ in reductions)
    assert all(e.at == ROLLOUT_AT for e in events)

    backends.metric_log.events.clear()
    app.propose(GenerateRequest(ACCOUNT, (LOGS,)), by=PROPOSER)
    # Nothing new is stored: only the principal that failed again is counted again, as the
    # store's generation success rate counts it.
    assert [v for v, _ in measured(backends.metric_log.events, "GenerationSuccess")] == [0]


def test_the_first_binding_approval_gives_the_approval_time(
    app: Application, backends: MemoryBackends
) -> None:
    proposed = app.propose(GenerateRequest(ACCOUNT, (LOGS,)), by=PROPOSER).proposed
    orders = next(p for p in proposed if "orders-api" in p.principal)
    backends.metric_log.events.clear()
    backends.set_clock.at = ROLLOUT_AT + timedelta(minutes=90)
    app.approve(orders.id, APPROVER)
    app.reject(next(p.id for p in proposed if p != orders), APPROVER)
    [(seconds, about)] = measured(backends.metric_log.events, "ApprovalTime")
    assert seconds == 90 * 60
    assert about == {"proposal": orders.id, "principal": orders.principal, "by": APPROVER}


def test_a_rollout_that_ends_gives_its_outcome_once(
    app: Application, backends: MemoryBackends
) -> None:
    proposed = app.propose(GenerateRequest(ACCOUNT, (LOGS,)), by=PROPOSER).proposed
    orders = next(p for p in proposed if "orders-api" in p.principal)
    app.approve(orders.id, APPROVER)
    backends.metric_log.events.clear()
    app.roll_out(orders.id, Stage.SANDBOX)
    backends.monitor.covered = ROLLOUT_AT + timedelta(days=1)  # the logs reach past the bakes
    backends.set_clock.at = ROLLOUT_AT + timedelta(hours=2)
    assert app.roll_out(orders.id, Stage.CANARY).state is ProposalState.CANARY
    assert measured(backends.metric_log.events, "RolloutFailure") == []  # still going
    back = app.roll_back(orders.id, APPROVER, "changed my mind")
    assert back.state is ProposalState.ROLLED_BACK
    [(failed, about)] = measured(backends.metric_log.events, "RolloutFailure")
    assert failed == 1
    assert about["state"] == "rolled_back"
    assert measured(backends.metric_log.events, "PrivilegeReductionApplied") == []
    with pytest.raises(RolloutError):
        app.roll_back(orders.id, APPROVER, "again")
    assert len(measured(backends.metric_log.events, "RolloutFailure")) == 1


def test_a_rollout_to_a_live_account_publishes_what_its_bakes_measured(
    app: Application, backends: MemoryBackends
) -> None:
    orders = in_sandbox(app)
    assert backends.metrics.points == {}  # not a live account: nothing published

    backends.publish_bakes = True
    started = backends.set_clock.at = ROLLOUT_AT + timedelta(hours=2)
    backends.monitor.add(
        Call(orders.principal, started + timedelta(minutes=5), "s3:GetObject", "*"),
        Call(orders.principal, started + timedelta(minutes=6), "s3:PutObject", "*", denied=True),
    )
    result = app.roll_out(orders.id, Stage.CANARY)
    assert result.state is ProposalState.ROLLED_BACK  # the denial breached the canary
    calls = backends.metrics.named("BakeCalls")
    denied = backends.metrics.named("BakeAccessDenied")
    rate = backends.metrics.named("BakeErrorRate")
    assert [(p.value, p.dimensions) for p in calls] == [(2, (("Principal", orders.principal),))]
    assert [p.value for p in denied] == [1]
    assert [(p.value, p.unit) for p in rate] == [(50.0, "Percent")]
    assert calls[0].timestamp == started + timedelta(minutes=6)  # as far as the logs reach
    assert measured(backends.metric_log.events, "RolloutFailure")[-1][0] == 1


def test_a_failure_to_publish_a_bake_never_stops_the_rollout(
    app: Application, backends: MemoryBackends
) -> None:
    orders = in_sandbox(app)
    backends.publish_bakes = True
    backends.metrics.fail_after = 0
    started = backends.set_clock.at = ROLLOUT_AT + timedelta(hours=2)
    backends.monitor.add(
        Call(orders.principal, started + timedelta(minutes=5), "s3:PutObject", "*", denied=True)
    )
    assert app.roll_out(orders.id, Stage.CANARY).state is ProposalState.ROLLED_BACK
