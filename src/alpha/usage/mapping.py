"""From a CloudTrail event's (eventSource, eventName) to the IAM actions it needed.

(API being filled in: the signatures below are stable.)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from alpha.catalog import Catalog
from alpha.usage.events import CloudTrailEvent


@dataclass(frozen=True, slots=True)
class MappedAction:
    """One IAM action an event needed. `resource` says which of the event's resources it
    applies to: "" for the event's main resource, or a role such as "source" / "destination"
    (CopyObject), "table:<name>" for a DynamoDB batch, ..."""

    action: str
    resource: str = ""


@dataclass(frozen=True, slots=True)
class Mapped:
    actions: tuple[MappedAction, ...]


@dataclass(frozen=True, slots=True)
class NotAnAction:
    """The event is not an IAM-authorised call (console sign-in, GetCallerIdentity, ...)."""

    reason: str


@dataclass(frozen=True, slots=True)
class Unmapped:
    event_source: str
    event_name: str


MappingResult = Mapped | NotAnAction | Unmapped


@dataclass(frozen=True, slots=True)
class MappingTable:
    version: str
    raw: dict[str, Any]


def load_mapping_table() -> MappingTable:
    raise NotImplementedError


class EventMapper:
    def __init__(self, catalog: Catalog, table: MappingTable) -> None:
        self.catalog = catalog
        self.table = table

    def map(self, event: CloudTrailEvent) -> MappingResult:
        raise NotImplementedError
