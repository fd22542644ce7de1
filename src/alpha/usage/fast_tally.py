"""The ingest's hot loop: one batch's `LazyEvent`s into a tally, what each means decided once
per group of alike events, by `interpret`.

What an event means (counted or skipped and why, whose call, denied or not, which (action,
resource) authorisations) is decided in one place: `interpret`. This loop and the C scanner
(`native.py`) only extract fields and group: events whose fields the meaning reads are the same
mean the same, so `interpret` runs once per group (`Meanings.of`) and its `Meaning` is counted
for every event of the group, with that event's own time and source IP (which the meaning does
not read).

Every group's key holds the event's type, source and name, region, recipient account, the
identity fields a principal is read from (`PrincipalCache`), its error code and message. What
else it holds, its shape, `Meanings` says from the event's name, and refines from a group's
first event when that one reads more:
- `RESOURCES`: the types, accounts and order of resources[] and which of its ARNs are equal,
  not their text: a meaning whose uses come from resources[] alone holds slots that each event
  fills with its own ARNs (so a million objects read are one group, not a million);
- `MARKS`: whether the request, response or additionalEventData could name a `versionId`
  (S3's versioned actions) or an SSE-KMS key (S3's `sse-kms` authorisations) at all;
- `MARKED`: (with `RESOURCES`, once its group's first event has marks) the values of the
  members that name them (`marks.MARK_NAMES`) in the request, response and additionalEventData, and
  whether each of those is an object; the interpretation then sees those members alone, so a
  thousand uploads under one key are one group, each event keeping its own object ARN;
- `REQUEST`: the whole request and resources[], and with `RESPONSE` the response.
The interpretation is handed only what its group's key holds (`LazyEvent.full`), so it cannot
read a field the key leaves out. An event without a plain time goes through `interpret` whole.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass

import msgspec

from alpha.usage.authorisations import READS_RESPONSE
from alpha.usage.events import CloudTrailEvent, LazyEvent, UserIdentity
from alpha.usage.interpret import (
    ActionUse,
    EventUsage,
    IgnoredEvent,
    UnmappedEvent,
    interpret,
    parse_event_time,
)
from alpha.usage.mapping import EventMapper, Mapped, VersionedMapping
from alpha.usage.marks import has_marks, mark_members, only_marks
from alpha.usage.principals import Principal, principal_key
from alpha.usage.reader import request_problem
from alpha.usage.resources import MARKED_ROLES
from alpha.usage.tally import UsageCounter

__all__ = [
    "MARKED",
    "MARKS",
    "REQUEST",
    "RESOURCES",
    "RESPONSE",
    "ByCaller",
    "FastTally",
    "Meanings",
    "Refine",
    "Skip",
    "Use",
]

# What a group's key holds besides the fields every key holds (the module's docstring)
RESOURCES = 1
MARKS = 2
REQUEST = 4
RESPONSE = 8
MARKED = 16


@dataclass(frozen=True, slots=True)
class BadRequest:
    """An event (by its position among those tallied) skipped for its `requestParameters`."""

    position: int
    reason: str
    detail: str


class Skip(msgspec.Struct, frozen=True, gc=False):
    """The group is no usage of a principal (`IgnoredEvent`'s reason)."""

    reason: str


class Use(msgspec.Struct, frozen=True, gc=False):
    """A principal's call (`EventUsage`; `unmapped` names an `UnmappedEvent`'s call). Each of
    `slots` is -1 (the use's resource is its own) or the index of the resources[] entry whose
    ARN, each event's own, is the use's resource."""

    principal: str
    session: str | None
    denied: bool
    uses: tuple[ActionUse, ...]
    slots: tuple[int, ...]
    unmapped: tuple[str, str] | None

    def uses_of(self, event: LazyEvent) -> tuple[ActionUse, ...]:
        if not any(slot >= 0 for slot in self.slots):
            return self.uses
        arns = [r.ARN or "" for r in event.resources or ()]
        return tuple(
            ActionUse(use.action, arns[slot]) if slot >= 0 else use
            for use, slot in zip(self.uses, self.slots, strict=True)
        )


class ByCaller(msgspec.Struct, frozen=True, gc=False):
    """The meaning of a group whose key leaves the caller's identity out (all but `REQUEST`
    shapes): `caller` when the event's identity names a principal (a `Use` then counts under
    that principal and session, not its own placeholders), else `no_caller`."""

    caller: Meaning
    no_caller: Skip


class Refine(msgspec.Struct, frozen=True, gc=False):
    """The group's first event reads more than its key holds: group by `shape` instead."""

    shape: int


Meaning = Skip | Use

# Who a group's meaning is read for when its key leaves the caller out: any principal will do,
# as only the principal and session of the answer depend on it (and each event's own replace them)
_STAND_IN = UserIdentity(
    type="IAMUser",
    arn="arn:aws:iam::000000000000:user/alpha-stand-in",
    accountId="000000000000",
    userName="alpha-stand-in",
)
_SECONDS = {f"{n:02d}": n for n in range(60)}
_MAX_HOURS = 100_000
_MAX_GROUPS = 20_000  # a key can hold a whole request: hostile input must not grow it unbounded
_MAX_SHAPES = 100_000


class Meanings:
    """`interpret`'s answers for groups of events: what a group's key holds, and what it means."""

    __slots__ = ("_mapper", "_shapes")

    def __init__(self, mapper: EventMapper) -> None:
        self._mapper = mapper
        self._shapes: dict[tuple[str | None, str, str], int] = {}

    def shape(self, event_type: str | None, source: str, name: str) -> int:
        """What the key of an event of this type, source and name holds besides the fields
        every key holds, until its group's first event says it reads more (`Refine`)."""
        key = (event_type, source, name)
        found = self._shapes.get(key)
        if found is None:
            if len(self._shapes) >= _MAX_SHAPES:
                self._shapes.clear()
            found = self._shapes[key] = self._shape(event_type, source, name)
        return found

    def _shape(self, event_type: str | None, source: str, name: str) -> int:
        mapping = self._mapper.map_without_request(event_type, source, name)
        if mapping is None:  # the request decides the actions
            return self._whole(source, name, ())
        if isinstance(mapping, VersionedMapping):
            return RESOURCES | MARKS
        if not isinstance(mapping, Mapped):  # no action, or none known: nothing else read
            return 0
        if any(m.resource in MARKED_ROLES for m in mapping.actions):
            return RESOURCES | MARKS
        takes = self._mapper.resources.takes_nothing
        return 0 if all(takes(m.action) for m in mapping.actions) else RESOURCES

    @staticmethod
    def _whole(source: str, name: str, roles: Iterable[str]) -> int:
        # the launch builder reads the response of the calls whose roles name a type, and an
        # SSE-KMS key may be named by the response alone
        reads = (source, name) in READS_RESPONSE or any(
            r.startswith("type:") or r in MARKED_ROLES for r in roles
        )
        return REQUEST | (RESPONSE if reads else 0)

    def of(self, event: LazyEvent, shape: int) -> Meaning | ByCaller | Refine | None:
        """What every event of `event`'s group means (`Refine` when it reads more than the
        key of `shape` holds); None when the event has no plain time (`interpret` decides it
        alone). Raises msgspec's errors for a request that does not decode (which every event
        of a group holding the request shares)."""
        seen = only_marks(event) if shape & MARKED else event
        full = seen.full(
            request=bool(shape & (REQUEST | MARKED)),
            resources=bool(shape & (REQUEST | RESOURCES)),
            response=bool(shape & (RESPONSE | MARKED)),
        )
        if shape & REQUEST:
            return self._meaning(full, event, shape)
        refined = self._refined(event, shape)
        if refined is not None:
            return Refine(refined)
        # the caller is not in the key: the meaning for any principal, and for none
        caller = self._meaning(msgspec.structs.replace(full, userIdentity=_STAND_IN), event, shape)
        if caller is None:
            return None
        if isinstance(caller, Refine):
            return caller
        nobody = interpret(msgspec.structs.replace(full, userIdentity=None), self._mapper)
        if not isinstance(nobody, IgnoredEvent):
            return None
        return ByCaller(caller, Skip(nobody.reason))

    def _meaning(
        self, full: CloudTrailEvent, event: LazyEvent, shape: int
    ) -> Meaning | Refine | None:
        outcome = interpret(full, self._mapper)
        if isinstance(outcome, IgnoredEvent):
            return Skip(outcome.reason)
        unmapped = None
        if isinstance(outcome, UnmappedEvent):
            unmapped = (outcome.event_source, outcome.event_name)
            outcome = outcome.usage
        if not isinstance(outcome, EventUsage):
            return None
        slots = None
        if shape & RESOURCES and not shape & REQUEST:
            slots = _slots(outcome.uses, event, self._marked(full) if shape & MARKED else ())
        if slots is None and not shape & REQUEST and shape & RESOURCES:
            return Refine(self._whole_of(event))
        return Use(
            outcome.principal,
            outcome.session,
            outcome.denied,
            outcome.uses,
            slots or (-1,) * len(outcome.uses),
            unmapped,
        )

    def _marked(self, full: CloudTrailEvent) -> frozenset[str]:
        """The resources `full` names without its resources[]: in a `MARKED` group, those of
        the members its key holds (the SSE-KMS key), the same for every event of the group."""
        outcome = interpret(msgspec.structs.replace(full, resources=None), self._mapper)
        if isinstance(outcome, UnmappedEvent):
            outcome = outcome.usage
        if not isinstance(outcome, EventUsage):
            return frozenset()
        return frozenset(use.resource for use in outcome.uses)

    def _whole_of(self, event: LazyEvent) -> int:
        """The `REQUEST` shape of `event`'s name, with the response if any role reads it."""
        source, name = event.eventSource or "", event.eventName or ""
        mapping = self._mapper.map_without_request(event.eventType, source, name)
        mappings = (
            (mapping.plain, mapping.versioned)
            if isinstance(mapping, VersionedMapping)
            else (mapping,)
        )
        roles = [a.resource for m in mappings if isinstance(m, Mapped) for a in m.actions]
        return self._whole(source, name, roles)

    def _refined(self, event: LazyEvent, shape: int) -> int | None:
        """The shape of a group whose first event reads its request, an ARN's text or (first
        found) marks; None when the key of `shape` holds all it reads."""
        source, name = event.eventSource or "", event.eventName or ""
        mapping = self._mapper.map_without_request(event.eventType, source, name)
        if mapping is None:
            return self._whole(source, name, ())
        marked = bool(shape & MARKS) and has_marks(event)
        keyed = marked or bool(shape & MARKED)  # the versionId is in the key: either mapping
        mappings = (
            ((mapping.plain, mapping.versioned) if keyed else (mapping.plain,))
            if isinstance(mapping, VersionedMapping)
            else (mapping,)
        )
        actions = [a for m in mappings if isinstance(m, Mapped) for a in m.actions]
        roles = [a.resource for a in actions]
        # a marked role names nothing without the marks (resources.MARKED_ROLES), and only
        # them: the rest must not read the request, nor the response (`_whole`)
        reads = self._mapper.resources.reads_request
        unmarked = [a for a in actions if a.resource not in MARKED_ROLES]
        if any(reads(a.action, a.resource, event.resources) for a in unmarked) or (
            keyed and self._whole(source, name, [a.resource for a in unmarked]) & RESPONSE
        ):
            return self._whole(source, name, roles)
        return RESOURCES | MARKED if marked else None


def _slots(
    uses: tuple[ActionUse, ...], event: LazyEvent, marked: Collection[str]
) -> tuple[int, ...] | None:
    """Each use's resources[] slot (-1 for `*` or a `marked` resource, named by the key's
    members); None when a use's resource is in none, or could be either."""
    arns = [r.ARN for r in event.resources or ()]
    slots: list[int] = []
    for use in uses:
        if use.resource == "*" or (use.resource in marked and use.resource not in arns):
            slots.append(-1)
        elif use.resource in arns and use.resource not in marked:
            slots.append(arns.index(use.resource))
        else:
            return None
    return tuple(slots)


def count_meaning(
    tally: UsageCounter,
    meaning: Meaning,
    second: int,
    event: LazyEvent,
    caller: Principal | None = None,
) -> None:
    """Count one event of a group as `count_outcome` counts its interpretation (`caller`: the
    event's principal, for a `ByCaller` group's `Use`)."""
    region, source_ip = event.awsRegion, event.sourceIPAddress
    tally.events += 1
    if isinstance(meaning, Skip):
        tally.skip(meaning.reason)
        return
    if meaning.unmapped is not None:
        tally.unmapped(*meaning.unmapped)
    uses = meaning.uses_of(event)
    principal, session = (
        (meaning.principal, meaning.session) if caller is None else (caller.arn, caller.session)
    )
    tally.use(principal, session, second, region, source_ip, meaning.denied, uses)


def group_key(event: LazyEvent, shape: int) -> tuple[object, ...]:
    """Every field of `event` the meaning of its group reads (the module's docstring); the
    caller's identity only in a `REQUEST` shape (else the meaning is `ByCaller`)."""
    identity = event.userIdentity if shape & REQUEST else None
    who = None if identity is None else principal_key(identity)
    more: object = None
    if shape & REQUEST:
        response = bytes(event.responseElements) if shape & RESPONSE else None
        request = (bytes(event.requestParameters), bytes(event.additionalEventData))
        more = (request, _resources(event), response)
    elif shape & MARKED:
        more = (_layout(event), mark_members(event))
    elif shape:
        more = (_layout(event), has_marks(event) if shape & MARKS else None)
    return (
        shape,
        event.eventType,
        event.eventSource,
        event.eventName,
        event.awsRegion,
        event.recipientAccountId,
        who,
        event.errorCode,
        event.errorMessage,
        more,
    )


def _resources(event: LazyEvent) -> tuple[object, ...] | None:
    return None if event.resources is None else tuple(event.resources)


def _layout(event: LazyEvent) -> tuple[object, ...] | None:
    """resources[] without its ARNs' text: each entry's type, account, whether it has an ARN
    and the first entry with the same one."""
    if event.resources is None:
        return None
    arns = [r.ARN for r in event.resources]
    return tuple(
        (r.type, r.accountId, bool(r.ARN), arns.index(r.ARN) if r.ARN else -1)
        for r in event.resources
    )


class FastTally:
    """Tallies `LazyEvent`s with `mapper`'s caches and its own (one per worker process)."""

    __slots__ = ("_groups", "_hours", "_mapper", "meanings")

    def __init__(self, mapper: EventMapper) -> None:
        self._mapper = mapper
        self.meanings = Meanings(mapper)
        self._hours: dict[str, int | None] = {}
        self._groups: dict[tuple[object, ...], Meaning | ByCaller | Refine] = {}

    def add_all(self, events: Iterable[LazyEvent], tally: UsageCounter) -> list[BadRequest]:
        """Tally `events`; the ones whose raw `requestParameters` turn out undecodable (a
        number out of range, invalid UTF-8: what the lazy reader could not see) are counted
        as skipped, and returned so the caller can report them."""
        bad: list[BadRequest] = []
        for position, event in enumerate(events):
            try:
                if self._add(event, tally):
                    continue
                outcome = interpret(event.full(), self._mapper)
            except (msgspec.ValidationError, msgspec.DecodeError, UnicodeDecodeError) as exc:
                reason = request_problem(exc)
                tally.events += 1
                tally.skip(reason)
                bad.append(BadRequest(position, reason, f"{exc} (in `requestParameters`)"))
                continue
            tally.add(outcome)
        return bad

    def _add(self, event: LazyEvent, tally: UsageCounter) -> bool:
        """Tally the event by its group; False when it has no plain time or name."""
        source, name, raw_time = event.eventSource, event.eventName, event.eventTime
        if not source or not name or not raw_time:
            return False
        second = self._second(raw_time)
        if second is None:
            return False
        shape = self.meanings.shape(event.eventType, source, name)
        for _ in range(3):  # a group refined twice holds all its first event reads
            key = group_key(event, shape)
            meaning = self._groups.get(key)
            if meaning is None:
                meaning = self.meanings.of(event, shape)
                if meaning is None:
                    return False
                if len(self._groups) >= _MAX_GROUPS:
                    self._groups.clear()
                self._groups[key] = meaning
            if isinstance(meaning, ByCaller):
                caller = self._mapper.principals.of(event.userIdentity)
                if caller is None:
                    count_meaning(tally, meaning.no_caller, second, event)
                else:
                    count_meaning(tally, meaning.caller, second, event, caller)
                return True
            if not isinstance(meaning, Refine):
                count_meaning(tally, meaning, second, event)
                return True
            shape = meaning.shape
        return False

    def _second(self, raw: str) -> int | None:
        """Seconds since the epoch of `2024-03-23T01:24:46Z`, each hour parsed once; other
        shapes through `parse_event_time`. None when it is no time."""
        if len(raw) == 20 and raw[19] == "Z" and raw[13] == ":" and raw[16] == ":":
            minutes = _SECONDS.get(raw[14:16])
            seconds = _SECONDS.get(raw[17:19])
            prefix = raw[:13]
            hour = self._hours.get(prefix)
            if hour is None and prefix not in self._hours:
                hour = self._hour(prefix)
            if hour is not None and minutes is not None and seconds is not None:
                return hour + minutes * 60 + seconds
        moment = parse_event_time(raw)
        return None if moment is None else int(moment.timestamp())

    def _hour(self, prefix: str) -> int | None:
        if len(self._hours) >= _MAX_HOURS:
            self._hours.clear()
        standard = prefix[4] == "-" and prefix[7] == "-" and prefix[10] == "T"
        moment = parse_event_time(prefix + ":00:00Z") if standard else None
        hour = None if moment is None else int(moment.timestamp())
        self._hours[prefix] = hour
        return hour
