"""Read policy documents as IAM accepts them, and write them back out.

Parsing collects every structural problem (wrong types, unknown keys or Effect, both Action
and NotAction, unknown condition operators) before failing, so `alpha lint` can report them
all; semantic checks (malformed ARNs, unknown actions, size) live in `validate`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from alpha.policy.errors import PolicyError, PolicyParseError, Problem
from alpha.policy.model import (
    CURRENT_VERSION,
    LEGACY_VERSION,
    ActionList,
    Condition,
    Effect,
    NotActionList,
    NotPrincipalMap,
    NotResourceList,
    Policy,
    PrincipalMap,
    ResourceList,
    Statement,
)
from alpha.policy.operators import split_operator
from alpha.policy.user_files import InputTextError, decode_json, read_input, shown

__all__ = ["json_kind", "parse_policy", "parse_policy_text", "read_policy_file"]


T = TypeVar("T")
U = TypeVar("U")

_TOP_KEYS = frozenset({"Version", "Id", "Statement"})
_STATEMENT_KEYS = frozenset(
    {
        "Sid",
        "Effect",
        "Action",
        "NotAction",
        "Resource",
        "NotResource",
        "Principal",
        "NotPrincipal",
        "Condition",
    }
)


class _Collector:
    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def add(self, path: str, message: str, code: str) -> None:
        self.problems.append(Problem(path, message, code))


def read_policy_file(path: Path) -> Policy:
    """Parse a policy from a JSON file; errors name the file and the place."""
    # utf-8-sig: editors on Windows save a byte-order mark, which is not part of the JSON
    return parse_policy_text(read_input(path, PolicyError), shown(path))


def parse_policy_text(text: str, source: str = "<policy>") -> Policy:
    return parse_policy(load_json_text(text, source), source)


def load_json_text(text: str, source: str) -> Any:
    """Decode JSON as IAM reads it (see `user_files`): duplicate keys, NaN and the like are
    refused, with the line and column."""
    try:
        return decode_json(text)
    except InputTextError as exc:
        raise PolicyParseError(source, (Problem(exc.where, exc.message, exc.code),)) from exc


def parse_policy(data: object, source: str = "<policy>") -> Policy:
    """Build a Policy from decoded JSON, or raise PolicyParseError listing every problem."""
    out = _Collector()
    policy = _parse_document(data, out)
    if out.problems or policy is None:
        raise PolicyParseError(
            source, tuple(out.problems) or (Problem("", "not a policy", "INVALID_TYPE"),)
        )
    return policy


def _parse_document(data: object, out: _Collector) -> Policy | None:
    if not isinstance(data, dict):
        out.add("", f"a policy must be a JSON object, not {json_kind(data)}", "INVALID_TYPE")
        return None
    for key in sorted(set(data) - _TOP_KEYS):
        out.add(key, "unknown top-level element", "UNKNOWN_ELEMENT")
    version = data.get("Version")
    if version is not None and version not in (CURRENT_VERSION, LEGACY_VERSION):
        message = f"must be {CURRENT_VERSION!r} or {LEGACY_VERSION!r}, not {version!r}"
        out.add("Version", message, "INVALID_VERSION")
    policy_id = data.get("Id")
    if policy_id is not None and not isinstance(policy_id, str):
        out.add("Id", f"must be a string, not {json_kind(policy_id)}", "INVALID_TYPE")
    if "Statement" not in data:
        out.add("Statement", "missing", "MISSING_ELEMENT")
        return None
    raw = data["Statement"]
    if isinstance(raw, dict):
        found = [_parse_statement(raw, "Statement", out)]
    elif isinstance(raw, list):
        found = [_parse_statement(s, f"Statement[{i}]", out) for i, s in enumerate(raw)]
    else:
        message = f"must be an object or a list of objects, not {json_kind(raw)}"
        out.add("Statement", message, "INVALID_TYPE")
        return None
    statements = tuple(s for s in found if s is not None)
    return Policy(
        statements,
        version if isinstance(version, str) else None,
        policy_id if isinstance(policy_id, str) else None,
    )


def _parse_statement(raw: object, path: str, out: _Collector) -> Statement | None:
    if not isinstance(raw, dict):
        out.add(path, f"a statement must be an object, not {json_kind(raw)}", "INVALID_TYPE")
        return None
    before = len(out.problems)
    for key in sorted(set(raw) - _STATEMENT_KEYS):
        out.add(f"{path}.{key}", "unknown statement element", "UNKNOWN_ELEMENT")
    sid = raw.get("Sid")
    if sid is not None and not isinstance(sid, str):
        out.add(f"{path}.Sid", f"must be a string, not {json_kind(sid)}", "INVALID_TYPE")
    effect = _parse_effect(raw, path, out)
    action = _pick(
        raw,
        path,
        "Action",
        "NotAction",
        make=ActionList,
        make_negated=NotActionList,
        out=out,
        required=True,
    )
    resource = _pick(
        raw,
        path,
        "Resource",
        "NotResource",
        make=ResourceList,
        make_negated=NotResourceList,
        out=out,
        required=False,
    )
    principal = _parse_principal_pair(raw, path, out)
    conditions = _parse_conditions(raw.get("Condition"), f"{path}.Condition", out)
    if len(out.problems) > before or effect is None or action is None:
        return None
    return Statement(
        effect, action, resource, conditions, principal, sid if isinstance(sid, str) else None
    )


def _parse_effect(raw: dict[str, Any], path: str, out: _Collector) -> Effect | None:
    if "Effect" not in raw:
        out.add(f"{path}.Effect", "missing", "MISSING_ELEMENT")
        return None
    value = raw["Effect"]
    if value not in ("Allow", "Deny"):
        out.add(f"{path}.Effect", f"must be 'Allow' or 'Deny', not {value!r}", "UNKNOWN_EFFECT")
        return None
    return Effect(value)


def _pick(
    raw: dict[str, Any],
    path: str,
    name: str,
    negated: str,
    *,
    make: Callable[[tuple[str, ...]], T],
    make_negated: Callable[[tuple[str, ...]], U],
    out: _Collector,
    required: bool,
) -> T | U | None:
    if name in raw and negated in raw:
        message = f"a statement cannot have both {name} and {negated}"
        out.add(f"{path}.{negated}", message, f"{name}_AND_{negated}".upper())
        return None
    if name in raw:
        values = _string_list(raw[name], f"{path}.{name}", out)
        return None if values is None else make(values)
    if negated in raw:
        values = _string_list(raw[negated], f"{path}.{negated}", out)
        return None if values is None else make_negated(values)
    if required:
        out.add(
            f"{path}.{name}", f"missing: a statement needs {name} or {negated}", "MISSING_ELEMENT"
        )
    return None


def _string_list(value: object, path: str, out: _Collector) -> tuple[str, ...] | None:
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, list):
        out.add(
            path, f"must be a string or a list of strings, not {json_kind(value)}", "INVALID_TYPE"
        )
        return None
    bad = [i for i, item in enumerate(value) if not isinstance(item, str)]
    for i in bad:
        out.add(f"{path}[{i}]", f"must be a string, not {json_kind(value[i])}", "INVALID_TYPE")
    if not value:
        out.add(path, "must not be empty", "EMPTY_VALUE")
    return None if bad or not value else tuple(value)


def _parse_principal_pair(
    raw: dict[str, Any], path: str, out: _Collector
) -> PrincipalMap | NotPrincipalMap | None:
    if "Principal" in raw and "NotPrincipal" in raw:
        message = "a statement cannot have both Principal and NotPrincipal"
        out.add(f"{path}.NotPrincipal", message, "PRINCIPAL_AND_NOTPRINCIPAL")
        return None
    for name, make in (("Principal", PrincipalMap), ("NotPrincipal", NotPrincipalMap)):
        if name in raw:
            entries = _parse_principal(raw[name], f"{path}.{name}", out)
            return None if entries is None else make(entries)
    return None


def _parse_principal(
    value: object, path: str, out: _Collector
) -> tuple[tuple[str, tuple[str, ...]], ...] | None:
    if value == "*":
        return (("*", ("*",)),)
    if not isinstance(value, dict) or not value:
        out.add(path, "must be '*' or an object such as {\"AWS\": ...}", "INVALID_TYPE")
        return None
    entries = []
    for kind, ids in value.items():
        values = _string_list(ids, f"{path}.{kind}", out)
        if values is not None:
            entries.append((kind, values))
    return tuple(entries)


def _parse_conditions(value: object, path: str, out: _Collector) -> tuple[Condition, ...]:
    if value is None:
        return ()
    if not isinstance(value, dict):
        out.add(path, f"must be an object, not {json_kind(value)}", "INVALID_TYPE")
        return ()
    conditions: list[Condition] = []
    for operator, block in value.items():
        where = f"{path}.{operator}"
        if split_operator(operator) is None:
            out.add(where, f"unknown condition operator {operator!r}", "UNKNOWN_OPERATOR")
            continue
        if not isinstance(block, dict) or not block:
            out.add(where, "must be an object of condition keys to values", "INVALID_TYPE")
            continue
        for key, raw_values in block.items():
            values = _condition_values(raw_values, f"{where}.{key}", out)
            if values is not None:
                conditions.append(Condition(operator, key, values))
    return tuple(conditions)


def _condition_values(value: object, path: str, out: _Collector) -> tuple[str, ...] | None:
    items = value if isinstance(value, list) else [value]
    if not items:
        out.add(path, "must not be empty", "EMPTY_VALUE")
        return None
    result: list[str] = []
    for i, item in enumerate(items):
        if isinstance(item, bool):
            result.append("true" if item else "false")
        elif isinstance(item, str | int | float):
            result.append(str(item))
        else:
            where = f"{path}[{i}]" if isinstance(value, list) else path
            out.add(
                where, f"must be a string, number or boolean, not {json_kind(item)}", "INVALID_TYPE"
            )
            return None
    return tuple(result)


def json_kind(value: object) -> str:
    """How an error message names a decoded JSON value's type (`an object`, `null`, ...)."""
    return {
        dict: "an object",
        list: "a list",
        str: "a string",
        bool: "a boolean",
        int: "a number",
        float: "a number",
        type(None): "null",
    }.get(type(value), type(value).__name__)
