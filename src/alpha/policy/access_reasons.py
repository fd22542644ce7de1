"""Why a proposal may add access that no request confirmed: the words of "possible new access".

A reason names the proposed statement, an action and a resource where it applies, what makes
it new there (the action or resource pattern that widened, the condition of an existing Allow
the proposal drops, the existing Deny that no proposed Deny keeps) and why no concrete request
confirmed it (conditions no one request meets, patterns past the automaton's budget, or only
resources no request for the action can name).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from alpha.catalog import Catalog
from alpha.policy.counterexample import OffShape, action_candidates
from alpha.policy.model import Effect
from alpha.policy.patterns import compile_glob
from alpha.policy.request_shapes import request_shapes
from alpha.policy.symbolic import Atom, IndexedStatement, NewAccessFinding, Side


@dataclass(frozen=True, slots=True)
class Unconfirmed:
    """A finding no request confirmed; `off_shape` when only a resource of no request's
    shape did."""

    finding: NewAccessFinding
    signature: frozenset[int]
    action_name: str
    off_shape: OffShape | None


def unconfirmed_reason(
    unconfirmed: Unconfirmed, statements: Sequence[IndexedStatement], catalog: Catalog
) -> str:
    finding = unconfirmed.finding
    action = _shown_action(unconfirmed, statements, catalog)
    members = [statements[i] for i in sorted(unconfirmed.signature)]
    where = _shown_resource(finding, action, catalog)
    head = f"{finding.grant} allows {action}{where}{_conditions(finding.grant.atoms)}"
    new = _what_is_new(finding, members, action)
    return f"{head}: {new}; {_why_unconfirmed(unconfirmed, catalog)}"


def _shown_action(
    unconfirmed: Unconfirmed, statements: Sequence[IndexedStatement], catalog: Catalog
) -> str:
    """A catalog action with the finding's signature when there is one."""
    found = action_candidates(
        unconfirmed.finding.grant,
        unconfirmed.signature,
        unconfirmed.action_name,
        statements,
        catalog,
    )
    return found[0]


def _shown_resource(finding: NewAccessFinding, action: str, catalog: Catalog) -> str:
    """The witness when it is a resource of the action, else the grant's patterns (the
    witness is the shortest string, often no ARN at all)."""
    resource = finding.resource
    if resource is not None and any(s.admits(resource) for s in request_shapes(catalog, action)):
        return f" on {resource!r}"
    return f" on {_resource_patterns(finding.grant, resource)}"


def _what_is_new(finding: NewAccessFinding, members: list[IndexedStatement], action: str) -> str:
    if finding.deny is not None:
        return (
            f"{finding.deny} denies it today{_conditions(finding.deny.atoms)} and no proposed "
            "Deny does"
        )
    allows = [s for s in members if s.side is Side.EXISTING and s.effect is Effect.ALLOW]
    widened = _action_patterns(finding.grant, action)
    if not allows:
        return f"no existing Allow names {action}: the action pattern {widened} widened"
    resource = finding.resource
    covering = [s for s in allows if resource is None or _covers(s, resource)]
    dropped = [(s, s.atoms - finding.atoms) for s in covering if not s.atoms <= finding.atoms]
    if dropped:
        return "; ".join(
            f"{s} allows it only under{_conditions(atoms, lead='')}, which the proposal drops"
            for s, atoms in dropped
        )
    patterns = _resource_patterns(finding.grant, resource)
    existing = sorted({t for s in allows for t in s.resources.texts})
    return (
        f"the resource pattern {patterns} widened: no existing Allow of {action} matches "
        f"{resource!r} (they name {', '.join(map(repr, existing))})"
    )


def _why_unconfirmed(unconfirmed: Unconfirmed, catalog: Catalog) -> str:
    off_shape = unconfirmed.off_shape
    if off_shape is not None:
        shapes = " or ".join(repr(s.arn_format) for s in request_shapes(catalog, off_shape.action))
        if not shapes:
            service = off_shape.action.partition(":")[0]
            return (
                f"no request AWS could receive confirmed it: {service!r} is not a service in "
                "the IAM catalog"
            )
        return (
            f"no request AWS could receive confirmed it: only resources no request for "
            f"{off_shape.action} can name, such as {off_shape.resource!r} (it takes {shapes})"
        )
    if unconfirmed.finding.resource is None:
        return "no concrete request confirmed it (resource patterns too complex to compare)"
    return "no concrete request confirmed it (its conditions could not all be met at once)"


def _covers(statement: IndexedStatement, resource: str) -> bool:
    language = statement.resources
    inside = any(g.matches(resource) for g in language.under)
    return inside != language.negated


def _action_patterns(statement: IndexedStatement, action: str) -> str:
    spec = statement.action_spec
    if spec.negated:
        return f"NotAction {list(spec.patterns)!r}"
    named = [p for p in spec.patterns if compile_glob(p, ignore_case=True)(action)]
    return ", ".join(map(repr, named or spec.patterns))


def _resource_patterns(statement: IndexedStatement, resource: str | None) -> str:
    language = statement.resources
    if language.negated:
        return f"NotResource {list(language.texts)!r}"
    named = [
        t
        for t, g in zip(language.texts, language.over, strict=True)
        if resource is None or g.matches(resource)
    ]
    return ", ".join(map(repr, named or language.texts))


def _conditions(atoms: frozenset[Atom], lead: str = " under") -> str:
    if not atoms:
        return ""
    shown = " and ".join(
        f"{operator} {key} {sorted(values)!r}"
        for operator, key, values, _ in sorted(atoms, key=repr)
    )
    return f"{lead} {shown}"
