"""Semantic checks of one statement's actions, resources and principal, against the catalog.

Paths index every list element as if single values were one-element lists
(`Statement[2].Action[0]`), whether the document wrote a string or a list.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence

from alpha.catalog import Action, Catalog, ResourceType
from alpha.policy.arns import arn_problem, could_be_of_type
from alpha.policy.coverage import redundant
from alpha.policy.findings import POLICY_FINDINGS, Finding
from alpha.policy.model import ActionList, PrincipalMap, ResourceList, Statement

_ACTION_SHAPE = re.compile(r"[a-z0-9*?-]+:[a-z0-9*?-]+", re.IGNORECASE)
_PRINCIPAL_TYPES = frozenset({"AWS", "Service", "Federated", "CanonicalUser"})
_EVERYTHING = ("*",)


def check_actions(statement: Statement, path: str, catalog: Catalog) -> Iterator[Finding]:
    element = "Action" if isinstance(statement.action, ActionList) else "NotAction"
    patterns = statement.action.patterns
    for index, pattern in enumerate(patterns):
        yield from _check_action(pattern, f"{path}.{element}[{index}]", catalog)
    yield from check_list(patterns, f"{path}.{element}", ignore_case=True)


def _check_action(pattern: str, path: str, catalog: Catalog) -> Iterator[Finding]:
    if pattern == "*":
        return
    if not _ACTION_SHAPE.fullmatch(pattern):
        yield POLICY_FINDINGS.finding(
            "MALFORMED_ACTION", f"{pattern!r} is not '*' or 'service:ActionName'", path
        )
        return
    service = pattern.partition(":")[0]
    wild_service = "*" in service or "?" in service
    if not wild_service and not catalog.has_service(service):
        yield POLICY_FINDINGS.finding(
            "UNKNOWN_SERVICE", f"{service!r} is not a service in the IAM catalog", path
        )
    elif not catalog.expand(pattern):
        what = "matches no action" if "*" in pattern or "?" in pattern else "is not an action"
        yield POLICY_FINDINGS.finding(
            "UNKNOWN_ACTION", f"{pattern!r} {what} in the IAM catalog", path
        )


def check_resources(statement: Statement, path: str, catalog: Catalog) -> Iterator[Finding]:
    if statement.resource is None:
        return
    element = "Resource" if isinstance(statement.resource, ResourceList) else "NotResource"
    patterns = statement.resource.patterns
    malformed = set()
    for index, pattern in enumerate(patterns):
        problem = arn_problem(pattern)
        if problem is not None:
            malformed.add(index)
            where = f"{path}.{element}[{index}]"
            yield POLICY_FINDINGS.finding("MALFORMED_ARN", f"{pattern!r}: {problem}", where)
    yield from check_list(patterns, f"{path}.{element}", ignore_case=False)
    if isinstance(statement.action, ActionList) and isinstance(statement.resource, ResourceList):
        usable = {i: p for i, p in enumerate(patterns) if i not in malformed}
        yield from _check_applicability(statement.action.patterns, usable, path, catalog)


def _check_applicability(
    action_patterns: Sequence[str], usable: dict[int, str], path: str, catalog: Catalog
) -> Iterator[Finding]:
    """Resources no action can use, and concrete actions no resource suits."""
    resources = list(usable.values())
    if "*" in action_patterns or "*" in resources or not resources:
        return
    expanded = {a.key: a for p in action_patterns for a in catalog.expand(p)}
    if not expanded:
        return
    types = {
        (t.service, t.name): t for a in expanded.values() for t in catalog.resource_types_of(a)
    }
    mismatched = 0
    for index, resource in usable.items():
        if not any(could_be_of_type(resource, t) for t in types.values()):
            mismatched += 1
            yield POLICY_FINDINGS.finding(
                "RESOURCE_TYPE_MISMATCH",
                f"{resource!r} is of no resource type the statement's actions take "
                f"({_describe_types(types.values())})",
                f"{path}.Resource[{index}]",
            )
    if mismatched == len(resources):  # already said: nothing here fits any action
        return
    for index, pattern in enumerate(action_patterns):
        action = catalog.action(pattern) if "*" not in pattern and "?" not in pattern else None
        if action is not None:
            yield from _check_action_fits(action, resources, f"{path}.Action[{index}]", catalog)


def _check_action_fits(
    action: Action, resources: Sequence[str], path: str, catalog: Catalog
) -> Iterator[Finding]:
    own = catalog.resource_types_of(action)
    if not action.resources:
        yield POLICY_FINDINGS.finding(
            "ACTION_RESOURCE_MISMATCH",
            f"{action.key} takes only Resource '*', so it applies to none of these resources",
            path,
        )
    elif own and not any(could_be_of_type(r, t) for r in resources for t in own):
        yield POLICY_FINDINGS.finding(
            "ACTION_RESOURCE_MISMATCH",
            f"{action.key} applies to none of the statement's resources; it takes "
            f"{_describe_types(own)}",
            path,
        )


def _describe_types(types: Iterable[ResourceType]) -> str:
    found = list(types)
    shown = ", ".join(f"{t.name} ({t.arn_format})" for t in found[:3])
    more = f" and {len(found) - 3} more" if len(found) > 3 else ""
    return (shown + more) or "only '*'"


def check_principal(statement: Statement, path: str) -> Iterator[Finding]:
    principal = statement.principal
    if principal is None or principal.entries == (("*", _EVERYTHING),):
        return
    element = "Principal" if isinstance(principal, PrincipalMap) else "NotPrincipal"
    for kind, ids in principal.entries:
        where = f"{path}.{element}.{kind}"
        if kind not in _PRINCIPAL_TYPES:
            yield POLICY_FINDINGS.finding(
                "UNKNOWN_PRINCIPAL_TYPE",
                f"{kind!r} is not a principal type (AWS, Service, Federated, CanonicalUser)",
                where,
            )
        yield from check_duplicates(ids, where)


def check_duplicates(
    values: Sequence[str], path: str, *, ignore_case: bool = False
) -> Iterator[Finding]:
    first: dict[str, int] = {}
    for index, value in enumerate(values):
        key = value.lower() if ignore_case else value
        if key in first:
            yield POLICY_FINDINGS.finding(
                "DUPLICATE_VALUE", f"{value!r} repeats {path}[{first[key]}]", f"{path}[{index}]"
            )
        else:
            first[key] = index


def check_list(values: Sequence[str], path: str, *, ignore_case: bool) -> Iterator[Finding]:
    """Repeated values, and patterns another pattern in the list already matches."""
    yield from check_duplicates(values, path, ignore_case=ignore_case)
    keys = [v.lower() if ignore_case else v for v in values]
    for index, kept in sorted(redundant(values, ignore_case=ignore_case).items()):
        if keys.index(keys[index]) == index and keys[index] != keys[kept]:
            yield POLICY_FINDINGS.finding(
                "REDUNDANT_PATTERN",
                f"{values[index]!r} is covered by {values[kept]!r} ({path}[{kept}])",
                f"{path}[{index}]",
            )
