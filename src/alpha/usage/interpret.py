"""One CloudTrail record to what it tells about usage: who, which actions, on what, allowed?

(API being filled in: the signatures below are stable.)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from alpha.usage.events import CloudTrailEvent
from alpha.usage.mapping import EventMapper


@dataclass(frozen=True, slots=True)
class ActionUse:
    """One (action, resource) pair; resource is an ARN or "*" when unknown."""

    action: str
    resource: str


@dataclass(frozen=True, slots=True)
class EventUsage:
    """A call by a principal that needed IAM actions. `denied` calls never count as used."""

    principal: str
    session: str | None
    time: datetime
    region: str | None
    source_ip: str | None
    denied: bool
    error_code: str | None
    via_service: str | None  # userIdentity.invokedBy, e.g. "s3.amazonaws.com" for KMS via S3
    uses: tuple[ActionUse, ...]


@dataclass(frozen=True, slots=True)
class IgnoredEvent:
    """Not usage of a principal: not an IAM action, or made by AWS itself (reason says which)."""

    reason: str
    event_source: str
    event_name: str


@dataclass(frozen=True, slots=True)
class UnmappedEvent:
    """A call whose IAM action is unknown: counted and reported, never guessed."""

    event_source: str
    event_name: str
    principal: str | None
    time: datetime


@dataclass(frozen=True, slots=True)
class SkippedEvent:
    """A record missing required fields or with wrong types."""

    reason: str


Interpretation = EventUsage | IgnoredEvent | UnmappedEvent | SkippedEvent


def interpret(event: CloudTrailEvent, mapper: EventMapper) -> Interpretation:
    raise NotImplementedError
