"""A catalog that remembers its answers, for the many lookups of a run over many principals.

The diff, the evidence and the risk estimate look the same few thousand actions up again for
every principal (`catalog.action` lower-cases and hashes each time, `resource_types_of` builds
a tuple each time); memoised, those lookups cost a dict hit. Answers are the base catalog's.
"""

from __future__ import annotations

from alpha.catalog import Action, Catalog, ResourceType


class MemoCatalog(Catalog):
    """Same data and answers as `base`; `action`, `resource_types_of` and `expand` cached."""

    def __init__(self, base: Catalog) -> None:  # base's state taken whole, not rebuilt
        self.__dict__.update(base.__dict__)
        self._memo_actions: dict[str, Action | None] = {}
        self._memo_types: dict[int, tuple[ResourceType, ...]] = {}
        self._memo_expand: dict[str, tuple[Action, ...]] = {}
        self._memo_all: tuple[Action, ...] | None = None

    def action(self, key: str) -> Action | None:
        try:
            return self._memo_actions[key]
        except KeyError:
            found = self._memo_actions[key] = super().action(key)
            return found

    def resource_types_of(self, action: Action) -> tuple[ResourceType, ...]:
        # Actions are the catalog's own objects, alive as long as it is: id() is stable.
        try:
            return self._memo_types[id(action)]
        except KeyError:
            found = self._memo_types[id(action)] = super().resource_types_of(action)
            return found

    def expand(self, pattern: str) -> tuple[Action, ...]:
        try:
            return self._memo_expand[pattern]
        except KeyError:
            found = self._memo_expand[pattern] = super().expand(pattern)
            return found

    def actions(self, service: str | None = None) -> tuple[Action, ...]:
        if service is not None:
            return super().actions(service)
        if self._memo_all is None:
            self._memo_all = super().actions()
        return self._memo_all
