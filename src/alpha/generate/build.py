"""Needs to statements: grouped by service, conditions and resources, ordered, named.

One statement per (service, conditions, resource set): actions that share the same resources
under the same conditions are listed together. Statements are ordered by service, then access
level (List, Read, Write, Tagging, Permissions management), then resources; inferred needs get
statements of their own, after the observed ones of their service, with Sids starting
`Inferred`. Sids read like `S3ReadReportsBucket`: service, access, resource name.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from alpha.catalog import AccessLevel, Catalog
from alpha.generate.existing import condition_key
from alpha.generate.inference import Need
from alpha.policy.model import (
    ActionList,
    Condition,
    Effect,
    Policy,
    ResourceList,
    Statement,
)
from alpha.policy.normalise import canonical_action

_LEVEL_ORDER = {
    AccessLevel.LIST: 0,
    AccessLevel.READ: 1,
    AccessLevel.WRITE: 2,
    AccessLevel.TAGGING: 3,
    AccessLevel.PERMISSIONS_MANAGEMENT: 4,
}
_LEVEL_WORD = {
    AccessLevel.LIST: "List",
    AccessLevel.READ: "Read",
    AccessLevel.WRITE: "Write",
    AccessLevel.TAGGING: "Tag",
    AccessLevel.PERMISSIONS_MANAGEMENT: "Manage",
}
_SERVICE_WORD = {
    "s3": "S3",
    "sqs": "Sqs",
    "sns": "Sns",
    "kms": "Kms",
    "iam": "Iam",
    "ec2": "Ec2",
    "dynamodb": "DynamoDb",
    "lambda": "Lambda",
    "sts": "Sts",
    "ssm": "Ssm",
    "ecr": "Ecr",
    "ecs": "Ecs",
}
_WORD = re.compile(r"[A-Za-z0-9]+")
_MAX_NAME = 40

GroupKey = tuple[str, tuple[Condition, ...], tuple[str, ...], bool]


def group_needs(needs: Iterable[Need]) -> dict[GroupKey, dict[str, list[str]]]:
    """(service, conditions, resources, inferred) -> action -> reasons."""
    groups: dict[GroupKey, dict[str, list[str]]] = {}
    for need in needs:
        service = need.action.partition(":")[0].lower()
        key = (
            service,
            _sorted_conditions(need.conditions),
            tuple(sorted(set(need.resources))),
            need.inferred is not None,
        )
        reasons = groups.setdefault(key, {}).setdefault(need.action, [])
        if need.inferred is not None:
            reasons.append(need.inferred)
    return groups


def _sorted_conditions(conditions: Iterable[Condition]) -> tuple[Condition, ...]:
    unique = {condition_key([c]): c for c in conditions}
    return tuple(sorted(unique.values(), key=lambda c: (c.operator, c.key.lower(), c.values)))


def build_statements(needs: Iterable[Need], catalog: Catalog) -> list[Statement]:
    """Allow statements for the needs, ordered and named."""
    groups = group_needs(needs)
    entries = []
    for (service, conditions, resources, inferred), actions in groups.items():
        names = sorted({canonical_action(a, catalog) for a in actions}, key=str.lower)
        level = _level(names, catalog)
        entries.append(
            (
                (service, inferred, 5 if level is None else _LEVEL_ORDER[level], resources),
                names,
                conditions,
                resources,
                inferred,
                level,
            )
        )
    entries.sort(key=lambda e: e[0])
    taken: set[str] = set()
    statements: list[Statement] = []
    for _, names, conditions, resources, inferred, level in entries:
        sid = _unique(_sid(names[0], level, resources, inferred), taken)
        statements.append(
            Statement(
                Effect.ALLOW,
                ActionList(tuple(names)),
                ResourceList(resources),
                conditions,
                sid=sid,
            )
        )
    return statements


def _level(actions: Sequence[str], catalog: Catalog) -> AccessLevel | None:
    levels = [a.access_level for name in actions if (a := catalog.action(name)) is not None]
    if not levels:
        return None
    return max(levels, key=lambda lv: _LEVEL_ORDER[lv])


def _sid(action: str, level: AccessLevel | None, resources: tuple[str, ...], inferred: bool) -> str:
    service = action.partition(":")[0].lower()
    parts = ["Inferred"] if inferred else []
    parts.append(_SERVICE_WORD.get(service, _camel(service)))
    parts.append(
        action.partition(":")[2]
        if inferred
        else _LEVEL_WORD.get(level, "Use")
        if level is not None
        else "Use"
    )
    parts.append(_resource_name(resources))
    return "".join(parts)[: _MAX_NAME * 2]


def _resource_name(resources: tuple[str, ...]) -> str:
    if resources == ("*",):
        return ""
    names = {_name_of(r) for r in resources}
    if names == {""}:
        return ""
    if len(names) == 1:
        return _camel(names.pop())[:_MAX_NAME]
    return "Resources"


def _name_of(arn: str) -> str:
    """The readable name in an ARN: the bucket, queue, table, function..."""
    fields = arn.split(":", 5)
    if len(fields) < 6:
        return ""
    rest = fields[5]
    if fields[2] == "s3":
        return rest.partition("/")[0]
    pieces = [p for p in re.split(r"[/:]", rest) if p and "*" not in p]
    if len(pieces) >= 2:
        return pieces[1]
    return pieces[0] if pieces else fields[2]


def _camel(text: str) -> str:
    return "".join(w[:1].upper() + w[1:] for w in _WORD.findall(text))


def _unique(sid: str, taken: set[str]) -> str:
    sid = sid or "Statement"
    candidate, n = sid, 2
    while candidate in taken:
        candidate = f"{sid}{n}"
        n += 1
    taken.add(candidate)
    return candidate


def with_denies(allows: Sequence[Statement], denies: Sequence[Statement]) -> Policy:
    """The proposal: allows, then the existing Denies copied as they are (Sids kept unique)."""
    taken = {s.sid for s in allows if s.sid}
    copied = []
    for index, deny in enumerate(denies):
        sid = deny.sid if deny.sid and deny.sid not in taken else f"KeptDeny{index + 1}"
        taken.add(sid)
        copied.append(
            Statement(deny.effect, deny.action, deny.resource, deny.conditions, None, sid)
        )
    return Policy(tuple(allows) + tuple(copied))
