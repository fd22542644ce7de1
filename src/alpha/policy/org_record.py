"""The SCP/RCP levels as JSON, kept in a proposal so that the rollout's sandbox replays under
the levels the proposal was made under (not whatever the organization holds by then).

    {"management": false,
     "scps": [{"kind": "root", "id": "r-ab12", "name": "Root",
               "policies": [{"id": "p-...", "name": "FullAWSAccess", "document": {...}}]}],
     "rcps": []}
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from alpha.policy.errors import PolicyError
from alpha.policy.org_policies import LevelKind, OrgGuardrails, OrgPolicy, PolicyLevel
from alpha.policy.parse import parse_policy
from alpha.policy.serialize import to_document

__all__ = [
    "RECORD_KEY",
    "OrgRecordError",
    "guardrails_from_dict",
    "guardrails_to_dict",
    "recorded_guardrails",
]

RECORD_KEY = "organization"  # where a proposal document keeps its levels


class OrgRecordError(PolicyError):
    """A recorded set of levels is not in the form `guardrails_to_dict` writes."""


def guardrails_to_dict(guardrails: OrgGuardrails) -> dict[str, Any]:
    return {
        "management": guardrails.management,
        "scps": [_level(level) for level in guardrails.scps],
        "rcps": [_level(level) for level in guardrails.rcps],
    }


def _level(level: PolicyLevel) -> dict[str, Any]:
    return {
        "kind": level.kind.value,
        "id": level.target_id,
        "name": level.target_name,
        "policies": [
            {"id": p.id, "name": p.name, "document": to_document(p.document)}
            for p in level.policies
        ],
    }


def guardrails_from_dict(data: object, source: str) -> OrgGuardrails:
    """The levels `guardrails_to_dict` wrote; errors name `source` and the field."""
    record = _mapping(data, source)
    management = record.get("management", False)
    if not isinstance(management, bool):
        raise OrgRecordError(f"{source}: management must be true or false")
    return OrgGuardrails(
        scps=_levels(record.get("scps", []), f"{source}: scps"),
        rcps=_levels(record.get("rcps", []), f"{source}: rcps"),
        management=management,
    )


def recorded_guardrails(document: Mapping[str, Any]) -> OrgGuardrails:
    """The levels a proposal document was made under; none when it records none."""
    if RECORD_KEY not in document:
        return OrgGuardrails()
    return guardrails_from_dict(document[RECORD_KEY], f"proposal {RECORD_KEY}")


def _levels(data: object, where: str) -> tuple[PolicyLevel, ...]:
    if not isinstance(data, list):
        raise OrgRecordError(f"{where} must be a list of levels")
    return tuple(_parse_level(item, f"{where}[{i}]") for i, item in enumerate(data))


def _parse_level(data: object, where: str) -> PolicyLevel:
    level = _mapping(data, where)
    try:
        kind = LevelKind(str(level.get("kind")))
    except ValueError:
        kinds = ", ".join(k.value for k in LevelKind)
        raise OrgRecordError(f"{where}.kind must be one of {kinds}") from None
    policies = level.get("policies")
    if not isinstance(policies, list):
        raise OrgRecordError(f"{where}.policies must be a list")
    return PolicyLevel(
        kind,
        _text(level, "id", where),
        _text(level, "name", where),
        tuple(_policy(p, f"{where}.policies[{i}]") for i, p in enumerate(policies)),
    )


def _policy(data: object, where: str) -> OrgPolicy:
    policy = _mapping(data, where)
    ident, name = _text(policy, "id", where), _text(policy, "name", where)
    return OrgPolicy(ident, name, parse_policy(policy.get("document"), f"{where}.document"))


def _mapping(data: object, where: str) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise OrgRecordError(f"{where} must be an object")
    return data


def _text(data: dict[str, Any], key: str, where: str) -> str:
    value = data.get(key)
    if not isinstance(value, str):
        raise OrgRecordError(f"{where}.{key} must be a string")
    return value
