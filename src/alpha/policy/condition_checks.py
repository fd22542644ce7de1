"""Semantic checks of condition blocks: known keys, operators that suit the key's type, values
the operator can read, and set operators used as IAM intends.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from types import MappingProxyType

from alpha.catalog import Catalog, ConditionKey
from alpha.policy.findings import POLICY_FINDINGS, Finding
from alpha.policy.model import Condition
from alpha.policy.operators import OperatorName, split_operator
from alpha.policy.statement_checks import check_duplicates

# The key types (from the catalog, without `ArrayOf`) each operator family compares. ARN keys
# take String operators as well: the IAM reference allows both for ARN-valued keys.
_FAMILY_TYPES: Mapping[str, frozenset[str]] = MappingProxyType(
    {
        "String": frozenset({"String", "ARN"}),
        "Numeric": frozenset({"Numeric"}),
        "Date": frozenset({"Date"}),
        "Bool": frozenset({"Bool"}),
        "Binary": frozenset({"Binary"}),
        "IpAddress": frozenset({"IPAddress"}),
        "Arn": frozenset({"ARN"}),
    }
)
# aws:EpochTime is documented with both Date and Numeric operators.
_ALSO_NUMERIC = frozenset({"aws:epochtime"})


def check_conditions(
    conditions: tuple[Condition, ...], path: str, catalog: Catalog
) -> Iterator[Finding]:
    for condition in conditions:
        where = f"{path}.Condition.{condition.operator}.{condition.key}"
        operator = split_operator(condition.operator)
        if operator is None:  # the parser reports it; a hand-built Policy may still hold one
            yield POLICY_FINDINGS.finding(
                "UNKNOWN_OPERATOR", f"unknown condition operator {condition.operator!r}", where
            )
            continue
        yield from check_duplicates(condition.values, where)
        yield from _check_values(operator, condition.values, where)
        key = catalog.condition_key(condition.key)
        if key is None:
            yield POLICY_FINDINGS.finding(
                "UNKNOWN_CONDITION_KEY",
                f"{condition.key!r} is neither a global condition key nor a service's key "
                "in the IAM catalog",
                where,
            )
            continue
        yield from _check_key_type(operator, condition, key, where)


def family(operator: OperatorName) -> str:
    """`StringNotLike` -> `String`, `NotIpAddress` -> `IpAddress`, `BinaryEquals` -> `Binary`."""
    base = operator.base
    for name in ("String", "Numeric", "Date", "Bool", "Binary", "Arn", "Null"):
        if base.startswith(name):
            return name
    return "IpAddress"


def _check_key_type(
    operator: OperatorName, condition: Condition, key: ConditionKey, where: str
) -> Iterator[Finding]:
    kind = family(operator)
    multivalued = key.type.startswith("ArrayOf")
    scalar = key.type.removeprefix("ArrayOf")
    allowed = _FAMILY_TYPES.get(kind)
    if kind == "Numeric" and condition.key.lower() in _ALSO_NUMERIC:
        allowed = None
    if allowed is not None and scalar not in allowed:
        yield POLICY_FINDINGS.finding(
            "CONDITION_TYPE_MISMATCH",
            f"{operator.base} compares {kind} values but {key.name} is of type {key.type}",
            where,
        )
    if operator.qualifier == "ForAllValues" and not multivalued:
        yield POLICY_FINDINGS.finding(
            "SET_OPERATOR_ON_SINGLE_VALUED_KEY",
            f"ForAllValues on the single-valued key {key.name} is also true when the key is "
            "missing; use the operator without ForAllValues:",
            where,
        )
    if multivalued and operator.qualifier is None and kind != "Null":
        yield POLICY_FINDINGS.finding(
            "MULTIVALUED_KEY_WITHOUT_SET_OPERATOR",
            f"{key.name} holds several values; say ForAnyValue:{condition.operator} or "
            f"ForAllValues:{condition.operator}",
            where,
        )


def _check_values(operator: OperatorName, values: tuple[str, ...], where: str) -> Iterator[Finding]:
    reader = _VALUE_READERS.get(family(operator))
    if reader is None:
        return
    for index, value in enumerate(values):
        if "${" in value:  # substituted per request
            continue
        problem = reader(value)
        if problem is not None:
            yield POLICY_FINDINGS.finding(
                "INVALID_CONDITION_VALUE",
                f"{operator.base} cannot read {value!r}: {problem}",
                f"{where}[{index}]",
            )


def _numeric_problem(value: str) -> str | None:
    try:
        float(value)
    except ValueError:
        return "not a number"
    return None


def _date_problem(value: str) -> str | None:
    if value.isdigit():  # epoch seconds
        return None
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return "not an ISO 8601 date (2026-01-31T12:00:00Z) or epoch seconds"
    return None


def _bool_problem(value: str) -> str | None:
    return None if value.lower() in ("true", "false") else "not true or false"


def _ip_problem(value: str) -> str | None:
    try:
        ipaddress.ip_network(value, strict=False)
    except ValueError:
        return "not an IPv4 or IPv6 address or CIDR range"
    return None


def _binary_problem(value: str) -> str | None:
    try:
        base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return "not base64"
    return None


_VALUE_READERS: Mapping[str, Callable[[str], str | None]] = MappingProxyType(
    {
        "Numeric": _numeric_problem,
        "Date": _date_problem,
        "Bool": _bool_problem,
        "Null": _bool_problem,
        "IpAddress": _ip_problem,
        "Binary": _binary_problem,
    }
)
