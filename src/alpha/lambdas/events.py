"""The events the state machine sends each function (see `alpha.rollout.asl`), validated:
they cross a trust boundary, and a bad one should fail with the field named."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "ApprovalRequestEvent",
    "FailureEvent",
    "FindEvent",
    "ObjectCreatedEvent",
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


class _Notice(BaseModel):
    """Part of an event AWS sends: fields this code does not read are ignored, not refused."""

    model_config = ConfigDict(frozen=True, extra="ignore")


class S3Bucket(_Notice):
    name: str = Field(min_length=3)


class S3Object(_Notice):
    key: str = Field(min_length=1)
    size: int = Field(ge=0)
    etag: str = Field(min_length=1)


class ObjectCreatedDetail(_Notice):
    bucket: S3Bucket
    object: S3Object


class ObjectCreatedEvent(_Notice):
    """EventBridge's `Object Created` from the trail bucket: one log file CloudTrail
    delivered. The detail (bucket, key, size, ETag) is the idempotency key: a redelivered
    event publishes nothing twice."""

    detail_type: str = Field(alias="detail-type", pattern="^Object Created$")
    source: str = Field(pattern="^aws.s3$")
    detail: ObjectCreatedDetail
