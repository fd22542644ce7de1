"""The ingest's hot loop: one batch's `LazyEvent`s straight into a `BatchTally`.

It counts exactly what `BatchTally.add(interpret(event.full(), mapper))` counts (a test checks
that on every real sample), but skips the work most events do not need: `requestParameters`
stays raw JSON unless the event's actions or resources depend on it, event times are parsed
once per hour, and no per-event `EventUsage` or datetime is built. Any event off the common
path (a request-dependent mapping or resource, an odd time, a missing field) goes through
`interpret` whole, so there is one source of truth for what an event means.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import msgspec

from alpha.usage.denials import ErrorKind, classify_error
from alpha.usage.events import LazyEvent
from alpha.usage.interpret import ActionUse, interpret, parse_event_time
from alpha.usage.mapping import EventMapper, Mapped, NotAnAction, VersionedMapping
from alpha.usage.reader import request_problem
from alpha.usage.tally import UsageCounter


@dataclass(frozen=True, slots=True)
class BadRequest:
    """An event (by its position among those tallied) skipped for its `requestParameters`."""

    position: int
    reason: str
    detail: str


_SECONDS = {f"{n:02d}": n for n in range(60)}
_MAX_HOURS = 100_000
# A request naming `versionId` (or spelling a key with a JSON escape) is decoded to decide.
_VERSION_MARKS = (b"versionId", b"\\u")


class FastTally:
    """Tallies `LazyEvent`s with `mapper`'s caches and its own (one per worker process)."""

    __slots__ = ("_hours", "_mapper")

    def __init__(self, mapper: EventMapper) -> None:
        self._mapper = mapper
        self._hours: dict[str, int | None] = {}

    def add_all(self, events: Iterable[LazyEvent], tally: UsageCounter) -> list[BadRequest]:
        """Tally `events`; the ones whose raw `requestParameters` turn out undecodable (a
        number out of range, invalid UTF-8: what the lazy reader could not see) are counted
        as skipped, and returned so the caller can report them."""
        bad: list[BadRequest] = []
        for position, event in enumerate(events):
            if self._add(event, tally):
                continue
            try:
                full = event.full()
            except (msgspec.ValidationError, msgspec.DecodeError, UnicodeDecodeError) as exc:
                reason = request_problem(exc)
                tally.events += 1
                tally.skip(reason)
                bad.append(BadRequest(position, reason, f"{exc} (in `requestParameters`)"))
                continue
            tally.add(interpret(full, self._mapper))
        return bad

    def _add(self, event: LazyEvent, tally: UsageCounter) -> bool:
        """Tally the event on the common path; False when it must take the full one."""
        source, name, raw_time = event.eventSource, event.eventName, event.eventTime
        if not source or not name or not raw_time:
            return False
        second = self._second(raw_time)
        if second is None:
            return False
        mapper = self._mapper
        mapping = mapper.map_without_request(event.eventType, source, name)
        if mapping is None:
            return False
        if isinstance(mapping, NotAnAction):
            tally.events += 1
            tally.skip(mapping.reason)
            return True
        principal = mapper.principals.of(event.userIdentity)
        if principal is None:
            tally.events += 1
            tally.skip("no-principal")
            return True
        kind = classify_error(event.errorCode, event.errorMessage)
        if kind is ErrorKind.UNAUTHENTICATED:
            tally.events += 1
            tally.skip("unauthenticated")
            return True
        if isinstance(mapping, VersionedMapping):
            raw = bytes(event.requestParameters)
            if any(mark in raw for mark in _VERSION_MARKS):
                return False
            mapping = mapping.plain
        if not isinstance(mapping, Mapped):
            return False  # unmapped: `interpret` counts it, and the principal's activity
        uses = self._uses(mapping, event)
        if uses is None:
            return False
        tally.events += 1
        tally.use(
            principal.arn,
            principal.session,
            second,
            event.awsRegion,
            event.sourceIPAddress,
            kind is ErrorKind.DENIED,
            uses,
        )
        return True

    def _uses(self, mapping: Mapped, event: LazyEvent) -> tuple[ActionUse, ...] | None:
        """As `interpret`'s, when no resource depends on the request; else None."""
        resolve = self._mapper.resources.resources_without_request
        if len(mapping.actions) == 1:
            only = mapping.actions[0]
            arns = resolve(only.action, event.resources, only.resource)
            if arns is None:
                return None
            return tuple([ActionUse(only.action, arn) for arn in arns])
        uses: dict[ActionUse, None] = {}
        for mapped in mapping.actions:
            found = resolve(mapped.action, event.resources, mapped.resource)
            if found is None:
                return None
            for arn in found:
                uses[ActionUse(mapped.action, arn)] = None
        return tuple(uses)

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
