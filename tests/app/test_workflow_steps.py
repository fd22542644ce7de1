"""The workflow's steps over `MemoryBackends`: the events each answers are the ones the
Step Functions definition routes on, and a bake answers how long it has left."""

from __future__ import annotations

from datetime import timedelta

import pytest

from alpha.app import Application
from alpha.app.workflow_steps import (
    BAKING,
    StepError,
    find_principals,
    propose_step,
    rollback_step,
    stage_step,
)
from alpha.store.model import ProposalState, Stage
from tests.app.conftest import ACCOUNT, APPROVER, LOGS, PROPOSER
from tests.fakes.memory_backends import MemoryBackends
from tests.fakes.scripted_monitor import Call

ORDERS = "orders-api"


def _orders(app: Application) -> str:
    return next(p for p in find_principals(app, ACCOUNT, (LOGS,)) if p.endswith(f"/{ORDERS}"))


def _proposed(app: Application) -> str:
    step = propose_step(app, ACCOUNT, (LOGS,), _orders(app), PROPOSER)
    assert step.event == "persisted"
    assert step.approval_timeout_seconds == 7 * 24 * 3600
    return step.proposal_id


def _baked(app: Application, backends: MemoryBackends, stage: Stage) -> str:
    """Run the stage until it is no longer baking, moving the clock as the Wait would."""
    for _ in range(10):
        step = stage_step(app, backends.store.proposals()[0].id, stage)
        if step.event != BAKING:
            return step.event
        assert step.wait_seconds >= app.settings.poll_interval.total_seconds()
        backends.set_clock.at += timedelta(seconds=step.wait_seconds)
        backends.monitor.covered = backends.set_clock.at
    raise AssertionError(f"{stage} never finished baking")


def test_find_principals_lists_those_with_unused_grants(app: Application) -> None:
    found = find_principals(app, ACCOUNT, (LOGS,))
    assert any(p.endswith(f"/{ORDERS}") for p in found)


def test_a_rollout_step_by_step_to_success(app: Application, backends: MemoryBackends) -> None:
    proposal = _proposed(app)
    app.approve(proposal, APPROVER)
    assert _baked(app, backends, Stage.SANDBOX) == "passed"
    assert _baked(app, backends, Stage.CANARY) == "passed"
    assert _baked(app, backends, Stage.PRODUCTION) == "passed"
    assert backends.store.proposal_state(proposal) is ProposalState.SUCCEEDED


def test_a_failed_canary_answers_failed_and_the_rollback_step_confirms_it(
    app: Application, backends: MemoryBackends
) -> None:
    proposal = _proposed(app)
    app.approve(proposal, APPROVER)
    assert _baked(app, backends, Stage.SANDBOX) == "passed"
    first = stage_step(app, proposal, Stage.CANARY)
    assert (first.event, first.wait_seconds) == (BAKING, 3600)  # the whole default bake
    at = backends.set_clock.at + timedelta(minutes=5)
    backends.monitor.add(
        *[Call(_orders(app), at, "s3:GetObject", "arn:aws:s3:::orders/x", denied=True)] * 20
    )
    assert _baked(app, backends, Stage.CANARY) == "failed"
    assert backends.store.proposal_state(proposal) is ProposalState.ROLLED_BACK
    step = rollback_step(app, proposal)
    assert (step.event, step.proposal_id) == ("restored", proposal)


def test_a_proposal_already_decided_is_not_asked_again(app: Application) -> None:
    proposal = _proposed(app)
    app.approve(proposal, APPROVER)
    with pytest.raises(StepError, match="already approved"):
        propose_step(app, ACCOUNT, (LOGS,), _orders(app), PROPOSER)


def test_a_principal_without_a_proposal_answers_error(app: Application) -> None:
    builder = "arn:aws:iam::111122223333:role/report-builder"  # its reasoner fails
    step = propose_step(app, ACCOUNT, (LOGS,), builder, PROPOSER)
    assert step.event == "error"
    assert "report-builder" in step.detail
