"""What a policy's Allow statements grant, action by action, as the rules need it.

Only Allow statements grant. A Deny statement is honoured where that is simple and certainly
right: no Condition (one might not hold), Resource rather than NotResource, no Principal. Such a
Deny removes an action from a grant when it covers every resource pattern of the grant: `*`
covers all, a pattern covers itself, and `prefix*` (no other wildcard) covers any pattern that
starts with that prefix. Anything subtler is left granted, so the rules err on reporting.

Actions are those in the IAM catalog; a pattern naming no catalog action grants nothing here
(rules that care about names as written, such as BLOCKED_ACTION, look at the text too).
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass

from alpha.catalog import Action, Catalog
from alpha.policy.model import (
    ActionList,
    Condition,
    Effect,
    NotActionList,
    Policy,
    ResourceList,
    Statement,
)
from alpha.policy.operators import split_operator
from alpha.policy.patterns import GlobSet, has_wildcard

__all__ = ["allow_grants"]


ALL_RESOURCES = "*"


@dataclass(frozen=True, slots=True)
class PatternGrant:
    """The catalog actions one Allow pattern grants (those a simple Deny removes left out).

    `path` is `Statement[i].Action[j]` (`number` is j), or `Statement[i].NotAction` for an
    Allow with NotAction (then `number` and `pattern` are None). `resources` are the
    statement's resource patterns; NotResource or no Resource counts as `*`.
    """

    statement: int
    number: int | None
    path: str
    pattern: str | None
    actions: tuple[Action, ...]
    resources: tuple[str, ...]
    conditions: tuple[Condition, ...]

    @property
    def on_all_resources(self) -> bool:
        return any(is_all_resources(r) for r in self.resources)

    def grants(self, action_key: str) -> bool:
        lowered = action_key.lower()
        return any(a.key.lower() == lowered for a in self.actions)


def is_all_resources(pattern: str) -> bool:
    """`*` and `arn:*`; narrower patterns such as `arn:aws:s3:::*` are not counted."""
    return pattern in (ALL_RESOURCES, "arn:*")


def resources_of(statement: Statement) -> tuple[str, ...]:
    if isinstance(statement.resource, ResourceList):
        return statement.resource.patterns
    return (ALL_RESOURCES,)


def restricts(condition: Condition, key: str) -> bool:
    """Whether `condition` tests `key` (any case) with an operator that limits it to values:
    negated operators and Null do not."""
    if condition.key.lower() != key.lower():
        return False
    name = split_operator(condition.operator)
    return name is not None and name.base != "Null" and "Not" not in name.base


@functools.lru_cache(maxsize=32)
def allow_grants(policy: Policy, catalog: Catalog) -> tuple[PatternGrant, ...]:
    """Every Allow pattern's grant, in document order (cached: every rule asks)."""
    denies = tuple(_simple_denies(policy))
    return tuple(
        grant
        for index, statement in enumerate(policy.statements)
        if statement.effect is Effect.ALLOW
        for grant in _statement_grants(index, statement, catalog, denies)
    )


def granted_actions(policy: Policy, catalog: Catalog) -> dict[str, PatternGrant]:
    """Lower-cased action key -> the first grant of it."""
    found: dict[str, PatternGrant] = {}
    for grant in allow_grants(policy, catalog):
        for action in grant.actions:
            found.setdefault(action.key.lower(), grant)
    return found


@dataclass(frozen=True, slots=True)
class _SimpleDeny:
    actions: GlobSet
    negated: bool
    resources: tuple[str, ...]

    def removes(self, action: Action, resources: tuple[str, ...]) -> bool:
        if self.actions.matches(action.key) == self.negated:
            return False
        return all(any(_covers(d, r) for d in self.resources) for r in resources)


def _covers(deny: str, allow: str) -> bool:
    if deny in (ALL_RESOURCES, allow):
        return True
    prefix = deny[:-1]
    return deny.endswith("*") and not has_wildcard(prefix) and allow.startswith(prefix)


def _simple_denies(policy: Policy) -> Iterator[_SimpleDeny]:
    for statement in policy.statements:
        if (
            statement.effect is Effect.DENY
            and not statement.conditions
            and statement.principal is None
            and isinstance(statement.resource, ResourceList)
        ):
            yield _SimpleDeny(
                GlobSet(statement.action.patterns, ignore_case=True),
                isinstance(statement.action, NotActionList),
                statement.resource.patterns,
            )


def _statement_grants(
    index: int, statement: Statement, catalog: Catalog, denies: tuple[_SimpleDeny, ...]
) -> Iterator[PatternGrant]:
    resources = resources_of(statement)
    path = f"Statement[{index}]"

    def grant(number: int | None, pattern: str | None, actions: tuple[Action, ...]) -> PatternGrant:
        kept = tuple(a for a in actions if not any(d.removes(a, resources) for d in denies))
        where = f"{path}.NotAction" if number is None else f"{path}.Action[{number}]"
        return PatternGrant(index, number, where, pattern, kept, resources, statement.conditions)

    if isinstance(statement.action, ActionList):
        for number, pattern in enumerate(statement.action.patterns):
            yield grant(number, pattern, catalog.expand(pattern))
        return
    excluded = GlobSet(statement.action.patterns, ignore_case=True)
    everything = tuple(a for a in catalog.actions() if not excluded.matches(a.key))
    yield grant(None, None, everything)
