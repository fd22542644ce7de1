"""The events the state machine sends each function (see `alpha.rollout.asl`), validated:
they cross a trust boundary, and a bad one should fail with the field named."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "ApprovalRequestEvent",
    "FailureEvent",
    "FindEvent",
    "ProposalEvent",
    "ProposeEvent",
    "StepContext",
]


class _Event(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class StepContext(_Event):
    """Which execution, state and entry of it: the idempotency key (a Retry keeps it)."""

    execution: str = Field(min_length=1)
    state: str = Field(min_length=1)
    entered: str = Field(min_length=1)


class FindEvent(_Event):
    by: str = Field(min_length=1)
    step: StepContext


class ProposeEvent(_Event):
    principal: str = Field(min_length=1)
    by: str = Field(min_length=1)
    step: StepContext


class ProposalEvent(_Event):
    proposal_id: str = Field(min_length=6)
    step: StepContext


class ApprovalRequestEvent(ProposalEvent):
    task_token: str = Field(min_length=1, max_length=1024)


class FailureEvent(_Event):
    input: dict[str, Any]
    step: StepContext
