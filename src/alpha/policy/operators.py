"""The condition operators IAM accepts, and how an operator name decomposes."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["split_operator"]


BASE_OPERATORS: frozenset[str] = frozenset(
    {
        "StringEquals",
        "StringNotEquals",
        "StringEqualsIgnoreCase",
        "StringNotEqualsIgnoreCase",
        "StringLike",
        "StringNotLike",
        "NumericEquals",
        "NumericNotEquals",
        "NumericLessThan",
        "NumericLessThanEquals",
        "NumericGreaterThan",
        "NumericGreaterThanEquals",
        "DateEquals",
        "DateNotEquals",
        "DateLessThan",
        "DateLessThanEquals",
        "DateGreaterThan",
        "DateGreaterThanEquals",
        "Bool",
        "BinaryEquals",
        "IpAddress",
        "NotIpAddress",
        "ArnEquals",
        "ArnNotEquals",
        "ArnLike",
        "ArnNotLike",
    }
)
SET_QUALIFIERS: frozenset[str] = frozenset({"ForAllValues", "ForAnyValue"})
IF_EXISTS = "IfExists"


@dataclass(frozen=True, slots=True)
class OperatorName:
    """`ForAnyValue:StringLikeIfExists` -> qualifier `ForAnyValue`, base `StringLike`, if_exists."""

    qualifier: str | None
    base: str
    if_exists: bool


def split_operator(name: str) -> OperatorName | None:
    """Decompose an operator name as IAM does (case-sensitively); None if IAM would reject it."""
    qualifier: str | None = None
    rest = name
    if ":" in name:
        qualifier, _, rest = name.partition(":")
        if qualifier not in SET_QUALIFIERS:
            return None
    if rest == "Null":
        return None if qualifier else OperatorName(None, "Null", False)
    if_exists = rest.endswith(IF_EXISTS)
    base = rest[: -len(IF_EXISTS)] if if_exists else rest
    if base not in BASE_OPERATORS:
        return None
    return OperatorName(qualifier, base, if_exists)
