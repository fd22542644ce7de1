from __future__ import annotations

import pytest

from alpha.rollout.errors import IllegalTransitionError
from alpha.rollout.workflow import (
    TRANSITIONS,
    USER_STATE,
    Event,
    Transition,
    WorkflowState,
    next_state,
    terminal_states,
    transition,
    workflow_state,
)
from alpha.store.model import ProposalState


@pytest.mark.parametrize("edge", TRANSITIONS, ids=lambda e: f"{e.source}-{e.event}")
def test_every_transition_of_the_table(edge: Transition) -> None:
    assert next_state(edge.source, edge.event) is edge.target
    assert transition(edge.source, edge.event) == edge


ILLEGAL = [
    (s, e)
    for s in WorkflowState
    for e in Event
    if not any(t.source is s and t.event is e for t in TRANSITIONS)
]


@pytest.mark.parametrize(("source", "event"), ILLEGAL, ids=str)
def test_every_other_pair_is_refused(source: WorkflowState, event: Event) -> None:
    with pytest.raises(IllegalTransitionError, match=source.value):
        next_state(source, event)


def test_the_table_is_deterministic() -> None:
    pairs = [(t.source, t.event) for t in TRANSITIONS]
    assert len(pairs) == len(set(pairs))


def test_the_seed_happy_path() -> None:
    state = WorkflowState.GENERATE
    for event in (
        Event.GENERATED,
        Event.REASONED,
        Event.CHECKED,
        Event.PERSISTED,
        Event.APPROVED,
        Event.STARTED,
        Event.PASSED,
        Event.PASSED,
        Event.PASSED,
    ):
        state = next_state(state, event)
    assert state is WorkflowState.SUCCEEDED


@pytest.mark.parametrize("stage", [WorkflowState.CANARY, WorkflowState.PRODUCTION])
def test_stage_failure_rolls_back(stage: WorkflowState) -> None:
    assert next_state(stage, Event.FAILED) is WorkflowState.ROLLBACK
    assert next_state(WorkflowState.ROLLBACK, Event.RESTORED) is WorkflowState.ROLLED_BACK
    assert next_state(WorkflowState.ROLLBACK, Event.ERROR) is WorkflowState.FAILED


def test_every_proposal_state_is_reachable_and_maps_back() -> None:
    mapped = {v for v in USER_STATE.values() if v is not None}
    assert mapped == set(ProposalState)
    for state in ProposalState:
        assert USER_STATE[workflow_state(state)] is state


def test_terminal_states() -> None:
    assert terminal_states() == {
        WorkflowState.SUCCEEDED,
        WorkflowState.ROLLED_BACK,
        WorkflowState.FAILED,
        WorkflowState.REJECTED,
        WorkflowState.EXPIRED,
    }
