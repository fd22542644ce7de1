"""Write policies back out as IAM JSON (the inverse of `parse`)."""

from __future__ import annotations

import json
from typing import Any

from alpha.policy.model import (
    ActionList,
    Condition,
    NotPrincipalMap,
    Policy,
    PrincipalMap,
    ResourceList,
    Statement,
)

__all__ = ["to_document", "to_json"]


def to_document(policy: Policy) -> dict[str, Any]:
    """The policy as a JSON-ready dict; one-element lists are written as plain strings."""
    doc: dict[str, Any] = {}
    if policy.version is not None:
        doc["Version"] = policy.version
    if policy.id is not None:
        doc["Id"] = policy.id
    doc["Statement"] = [_statement(s) for s in policy.statements]
    return doc


def to_json(policy: Policy, indent: int | None = 2) -> str:
    return json.dumps(to_document(policy), indent=indent)


def _statement(statement: Statement) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if statement.sid is not None:
        out["Sid"] = statement.sid
    out["Effect"] = statement.effect.value
    if statement.principal is not None:
        name = "Principal" if isinstance(statement.principal, PrincipalMap) else "NotPrincipal"
        out[name] = _principal(statement.principal)
    action_key = "Action" if isinstance(statement.action, ActionList) else "NotAction"
    out[action_key] = _one_or_many(statement.action.patterns)
    if statement.resource is not None:
        key = "Resource" if isinstance(statement.resource, ResourceList) else "NotResource"
        out[key] = _one_or_many(statement.resource.patterns)
    if statement.conditions:
        out["Condition"] = _conditions(statement.conditions)
    return out


def _principal(principal: PrincipalMap | NotPrincipalMap) -> Any:
    if principal.entries == (("*", ("*",)),):
        return "*"
    return {kind: _one_or_many(ids) for kind, ids in principal.entries}


def _conditions(conditions: tuple[Condition, ...]) -> dict[str, dict[str, Any]]:
    block: dict[str, dict[str, Any]] = {}
    for condition in conditions:
        block.setdefault(condition.operator, {})[condition.key] = _one_or_many(condition.values)
    return block


def _one_or_many(values: tuple[str, ...]) -> str | list[str]:
    return values[0] if len(values) == 1 else list(values)
