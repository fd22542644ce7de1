"""From a CloudTrail event's (eventSource, eventName) to the IAM actions the call needed.

The generic rule covers most events: the eventSource host is the IAM prefix and the eventName
is the action, when the catalog has that action. `data/event_actions.json`, a versioned table
built from botocore's service models and the Service Authorization Reference, holds the
exceptions: sources whose host is not the prefix, renamed operations, operations needing
several actions, and events that are no IAM-authorised call at all. Nothing is guessed: an
event whose action the catalog does not know is `Unmapped`, and every emitted action is the
catalog's own (canonical casing).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

import orjson

from alpha.catalog import Catalog
from alpha.usage.errors import UsageError
from alpha.usage.events import CloudTrailEvent
from alpha.usage.principals import PrincipalCache
from alpha.usage.resources import ResourceResolver

__all__ = ["EventMapper"]


_AWS_SUFFIX = ".amazonaws.com"
# CloudTrail names some Lambda (and a few other) calls after the API version they used:
# `CreateFunction20150331`, `GetFunction20150331v2`. Only a trailing, date-shaped suffix is cut,
# and only when what remains is a catalog action (CloudTracker cut any "20..." and broke names).
_VERSION_SUFFIX = re.compile(
    r"^(?P<base>[A-Za-z]+?)20\d\d(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])(?:v\d+)?$"
)
_MAX_CACHED = 100_000


@dataclass(frozen=True, slots=True)
class MappedAction:
    """One IAM action an event needed, and which of the request's resources it applies to:
    "" is the event's main resource; "source" / "destination" name one side of a copy or
    re-encrypt; "table:NAME" / "index:TABLE/INDEX" name a DynamoDB table of a batch."""

    action: str
    resource: str = ""


@dataclass(frozen=True, slots=True)
class Mapped:
    actions: tuple[MappedAction, ...]


@dataclass(frozen=True, slots=True)
class NotAnAction:
    """Not an IAM-authorised call: `sign-in`, `no-permission-needed`, `aws-internal`, ..."""

    reason: str


@dataclass(frozen=True, slots=True)
class Unmapped:
    """No catalog action is known for the event: counted and reported, never guessed."""

    event_source: str
    event_name: str


MappingResult = Mapped | NotAnAction | Unmapped


@dataclass(frozen=True, slots=True)
class TableEntry:
    """One exception of the mapping table, as written in the data file."""

    source: str
    event: str
    actions: tuple[str, ...] = ()
    with_version_id: tuple[str, ...] = ()
    by_request: str | None = None
    not_an_action: str | None = None


@dataclass(frozen=True, slots=True)
class MappingTable:
    version: str
    sources: Mapping[str, str]
    not_an_action_sources: Mapping[str, str]
    not_an_action_event_types: Mapping[str, str]
    entries: tuple[TableEntry, ...]


@functools.lru_cache(maxsize=1)
def load_mapping_table() -> MappingTable:
    """The table shipped with ALPHA (read once per process)."""
    raw = resources.files("alpha.usage").joinpath("data/event_actions.json").read_bytes()
    return parse_mapping_table(orjson.loads(raw))


def parse_mapping_table(raw: Mapping[str, Any]) -> MappingTable:
    try:
        entries = tuple(
            TableEntry(
                source=item["source"],
                event=item["event"],
                actions=tuple(item.get("actions", ())),
                with_version_id=tuple(item.get("with_version_id", ())),
                by_request=item.get("by_request"),
                not_an_action=item.get("not_an_action"),
            )
            for item in raw["events"]
        )
        return MappingTable(
            version=str(raw["version"]),
            sources={k: v["prefix"] for k, v in raw["sources"].items()},
            not_an_action_sources=dict(raw["not_an_action_sources"]),
            not_an_action_event_types=dict(raw["not_an_action_event_types"]),
            entries=entries,
        )
    except (KeyError, TypeError, AttributeError) as exc:
        raise UsageError(f"event_actions.json: malformed mapping table: {exc!r}") from exc


# Request-dependent mappings ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class VersionedMapping:
    """An S3 operation whose action depends on whether the request names a `versionId`."""

    plain: Mapped
    versioned: Mapped


@dataclass(frozen=True, slots=True)
class _ByRequest:
    event_source: str
    event_name: str
    handler: Callable[[Catalog, Mapping[str, Any]], tuple[MappedAction, ...]]


_Plan = Mapped | NotAnAction | Unmapped | VersionedMapping | _ByRequest

_ITEM_ACTIONS = {
    "put": "dynamodb:PutItem",
    "update": "dynamodb:UpdateItem",
    "delete": "dynamodb:DeleteItem",
    "conditioncheck": "dynamodb:ConditionCheckItem",
    "get": "dynamodb:GetItem",
}


def _dynamodb_items(_: Catalog, params: Mapping[str, Any]) -> tuple[MappedAction, ...]:
    """TransactWriteItems / TransactGetItems: CloudTrail logs `requestItems` as a list of
    `{"operation": "Put", "tableName": ...}` (DynamoDB developer guide, log entry examples)."""
    found: dict[MappedAction, None] = {}
    items = params.get("requestItems")
    for item in items if isinstance(items, list) else ():
        if not isinstance(item, dict):
            continue
        action = _ITEM_ACTIONS.get(str(item.get("operation", "")).lower())
        table = item.get("tableName") or item.get("TableName")
        if action and isinstance(table, str):
            found[MappedAction(action, f"table:{table}")] = None
    return tuple(found)


_PARTIQL_ACTIONS = {
    "SELECT": "dynamodb:PartiQLSelect",
    "INSERT": "dynamodb:PartiQLInsert",
    "UPDATE": "dynamodb:PartiQLUpdate",
    "DELETE": "dynamodb:PartiQLDelete",
}
# The table follows FROM (SELECT, DELETE), INTO (INSERT) or UPDATE; `"Table"."Index"` for an index.
_PARTIQL_TARGET = re.compile(
    r'\b(?:FROM|INTO|UPDATE)\s+("[^"]+"|[A-Za-z0-9_.\-]+)(?:\s*\.\s*("[^"]+"|[A-Za-z0-9_.\-]+))?',
    re.IGNORECASE,
)


def _partiql_statements(params: Mapping[str, Any]) -> list[str]:
    statements = [params.get("statement")]
    for key in ("requestItems", "statements", "transactStatements"):
        items = params.get(key)
        for item in items if isinstance(items, list) else ():
            if isinstance(item, dict):
                statements.append(item.get("statement") or item.get("Statement"))
    return [s for s in statements if isinstance(s, str)]


def _partiql(_: Catalog, params: Mapping[str, Any]) -> tuple[MappedAction, ...]:
    found: dict[MappedAction, None] = {}
    for statement in _partiql_statements(params):
        verb = statement.lstrip().split(None, 1)[0].upper() if statement.strip() else ""
        action = _PARTIQL_ACTIONS.get(verb)
        if action is None:
            continue
        target = _PARTIQL_TARGET.search(statement)
        resource = ""
        if target:
            table = target.group(1).strip('"')
            index = target.group(2).strip('"') if target.group(2) else None
            resource = f"index:{table}/{index}" if index else f"table:{table}"
        found[MappedAction(action, resource)] = None
    return tuple(found)


_HANDLERS: dict[str, Callable[[Catalog, Mapping[str, Any]], tuple[MappedAction, ...]]] = {
    "dynamodb_items": _dynamodb_items,
    "partiql": _partiql,
}


# The mapper ------------------------------------------------------------------------------------


class EventMapper:
    """Maps events to IAM actions. It also holds the other per-run caches `interpret` uses:
    `resources` (ARNs per action) and `principals` (identity -> principal). Everything that
    depends only on (eventSource, eventName) is resolved once and cached; only a few entries
    look at requestParameters."""

    def __init__(self, catalog: Catalog, table: MappingTable) -> None:
        self.catalog = catalog
        self.table = table
        self.resources = ResourceResolver(catalog)
        self.principals = PrincipalCache()
        for action in (*_ITEM_ACTIONS.values(), *_PARTIQL_ACTIONS.values()):
            if catalog.action(action) is None:
                raise UsageError(f"mapping: {action} is not in the IAM catalog")
        self._entries = {(e.source, e.event): self._plan_of(e) for e in table.entries}
        self._cache: dict[tuple[str, str], _Plan] = {}
        self._ignored_types = table.not_an_action_event_types

    def map(self, event: CloudTrailEvent) -> MappingResult:
        """The actions `event` needed. The event must have eventSource and eventName."""
        reason = self._ignored_types.get(event.eventType or "")
        if reason is not None:
            return NotAnAction(reason)
        plan = self._plan(event.eventSource or "", event.eventName or "")
        if isinstance(plan, VersionedMapping):
            params = event.requestParameters
            return plan.versioned if params and params.get("versionId") else plan.plain
        if isinstance(plan, _ByRequest):
            actions = plan.handler(self.catalog, event.requestParameters or {})
            if not actions:
                return Unmapped(plan.event_source, plan.event_name)
            return Mapped(actions)
        return plan

    def map_without_request(
        self, event_type: str | None, event_source: str, event_name: str
    ) -> MappingResult | VersionedMapping | None:
        """`map` for an event whose request is not at hand: None when the mapping depends on
        the request, the `VersionedMapping` plan when only `versionId` decides."""
        reason = self._ignored_types.get(event_type or "")
        if reason is not None:
            return NotAnAction(reason)
        plan = self._plan(event_source, event_name)
        return None if isinstance(plan, _ByRequest) else plan

    def map_name(self, event_source: str, event_name: str) -> MappingResult:
        """The mapping of a (source, name) pair when the request is unknown (no versionId, no
        PartiQL statement): for tests and reports."""
        plan = self._plan(event_source, event_name)
        if isinstance(plan, VersionedMapping):
            return plan.plain
        if isinstance(plan, _ByRequest):
            return Unmapped(event_source, event_name)
        return plan

    def _plan(self, source: str, name: str) -> _Plan:
        key = (source, name)
        plan = self._cache.get(key)
        if plan is None:
            if len(self._cache) >= _MAX_CACHED:  # hostile input with endless distinct names
                self._cache.clear()
            plan = self._cache[key] = self._resolve(source, name)
        return plan

    def _resolve(self, source: str, name: str) -> _Plan:
        entry = self._entries.get((source, name))
        if entry is not None:
            return entry
        reason = self.table.not_an_action_sources.get(source)
        if reason is not None:
            return NotAnAction(reason)
        prefix = self.prefix_of(source)
        if prefix is not None and name:
            action = self.catalog.action(f"{prefix}:{name}")
            if action is None:
                stripped = _VERSION_SUFFIX.match(name)
                if stripped:
                    action = self.catalog.action(f"{prefix}:{stripped.group('base')}")
            if action is not None:
                return Mapped((MappedAction(action.key),))
        return Unmapped(source, name)

    def prefix_of(self, event_source: str) -> str | None:
        """The IAM prefix of an eventSource, or None when the catalog has no such service."""
        prefix = self.table.sources.get(event_source)
        if prefix is not None:
            return prefix
        host = event_source.removesuffix(_AWS_SUFFIX)
        return host if self.catalog.has_service(host) else None

    def _plan_of(self, entry: TableEntry) -> _Plan:
        where = f"event_actions.json: {entry.source} {entry.event}"
        if entry.not_an_action is not None:
            return NotAnAction(entry.not_an_action)
        if entry.by_request is not None:
            handler = _HANDLERS.get(entry.by_request)
            if handler is None:
                raise UsageError(f"{where}: unknown by_request {entry.by_request!r}")
            return _ByRequest(entry.source, entry.event, handler)
        plain = Mapped(tuple(self._mapped_action(a, where) for a in entry.actions))
        if not plain.actions:
            raise UsageError(f"{where}: an entry needs actions, by_request or not_an_action")
        if entry.with_version_id:
            versioned = Mapped(tuple(self._mapped_action(a, where) for a in entry.with_version_id))
            return VersionedMapping(plain, versioned)
        return plain

    def _mapped_action(self, spec: str, where: str) -> MappedAction:
        name, _, resource = spec.partition("@")
        action = self.catalog.action(name)
        if action is None:
            raise UsageError(f"{where}: {name} is not in the IAM catalog")
        return MappedAction(action.key, resource)
