"""What changes between an existing policy and a proposed one, in actions and in grants.

`added_actions` and `removed_actions` compare the actions each policy's Allow statements name,
after expanding wildcards and NotAction against the catalog (canonical catalog spelling,
sorted); an action an unconditional `Deny ... Resource: *` removes is not granted. An action
the catalog does not know (one AWS added since, or a typo) is compared with the other side's
patterns, never as plain text: `s3:NewThing` on one side is held by `s3:*` on the other, and a
change only when no Allow of the other side names it. `sts:GetCallerIdentity` is allowed
whatever a policy says, so it is never a change nor a grant.

The privilege reduction counts concrete grants: one per (action, resource type) the action
takes, or one with type `*` when it takes none. A grant is held when some Allow statement
naming the action has a resource pattern that could match an ARN of that type (`*` for
type-less actions, which IAM authorizes only on `Resource: *`), and no unconditional Deny
naming the action covers every ARN of the type. "Could match" errs towards held (conditions
are ignored, variables match anything), so a reduction is never overstated on the proposed
side by a narrow-looking pattern. An action the catalog lacks that either side names counts
as one grant (type `*`, whatever its resource) for each side whose Allows name it, so it is
part of the reduction; it has no access level, so it counts only in the overall figures. The
reduction is the share of the existing grants that the proposed policy no longer holds.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from alpha.catalog import AccessLevel, Catalog, ResourceType
from alpha.policy.arns import could_be_of_type
from alpha.policy.globlang import STAR, AutomatonLimitError, Glob, find_string, glob
from alpha.policy.model import ALWAYS_ALLOWED_ACTION, ActionList, Effect, Policy, Statement
from alpha.policy.patterns import compile_glob, has_wildcard
from alpha.policy.serialize import to_document
from alpha.policy.symbolic import resource_language

__all__ = ["ActionTypePair", "PolicyDiff", "diff_policies", "policy_grants"]


ANY_TYPE = "*"
_ALWAYS_ALLOWED = ALWAYS_ALLOWED_ACTION.lower()
_ALWAYS_ALLOWED_KEYS = frozenset({ALWAYS_ALLOWED_ACTION})  # as the catalog spells it
ActionTypePair = tuple[str, str]
"""(action as the catalog spells it, resource type name or `*`): the unit grants are counted in."""


@dataclass(frozen=True, slots=True)
class LevelReduction:
    access_level: AccessLevel
    existing_grants: int
    removed_grants: int

    @property
    def reduction(self) -> float:
        return self.removed_grants / self.existing_grants if self.existing_grants else 0.0


@dataclass(frozen=True, slots=True)
class PolicyDiff:
    existing_policy: Policy
    proposed_policy: Policy
    added_actions: tuple[str, ...]
    removed_actions: tuple[str, ...]
    change_summary: str
    existing_grants: int
    proposed_grants: int
    removed_grants: int
    by_access_level: tuple[LevelReduction, ...]

    @property
    def privilege_reduction(self) -> float:
        """The share (0 to 1) of the existing grants the proposed policy no longer holds."""
        return self.removed_grants / self.existing_grants if self.existing_grants else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "existing_policy": to_document(self.existing_policy),
            "proposed_policy": to_document(self.proposed_policy),
            "added_actions": list(self.added_actions),
            "removed_actions": list(self.removed_actions),
            "change_summary": self.change_summary,
            "privilege_reduction": round(self.privilege_reduction, 4),
            "grants": {
                "existing": self.existing_grants,
                "proposed": self.proposed_grants,
                "removed": self.removed_grants,
            },
            "by_access_level": {
                level.access_level.value: {
                    "existing_grants": level.existing_grants,
                    "removed_grants": level.removed_grants,
                    "reduction": round(level.reduction, 4),
                }
                for level in self.by_access_level
            },
        }


def diff_policies(existing: Policy, proposed: Policy, catalog: Catalog) -> PolicyDiff:
    before, after = policy_grants(existing, catalog), policy_grants(proposed, catalog)
    added = _sorted_missing(after, before, catalog)
    removed = _sorted_missing(before, after, catalog)
    unlisted = before.unlisted | after.unlisted
    held_before = {(name, ANY_TYPE) for name in unlisted if before.holds_unlisted(name)}
    held_after = {(name, ANY_TYPE) for name in unlisted if after.holds_unlisted(name)}
    before_grants = before.grants | held_before
    kept = before_grants & (after.grants | held_after)
    # Count the levels of what is kept (small: a proposal) and subtract, rather than count
    # what is removed (often every action of several services).
    kept_by_level = _count_levels(catalog, kept)
    levels = tuple(
        LevelReduction(level, before.by_level[level], before.by_level[level] - kept_by_level[level])
        for level in AccessLevel
    )
    return PolicyDiff(
        existing,
        proposed,
        added,
        removed,
        f"+{len(added)} actions, -{len(removed)} actions",
        len(before_grants),
        len(after.grants) + len(held_after),
        len(before_grants) - len(kept),
        levels,
    )


@dataclass(frozen=True, slots=True)
class HeldGrants:
    """What one policy holds: its actions (lower-cased key -> spelling, and the spellings
    sorted case-insensitively), its (action, resource type) grants, and their count per
    access level."""

    actions: dict[str, str]
    sorted_actions: tuple[str, ...]
    grants: frozenset[ActionTypePair]
    by_level: Counter[AccessLevel]
    # Each Allow's action test as written, and each unconditional Deny's on every resource:
    # an action the catalog lacks is held when an Allow matches it and no such Deny does (`*`
    # holds any action AWS adds, which no catalog expansion lists)
    allows: tuple[Callable[[str], bool], ...] = ()
    denies: tuple[Callable[[str], bool], ...] = ()
    # The actions the catalog lacks that the Allows name literally (lower-cased)
    unlisted: frozenset[str] = frozenset()

    def holds_unlisted(self, name: str) -> bool:
        return any(test(name) for test in self.allows) and not any(
            test(name) for test in self.denies
        )


@lru_cache(maxsize=512)
def policy_grants(policy: Policy, catalog: Catalog) -> HeldGrants:
    """What `policy` holds. Cached: a run diffs many principals against the same existing
    documents (shared managed policies, repeated inline policies); treat it as read-only."""
    computed = _Grants(policy, catalog)
    actions = computed.actions()
    grants = frozenset(computed.grants())
    ordered = tuple(sorted(actions.values(), key=str.lower))
    tests = tuple(_action_test(s) for s in computed.allows)
    denies = tuple(_action_test(s) for s in computed.everywhere_denies())
    unlisted = frozenset(k for k in actions if catalog.action(k) is None)
    levels = _count_levels(catalog, grants)
    return HeldGrants(actions, ordered, grants, levels, tests, denies, unlisted)


def _action_test(statement: Statement) -> Callable[[str], bool]:
    matchers = [compile_glob(p, ignore_case=True) for p in statement.action.patterns]
    if isinstance(statement.action, ActionList):
        return lambda name: any(m(name) for m in matchers)
    return lambda name: not any(m(name) for m in matchers)


def _sorted_missing(mine: HeldGrants, theirs: HeldGrants, catalog: Catalog) -> tuple[str, ...]:
    """Actions `mine` holds and `theirs` does not; one the catalog lacks is compared with the
    other side's patterns (`*` holds it), never as plain text alone."""
    return tuple(
        name
        for name in mine.sorted_actions
        if name.lower() not in theirs.actions
        and (catalog.action(name) is not None or not theirs.holds_unlisted(name))
    )


def _count_levels(catalog: Catalog, grants: Iterable[ActionTypePair]) -> Counter[AccessLevel]:
    counts: Counter[AccessLevel] = Counter()
    for action_key in (key for key, _ in grants):
        action = catalog.action(action_key)
        if action is not None:
            counts[action.access_level] += 1
    return counts


@lru_cache(maxsize=8)
def _every_action_key(catalog: Catalog) -> frozenset[str]:
    return frozenset(a.key for a in catalog.actions())


class _Grants:
    """One policy's actions and grants, with each pattern expanded once."""

    def __init__(self, policy: Policy, catalog: Catalog) -> None:
        self.catalog = catalog
        self.variables = policy.supports_variables
        self.allows = [s for s in policy.statements if s.effect is Effect.ALLOW]
        self.blanket_denies = [s for s in policy.statements if _unconditional_deny(s)]
        self._expanded: dict[str, frozenset[str]] = {}
        self._every = _every_action_key(catalog)

    def _actions_of(self, statement: Statement) -> frozenset[str]:
        named: set[str] = set()
        for pattern in statement.action.patterns:
            if pattern not in self._expanded:
                self._expanded[pattern] = frozenset(a.key for a in self.catalog.expand(pattern))
            named |= self._expanded[pattern]
        return frozenset(named) if isinstance(statement.action, ActionList) else self._every - named

    def everywhere_denies(self) -> list[Statement]:
        """The unconditional Denys on every resource."""
        return [d for d in self.blanket_denies if _covers_everything(d, self.variables)]

    def actions(self) -> dict[str, str]:
        """Lower-cased key -> spelling, for every action some Allow grants."""
        found: dict[str, str] = {}
        for statement in self.allows:
            for key in self._actions_of(statement):
                found[key.lower()] = key
            if isinstance(statement.action, ActionList):
                for pattern in statement.action.patterns:
                    if not has_wildcard(pattern) and self.catalog.action(pattern) is None:
                        found.setdefault(pattern.lower(), pattern)
        denied = {_ALWAYS_ALLOWED}
        unlisted_denied = [_action_test(d) for d in self.everywhere_denies()]
        for deny in self.everywhere_denies():
            denied |= {k.lower() for k in self._actions_of(deny)}
        return {
            k: v
            for k, v in found.items()
            if k not in denied and not any(test(k) for test in unlisted_denied)
        }

    def grants(self) -> set[ActionTypePair]:
        held: set[ActionTypePair] = set()
        denies = [(self._actions_of(d), _Denies(d, self.variables)) for d in self.blanket_denies]
        for statement in self.allows:
            could = _CouldMatch(statement, self.variables)
            for key in self._actions_of(statement) - _ALWAYS_ALLOWED_KEYS:
                for name, rtype in self._types(key):
                    if (key, name) in held or not could(rtype):
                        continue
                    if not any(key in acts and covers(rtype) for acts, covers in denies):
                        held.add((key, name))
        return held

    def _types(self, key: str) -> Iterable[tuple[str, ResourceType | None]]:
        action = self.catalog.action(key)
        types = self.catalog.resource_types_of(action) if action is not None else ()
        return [(t.name, t) for t in types] if types else [(ANY_TYPE, None)]


def _unconditional_deny(statement: Statement) -> bool:
    return statement.effect is Effect.DENY and not statement.conditions


def _covers_everything(statement: Statement, variables: bool) -> bool:
    language = resource_language(statement, variables)
    return not language.negated and any(
        g.tokens and set(g.tokens) == {STAR} for g in language.under
    )


class _CouldMatch:
    """Whether the statement's resources could match some ARN of a type (kept per type)."""

    def __init__(self, statement: Statement, variables: bool) -> None:
        self.language = resource_language(statement, variables)
        self.texts = self.language.texts
        self._seen: dict[str, bool] = {}

    def __call__(self, rtype: ResourceType | None) -> bool:
        key = ANY_TYPE if rtype is None else f"{rtype.service}:{rtype.name}"
        if key not in self._seen:
            self._seen[key] = self._decide(rtype)
        return self._seen[key]

    def _decide(self, rtype: ResourceType | None) -> bool:
        if self.language.negated:
            return rtype is None or not _format_within(rtype, self.language.under)
        if rtype is None:
            return any(g.matches("*") for g in self.language.over)
        return any(could_be_of_type(text, rtype) for text in self.texts)


class _Denies:
    """Whether an unconditional Deny covers every ARN of a type (kept per type)."""

    def __init__(self, statement: Statement, variables: bool) -> None:
        self.language = resource_language(statement, variables)
        self._seen: dict[str, bool] = {}

    def __call__(self, rtype: ResourceType | None) -> bool:
        key = ANY_TYPE if rtype is None else f"{rtype.service}:{rtype.name}"
        if key not in self._seen:
            self._seen[key] = self._decide(rtype)
        return self._seen[key]

    def _decide(self, rtype: ResourceType | None) -> bool:
        if self.language.negated:
            return False
        if rtype is None:
            return any(g.matches("*") for g in self.language.under)
        return _format_within(rtype, self.language.under)


def _format_within(rtype: ResourceType, globs: tuple[Glob, ...]) -> bool:
    """Whether every ARN of the type matches one of the globs (variables of the format read
    as `*`, which only widens the format, so True is safe)."""
    widened = glob(_format_glob_text(rtype.arn_format))
    try:
        return find_string([[widened]], globs) is None
    except AutomatonLimitError:
        return False


def _format_glob_text(arn_format: str) -> str:
    out: list[str] = []
    rest = arn_format
    while (start := rest.find("${")) >= 0:
        end = rest.find("}", start)
        if end < 0:
            break
        out.append(rest[:start] + "*")
        rest = rest[end + 1 :]
    out.append(rest)
    return "".join(out)
