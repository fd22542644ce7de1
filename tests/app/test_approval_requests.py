"""An execution waiting for approval: its token stored with the proposal, answered once by
the decision that settles it, whichever interface records it."""

from __future__ import annotations

import pytest

from alpha.app import AppError, Application
from alpha.app.approval_requests import REJECTED_ERROR, pending_request
from alpha.rollout.errors import ApprovalError
from alpha.store.model import ProposalState
from tests.app.conftest import APPROVER, PROPOSER, orders_of
from tests.fakes.memory_backends import MemoryBackends

EXECUTION = "arn:aws:states:eu-west-1:123456789012:execution:alpha:run-1"


def _waiting(app: Application, backends: MemoryBackends) -> tuple[str, str]:
    orders = orders_of(app)
    token = backends.callbacks.issue("token-1")
    assert app.record_approval_request(orders[:8], token, EXECUTION) == orders
    return orders, token


def test_an_approval_answers_the_waiting_execution_once(
    app: Application, backends: MemoryBackends
) -> None:
    orders, token = _waiting(app, backends)
    app.record_approval_request(orders, token, EXECUTION)  # a retried step: no second record
    decision = app.approve(orders, APPROVER)
    assert decision.answered_execution == EXECUTION
    assert decision.to_dict()["answered_execution"] == EXECUTION
    [answer] = backends.callbacks.answers
    assert answer.token == token
    assert answer.output == {
        "event": "approved",
        "proposal_id": orders,
        "wait_seconds": 0,
        "approval_timeout_seconds": 0,
    }
    with backends.open_store() as store:
        assert pending_request(store, orders) is None
        actions = [e.action for e in store.audit(orders)]
    assert actions.count("approval.requested") == actions.count("approval.answered") == 1
    # A later change of mind is recorded; the execution was answered already.
    assert app.reject(orders, "lee").answered_execution is None
    assert len(backends.callbacks.answers) == 1


def test_a_rejection_fails_the_task_into_rejected(
    app: Application, backends: MemoryBackends
) -> None:
    orders, token = _waiting(app, backends)
    decision = app.reject(orders, APPROVER, "too broad")
    assert decision.state is ProposalState.REJECTED
    [answer] = backends.callbacks.answers
    assert (answer.token, answer.error, answer.cause) == (
        token,
        REJECTED_ERROR,
        f"rejected by {APPROVER}",
    )


def test_a_refused_decision_answers_nothing(app: Application, backends: MemoryBackends) -> None:
    orders, _ = _waiting(app, backends)
    with pytest.raises(ApprovalError, match="separation of duties"):
        app.approve(orders, PROPOSER)
    assert backends.callbacks.answers == []


def test_a_decision_without_a_waiting_execution_asks_no_workflow(
    app: Application, backends: MemoryBackends
) -> None:
    assert app.approve(orders_of(app), APPROVER).answered_execution is None
    assert backends.callbacks.answers == []


def test_an_answer_that_fails_says_the_decision_is_recorded(
    app: Application, backends: MemoryBackends
) -> None:
    orders = orders_of(app)
    app.record_approval_request(orders, "never-issued", EXECUTION)  # Step Functions forgot it
    with pytest.raises(
        AppError, match=f"approved \\(recorded\\), but the waiting execution {EXECUTION}"
    ):
        app.approve(orders, APPROVER)
    with backends.open_store() as store:
        assert store.proposal_state(orders) is ProposalState.APPROVED
