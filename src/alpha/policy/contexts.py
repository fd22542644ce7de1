"""Request contexts that make chosen conditions true, or others false.

Values are built for String*, Arn*, Bool, Binary, Numeric*, Date*, IpAddress and Null tests:
each key gets the first value its tests accept. A negated test is met by leaving the key out
(under `ForAnyValue:`, by a value none of its values equals). To make a condition false, a
positive test is left without its key, and a negated, `IfExists` or `ForAllValues:` test (all
true on a missing key) gets a value that fails it. Keys already chosen are never changed, so
conflicting wishes are simply not met; the evaluator has the last word on the result.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from datetime import UTC, datetime

from alpha.policy.conditions import parse_date, parse_number
from alpha.policy.model import Condition
from alpha.policy.operators import split_operator
from alpha.policy.patterns import Variable, parse_template

__all__ = ["falsify", "satisfying_context"]


FRESH_VALUE = "alpha-example"
_ACCOUNT = "123456789012"  # the account counterexample ARNs are in (`request_shapes`)
_NATURAL_VALUES = {
    "aws:principalaccount": _ACCOUNT,
    "aws:resourceaccount": _ACCOUNT,
    "aws:sourceaccount": _ACCOUNT,
}
_UNLISTED = "alpha-unlisted-value"


def satisfying_context(conditions: Iterable[Condition]) -> dict[str, tuple[str, ...]]:
    """A context (lower-cased keys) in which each condition holds, where one is easy to find."""
    context: dict[str, tuple[str, ...]] = {}
    for condition in conditions:
        name = split_operator(condition.operator)
        if name is None:
            continue
        key = condition.key.lower()
        if name.base == "Null":
            if any(v.lower() == "false" for v in condition.values):
                context.setdefault(key, (FRESH_VALUE,))
            continue
        if "Not" in name.base:
            if name.qualifier == "ForAnyValue":
                context[key] = (_unlike(condition.values),)
            continue
        value = _accepted_value(name.base, condition.values)
        if value is None:
            value = _through_variables(name.base, condition.values, context)
        if value is not None:
            context[key] = (value,)
    return context


def _through_variables(
    base: str, values: tuple[str, ...], context: dict[str, tuple[str, ...]]
) -> str | None:
    """A value for a test whose values are all policy variables (`aws:ResourceAccount` equal
    to `${aws:PrincipalAccount}`): the variables get a value (a natural one where known), and
    the test the value they resolve to."""
    template = next((t for v in values if (t := parse_template(v)) is not None), None)
    if template is None:
        return None
    for part in template.parts:
        if isinstance(part, Variable) and part.key not in context:
            natural = _NATURAL_VALUES.get(part.key, part.default or FRESH_VALUE)
            context[part.key] = (natural,)
    resolved = template.resolve(context)
    return None if resolved is None else _accepted_value(base, (resolved,))


def _unlike(values: Iterable[str]) -> str:
    taken = set(values)
    return next(c for c in (FRESH_VALUE, "alpha-other", "alpha-third") if c not in taken)


def _accepted_value(base: str, values: tuple[str, ...]) -> str | None:
    plain = [v for v in values if "${" not in v]
    if not plain:
        return None
    value = plain[0]
    if base in ("StringLike", "ArnLike"):
        return value.replace("*", "").replace("?", "x")
    if base.startswith("Numeric"):
        return _shifted_number(base.removeprefix("Numeric"), value)
    if base.startswith("Date"):
        return _shifted_date(base.removeprefix("Date"), value)
    if base == "IpAddress":
        try:
            return str(ipaddress.ip_network(value.strip(), strict=False).network_address)
        except ValueError:
            return None
    return value


def _shifted_number(comparison: str, value: str) -> str | None:
    number = parse_number(value)
    if number is None:
        return None
    step = {"LessThan": -1, "GreaterThan": 1}.get(comparison, 0)
    result = number + step
    return str(int(result)) if float(result).is_integer() else str(result)


def _shifted_date(comparison: str, value: str) -> str | None:
    seconds = parse_date(value)
    if seconds is None:
        return None
    step = {"LessThan": -1, "GreaterThan": 1}.get(comparison, 0)
    if step == 0:
        return value
    return datetime.fromtimestamp(seconds + step, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def falsify(context: dict[str, tuple[str, ...]], conditions: Iterable[Condition]) -> None:
    """Make one of `conditions` false in `context` (a statement needs all of them), changing
    no key already set; nothing when each one would need a key that is taken."""
    for condition in conditions:
        name = split_operator(condition.operator)
        key = condition.key.lower()
        if name is None or key in context:
            continue
        if name.base == "Null":
            if any(v.lower() == "true" for v in condition.values):
                context[key] = (FRESH_VALUE,)
            return
        negated = "Not" in name.base
        missing_passes = negated or name.if_exists or name.qualifier == "ForAllValues"
        if not missing_passes:
            return  # the key is absent, so the test fails already
        positive = name.base.replace("Not", "", 1)
        failing = _accepted_value(positive, condition.values) if negated else _UNLISTED
        if failing is not None:
            context[key] = (failing,)
            return
