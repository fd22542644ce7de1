"""Canonical form of a policy, with exactly the meaning it had.

What changes: action service prefixes lower-cased and action names in the catalog's casing
(IAM matches actions case-insensitively); repeated values and patterns another pattern in the
same list covers are dropped (a list matches the union of its patterns, for NotAction and
NotResource too, so this never changes what it matches); values, principals and conditions
sorted; statements that repeat an earlier one (Sid aside) dropped; Version "2012-10-17" added
when missing, unless the policy has `${`, which would then become a policy variable.

What never changes: statement order (readers and tools refer to `Statement[i]`), Effect,
which statements exist otherwise (statements with different conditions, resources or
principals are never merged), condition keys (two spellings of one key in one block are two
tests, both required), resources' case, and an explicit Version.
"""

from __future__ import annotations

from collections.abc import Sequence

from alpha.catalog import Catalog
from alpha.policy.coverage import redundant
from alpha.policy.model import (
    CURRENT_VERSION,
    Condition,
    NotPrincipalMap,
    Policy,
    PrincipalMap,
    Statement,
)
from alpha.policy.validate import uses_variables

__all__ = ["canonical_action", "normalise"]


def normalise(policy: Policy, catalog: Catalog | None = None) -> Policy:
    """The canonical form of `policy`; without a catalog, action names keep their casing."""
    kept: list[Statement] = []
    bodies: set[Statement] = set()
    for statement in policy.statements:
        canonical = normalise_statement(statement, catalog)
        body = _without_sid(canonical)
        if body not in bodies:
            bodies.add(body)
            kept.append(canonical)
    # Decided after dropping patterns: a `${` that only a dropped pattern had no longer matters.
    normal = Policy(tuple(kept), policy.version, policy.id)
    if normal.version is None and not uses_variables(normal):
        return Policy(normal.statements, CURRENT_VERSION, normal.id)
    return normal


def normalise_statement(statement: Statement, catalog: Catalog | None = None) -> Statement:
    actions = tuple(canonical_action(p, catalog) for p in statement.action.patterns)
    resource = statement.resource
    if resource is not None:
        resource = type(resource)(_minimal(resource.patterns, ignore_case=False))
    return Statement(
        statement.effect,
        type(statement.action)(_minimal(actions, ignore_case=True)),
        resource,
        _conditions(statement.conditions),
        _principal(statement.principal),
        statement.sid,
    )


def canonical_action(pattern: str, catalog: Catalog | None = None) -> str:
    """`S3:getobject` -> `s3:GetObject`; wildcard patterns keep their action-name casing."""
    service, colon, name = pattern.partition(":")
    if not colon:
        return pattern
    service = service.lower()
    if catalog is not None and "*" not in pattern and "?" not in pattern:
        action = catalog.action(f"{service}:{name}")
        if action is not None:
            name = action.name
    return f"{service}:{name}"


def _minimal(patterns: Sequence[str], *, ignore_case: bool) -> tuple[str, ...]:
    """Without repeated or covered patterns, sorted (case-insensitively for actions)."""
    dropped = redundant(patterns, ignore_case=ignore_case)
    kept = (p for i, p in enumerate(patterns) if i not in dropped)
    key = (lambda p: (p.lower(), p)) if ignore_case else None
    return tuple(sorted(kept, key=key))


def _unique_sorted(values: Sequence[str]) -> tuple[str, ...]:
    return tuple(sorted(set(values)))


def _conditions(conditions: tuple[Condition, ...]) -> tuple[Condition, ...]:
    # Values of one test are alternatives (OR), so their order and repeats do not matter;
    # the tests themselves are all required (AND), so each stays as it is.
    return tuple(
        sorted(
            (Condition(c.operator, c.key, _unique_sorted(c.values)) for c in conditions),
            key=lambda c: (c.operator, c.key),
        )
    )


def _principal(
    principal: PrincipalMap | NotPrincipalMap | None,
) -> PrincipalMap | NotPrincipalMap | None:
    if principal is None:
        return None
    entries = tuple(sorted((kind, _unique_sorted(ids)) for kind, ids in principal.entries))
    return type(principal)(entries)


def _without_sid(statement: Statement) -> Statement:
    return Statement(
        statement.effect,
        statement.action,
        statement.resource,
        statement.conditions,
        statement.principal,
    )
