"""Athena's groups of calls back to usage: each group is one representative CloudTrail event
(every field the interpretation reads, as the query grouped them) and the number of calls it
stands for. Interpreting the representative once and weighing it by the count gives the rows
the local aggregation makes from the same calls.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from alpha.adapters.aws.errors import AwsSourceError
from alpha.usage.aggregate import BatchUsage, HourlyUsage, UnmappedCount
from alpha.usage.events import (
    CloudTrailEvent,
    EventResource,
    OnBehalfOf,
    SessionContext,
    SessionIssuer,
    UserIdentity,
)
from alpha.usage.interpret import EventUsage, UnmappedEvent, interpret, parse_event_time
from alpha.usage.mapping import EventMapper


@dataclass(frozen=True, slots=True)
class UsageGroup:
    """Calls that share everything the interpretation reads: one representative event (its
    time is the first call's) and how many calls it stands for."""

    event: CloudTrailEvent
    count: int
    first_seen: str
    last_seen: str


def usage_groups(rows: Iterable[Mapping[str, object]]) -> Iterator[UsageGroup]:
    """Result rows (from Athena, or DuckDB in the tests) to groups."""
    for row in rows:
        text = {name: None if value is None else str(value) for name, value in row.items()}
        first = text["first_seen"] or ""
        yield UsageGroup(
            _event(text, first), int(text["calls"] or 0), first, text["last_seen"] or ""
        )


def _event(row: Mapping[str, str | None], time: str) -> CloudTrailEvent:
    issuer = None
    if any(row[name] is not None for name in ("issuer_type", "issuer_arn", "issuer_username")):
        issuer = SessionIssuer(
            type=row["issuer_type"],
            arn=row["issuer_arn"],
            userName=row["issuer_username"],
            accountId=row["issuer_account"],
        )
    source_identity, behalf_user = row.get("source_identity"), row.get("behalf_user")
    context = None
    if issuer is not None or source_identity is not None:
        context = SessionContext(sessionIssuer=issuer, sourceIdentity=source_identity)
    identity = UserIdentity(
        type=row["identity_type"],
        arn=row["identity_arn"],
        accountId=row["identity_account"],
        userName=row["identity_username"],
        invokedBy=row["invoked_by"],
        sessionContext=context,
        onBehalfOf=None if behalf_user is None else OnBehalfOf(userId=behalf_user),
    )
    return CloudTrailEvent(
        eventTime=time,
        eventSource=row["event_source"],
        eventName=row["event_name"],
        eventType=row["event_type"],
        awsRegion=row["region"],
        recipientAccountId=row["recipient_account"],
        errorCode=row["error_code"],
        errorMessage=row["error_message"],
        userIdentity=identity,
        requestParameters=_request(row),
        responseElements=_response(row.get("response_json")),
        resources=_resources(row["resources_json"]),
    )


def _request(row: Mapping[str, str | None]) -> dict[str, Any] | None:
    if "request_json" in row:
        whole = row["request_json"]
        parsed = orjson.loads(whole) if whole else None
        return parsed if isinstance(parsed, dict) else None
    picked = {
        name.removeprefix("request_"): orjson.loads(value)
        for name, value in row.items()
        if name.startswith("request_") and value is not None
    }
    return picked or None


def _response(text: str | None) -> Any:
    """The response the query kept (only for the calls the model reads it for)."""
    return orjson.loads(text) if text else None


def _resources(text: str | None) -> list[EventResource] | None:
    """Trino casts a ROW to a JSON object (older engines to an array, in field order)."""
    if not text:
        return None
    found = []
    for item in orjson.loads(text) or ():
        if isinstance(item, list):
            item = dict(zip(("arn", "accountid", "type"), item, strict=False))
        if isinstance(item, dict):
            found.append(
                EventResource(
                    ARN=item.get("arn"), accountId=item.get("accountid"), type=item.get("type")
                )
            )
    return found


def hourly_usage(groups: Iterable[UsageGroup], mapper: EventMapper) -> BatchUsage:
    """Interpret each group once and weigh it by its count: the rows the local aggregation
        makes from the same calls (`alpha.usage.aggregate.usage_rows` folds them for a report).
        A group's hour is its first call's, so time filters on these rows are per group. The query
    does not group by source IP, so these batches carry no source IPs."""
    rows: dict[tuple[str, str | None, str, str, str | None], list[int]] = {}
    skipped: dict[str, int] = {}
    unmapped: dict[tuple[str, str], int] = {}
    events = 0
    for group in groups:
        events += group.count
        outcome = interpret(group.event, mapper)
        if isinstance(outcome, EventUsage):
            _add(rows, outcome, group)
        elif isinstance(outcome, UnmappedEvent):
            key = (outcome.event_source, outcome.event_name)
            unmapped[key] = unmapped.get(key, 0) + group.count
            _add(rows, outcome.usage, group)  # still the principal's activity, as locally
        else:
            skipped[str(outcome.reason)] = skipped.get(str(outcome.reason), 0) + group.count
    hourly = tuple(
        HourlyUsage(*key[:4], tally[2] // 3600, tally[0], tally[1], tally[2], tally[3], key[4])
        for key, tally in rows.items()
    )
    counts = tuple(UnmappedCount(s, n, c) for (s, n), c in sorted(unmapped.items()))
    return BatchUsage.of(events, hourly, skipped, counts)


def _add(
    rows: dict[tuple[str, str | None, str, str, str | None], list[int]],
    usage: EventUsage,
    group: UsageGroup,
) -> None:
    first = _seconds(group.first_seen)
    last = _seconds(group.last_seen)
    for use in usage.uses:
        key = (usage.principal, usage.session, use.action, use.resource, usage.region)
        tally = rows.setdefault(key, [0, 0, first, last])
        tally[1 if usage.denied else 0] += group.count
        tally[2] = min(tally[2], first)
        tally[3] = max(tally[3], last)


def _seconds(text: str) -> int:
    moment = parse_event_time(text)
    if moment is None:
        raise AwsSourceError(f"Athena result: {text!r} is not an event time")
    return int(moment.timestamp())
