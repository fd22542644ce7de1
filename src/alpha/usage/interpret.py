"""One CloudTrail record to what it says about usage: who, which actions, on what, allowed?

`interpret` returns one of four sibling outcomes the aggregator counts (immutable msgspec
structs rather than frozen dataclasses: one is built per event, and a struct is ten times
cheaper to build):
- `EventUsage`: a principal's call that needed IAM actions (denied or not);
- `IgnoredEvent`: not usage of a principal (sign-in, AWS-internal, a service's own call, an
  unauthenticated request), with the reason;
- `UnmappedEvent`: a principal's call whose IAM action is unknown, reported, never guessed,
  and still the principal's activity: its `usage` holds one stand-in use
  (`authorisations.unmapped_action`) so scan, usage and generate see the call;
- `SkippedEvent`: a record missing eventTime/eventSource/eventName or with a bad value.
"""

from __future__ import annotations

from datetime import UTC, datetime

import msgspec

from alpha.usage.authorisations import unmapped_action
from alpha.usage.denials import ErrorKind, classify_error
from alpha.usage.events import CloudTrailEvent
from alpha.usage.mapping import EventMapper, Mapped, NotAnAction
from alpha.usage.resources import UNKNOWN_RESOURCE, ResourceResolver

__all__ = ["EventUsage", "UnmappedEvent", "interpret", "parse_event_time"]


_SERVICE_SUFFIX = ".amazonaws.com"


class ActionUse(msgspec.Struct, frozen=True, gc=False):
    """One (action, resource) pair; resource is an ARN or "*" when unknown."""

    action: str
    resource: str


class EventUsage(msgspec.Struct, frozen=True, gc=False):
    """A call by a principal that needed IAM actions. Denied calls never count as used."""

    principal: str
    session: str | None
    time: datetime
    region: str | None
    source_ip: str | None
    denied: bool
    error_code: str | None
    # The AWS service that made the call with the principal's credentials (forward access,
    # e.g. "s3.amazonaws.com" decrypting with KMS): still the principal's permission need,
    # typically granted with a kms:ViaService-style condition.
    via_service: str | None
    uses: tuple[ActionUse, ...]


class IgnoredEvent(msgspec.Struct, frozen=True, gc=False):
    """Not usage of a principal. Reasons: the mapping's (`sign-in`, `aws-internal`,
    `no-permission-needed`, `console-action`, `vpc-endpoint-event`), `no-principal`
    (AWS services, other accounts, anonymous) and `unauthenticated`."""

    reason: str
    event_source: str
    event_name: str


class UnmappedEvent(msgspec.Struct, frozen=True, gc=False):
    event_source: str
    event_name: str
    usage: EventUsage

    @property
    def principal(self) -> str:
        return self.usage.principal

    @property
    def time(self) -> datetime:
        return self.usage.time


class SkippedEvent(msgspec.Struct, frozen=True, gc=False):
    """A record that cannot be interpreted; reason like `missing eventTime`."""

    reason: str


Interpretation = EventUsage | IgnoredEvent | UnmappedEvent | SkippedEvent


def interpret(event: CloudTrailEvent, mapper: EventMapper) -> Interpretation:
    """Interpret one event. All caches live in `mapper`: build one per run and reuse it."""
    source, name, raw_time = event.eventSource, event.eventName, event.eventTime
    if not source or not isinstance(source, str):
        return SkippedEvent("missing eventSource")
    if not name or not isinstance(name, str):
        return SkippedEvent("missing eventName")
    if not raw_time or not isinstance(raw_time, str):
        return SkippedEvent("missing eventTime")
    time = parse_event_time(raw_time)
    if time is None:
        return SkippedEvent("bad eventTime")
    mapping = mapper.map(event)
    if isinstance(mapping, NotAnAction):
        return IgnoredEvent(mapping.reason, source, name)
    principal = mapper.principals.of(event.userIdentity)
    if principal is None:
        return IgnoredEvent("no-principal", source, name)
    kind = classify_error(event.errorCode, event.errorMessage)
    if kind is ErrorKind.UNAUTHENTICATED:
        return IgnoredEvent("unauthenticated", source, name)
    if isinstance(mapping, Mapped):
        uses = action_uses(mapping, event, mapper.resources)
    else:
        uses = (ActionUse(unmapped_action(source, name), UNKNOWN_RESOURCE),)
    usage = EventUsage(
        principal=principal.arn,
        session=principal.session,
        time=time,
        region=event.awsRegion,
        source_ip=event.sourceIPAddress,
        denied=kind is ErrorKind.DENIED,
        error_code=event.errorCode or None,
        via_service=_via_service(event),
        uses=uses,
    )
    return usage if isinstance(mapping, Mapped) else UnmappedEvent(source, name, usage)


def action_uses(
    mapping: Mapped, event: CloudTrailEvent, resolver: ResourceResolver
) -> tuple[ActionUse, ...]:
    resolve = resolver.resources
    if len(mapping.actions) == 1:  # the common case, without the dedup dict
        only = mapping.actions[0]
        arns = resolve(only.action, event, only.resource)
        if len(arns) == 1:
            return (ActionUse(only.action, arns[0]),)
        return tuple([ActionUse(only.action, arn) for arn in arns])
    uses: dict[ActionUse, None] = {}
    for mapped in mapping.actions:
        for arn in resolve(mapped.action, event, mapped.resource):
            uses[ActionUse(mapped.action, arn)] = None
    return tuple(uses)


def parse_event_time(raw: str) -> datetime | None:
    """CloudTrail's `2023-07-10T11:42:35Z` (and the `2022-09-27 19:59:08` some exports write),
    as an aware UTC datetime; None when it is no time."""
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        return None
    if moment.tzinfo is UTC:  # the common `...Z`
        return moment
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _via_service(event: CloudTrailEvent) -> str | None:
    identity = event.userIdentity
    invoked_by = identity.invokedBy if identity is not None else None
    if invoked_by and invoked_by.endswith(_SERVICE_SUFFIX):
        return invoked_by
    return None
