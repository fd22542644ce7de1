"""Condition operators, compiled once into predicates over the request context.

Semantics follow the IAM User Guide pages "IAM JSON policy elements: Condition operators",
"Conditions with multiple context keys or values" and "Single-valued vs. multivalued context
keys":

- several values for one key are OR'ed; for a negated operator (`StringNotEquals`,
  `NotIpAddress`, `ArnNotLike`...) they are NOR'ed ("none of them");
- a key missing from the request makes a positive operator false and a negated one true;
  `...IfExists` makes any operator true on a missing key; `Null` tests presence itself;
- `ForAnyValue:` is true when at least one request value passes (false on a missing key),
  `ForAllValues:` when every request value passes (true on a missing or empty key);
- without a set qualifier, a multivalued request key passes a positive operator when any of its
  values matches, and a negated operator when none does;
- condition keys are case-insensitive, values case-sensitive except the `IgnoreCase` forms.

Policy variables are substituted in String*, Bool and Arn* values (not Numeric, Date, Binary or
IP values, as documented). Values the operator cannot parse (`NumericEquals: "ten"`) match
nothing; `alpha lint` reports them.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import operator
import re
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from functools import lru_cache

from alpha.policy.errors import PolicyError
from alpha.policy.model import Condition
from alpha.policy.operators import split_operator
from alpha.policy.patterns import Context, PatternSet, Template, glob_to_regex, parse_template

ConditionTest = Callable[[Context], bool]
"""A compiled condition: does it hold for this request context?"""

ValueTest = Callable[[str, Context], bool]
"""Does one request value match any of the condition's policy values?"""

_NEGATED: dict[str, str] = {
    "StringNotEquals": "StringEquals",
    "StringNotEqualsIgnoreCase": "StringEqualsIgnoreCase",
    "StringNotLike": "StringLike",
    "NumericNotEquals": "NumericEquals",
    "DateNotEquals": "DateEquals",
    "NotIpAddress": "IpAddress",
    "ArnNotEquals": "ArnEquals",
    "ArnNotLike": "ArnLike",
}
_ORDER: dict[str, Callable[[float, float], bool]] = {
    "Equals": operator.eq,
    "LessThan": operator.lt,
    "LessThanEquals": operator.le,
    "GreaterThan": operator.gt,
    "GreaterThanEquals": operator.ge,
}
_EPOCH = re.compile(r"-?\d+(?:\.\d+)?")


def compile_conditions(
    conditions: Iterable[Condition], variables: bool
) -> tuple[ConditionTest, ...]:
    """Compile a statement's conditions; the statement needs all of them (AND)."""
    return tuple(compile_condition(c, variables) for c in conditions)


def compile_condition(condition: Condition, variables: bool) -> ConditionTest:
    """Compile one key test; `variables` says whether `${...}` is substituted (Version
    2012-10-17) or literal text."""
    name = split_operator(condition.operator)
    if name is None:
        raise PolicyError(f"unknown condition operator {condition.operator!r}")
    key = condition.key.lower()
    if name.base == "Null":
        return _null_test(key, condition.values)
    negated = name.base in _NEGATED
    test = value_test(_NEGATED.get(name.base, name.base), condition.values, variables)
    if name.qualifier == "ForAllValues":
        return _for_all_values(key, test, negated)
    if name.qualifier == "ForAnyValue":
        return _for_any_value(key, test, negated, name.if_exists)
    return _single(key, test, negated, missing=name.if_exists or negated)


def _single(key: str, test: ValueTest, negated: bool, missing: bool) -> ConditionTest:
    def check(context: Context) -> bool:
        values = context.get(key)
        if values is None:
            return missing
        for value in values:
            if test(value, context):
                return not negated
        return negated

    return check


def _for_any_value(key: str, test: ValueTest, negated: bool, if_exists: bool) -> ConditionTest:
    def check(context: Context) -> bool:
        values = context.get(key)
        if values is None:
            return if_exists
        return any(test(value, context) != negated for value in values)

    return check


def _for_all_values(key: str, test: ValueTest, negated: bool) -> ConditionTest:
    def check(context: Context) -> bool:
        values = context.get(key)
        if values is None:
            return True
        return all(test(value, context) != negated for value in values)

    return check


def _null_test(key: str, values: tuple[str, ...]) -> ConditionTest:
    folded = {v.lower() for v in values}
    when_absent, when_present = "true" in folded, "false" in folded
    return lambda context: when_present if key in context else when_absent


def value_test(base: str, values: tuple[str, ...], variables: bool) -> ValueTest:
    """The positive test of a (non-negated) base operator over its policy values."""
    if base == "StringEquals":
        return _string_equals(values, variables, fold=False)
    if base in ("StringEqualsIgnoreCase", "Bool"):
        return _string_equals(values, variables, fold=True)
    if base == "StringLike":
        patterns = PatternSet(values, variables)
        return patterns.matches
    if base.startswith("Numeric"):
        return _ordered(values, _ORDER[base.removeprefix("Numeric")], parse_number)
    if base.startswith("Date"):
        return _ordered(values, _ORDER[base.removeprefix("Date")], parse_date)
    if base == "BinaryEquals":
        return _binary_equals(values)
    if base == "IpAddress":
        return _ip_address(values)
    if base in ("ArnEquals", "ArnLike"):
        return _arn_like(values, variables)
    raise PolicyError(f"unknown condition operator {base!r}")


def _split_templates(values: Iterable[str], variables: bool) -> tuple[list[str], list[Template]]:
    static: list[str] = []
    templates: list[Template] = []
    for value in values:
        template = parse_template(value) if variables else None
        if template is None:
            static.append(value)
        else:
            templates.append(template)
    return static, templates


def _string_equals(values: tuple[str, ...], variables: bool, fold: bool) -> ValueTest:
    static, templates = _split_templates(values, variables)
    exact = frozenset(v.lower() for v in static) if fold else frozenset(static)
    if not templates:
        if fold:
            return lambda value, _context: value.lower() in exact
        return lambda value, _context: value in exact

    def test(value: str, context: Context) -> bool:
        wanted = value.lower() if fold else value
        if wanted in exact:
            return True
        for template in templates:
            resolved = template.resolve(context)
            if resolved is not None and (resolved.lower() if fold else resolved) == wanted:
                return True
        return False

    return test


def _ordered(
    values: tuple[str, ...],
    compare: Callable[[float, float], bool],
    parse: Callable[[str], float | None],
) -> ValueTest:
    limits = [n for n in map(parse, values) if n is not None]

    def test(value: str, _context: Context) -> bool:
        number = parse(value)
        return number is not None and any(compare(number, limit) for limit in limits)

    return test


def parse_number(text: str) -> float | None:
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        return None


@lru_cache(maxsize=4096)
def parse_date(text: str) -> float | None:
    """Seconds since the epoch for an ISO 8601 date or date-time (UTC when no zone is given)
    or for epoch seconds written as a number."""
    text = text.strip()
    if _EPOCH.fullmatch(text):
        return float(text)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def _binary_equals(values: tuple[str, ...]) -> ValueTest:
    wanted = {_decode(v) for v in values}
    return lambda value, _context: _decode(value) in wanted


def _decode(text: str) -> bytes | str:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return text  # not base64: compare the text itself


def _ip_address(values: tuple[str, ...]) -> ValueTest:
    networks: list[tuple[int, int, int]] = []
    for value in values:
        try:
            net = ipaddress.ip_network(value.strip(), strict=False)
        except ValueError:
            continue
        networks.append((net.version, int(net.netmask), int(net.network_address)))

    def test(value: str, _context: Context) -> bool:
        address = parse_ip(value)
        if address is None:
            return False
        version, number = address
        return any(v == version and number & mask == base for v, mask, base in networks)

    return test


@lru_cache(maxsize=4096)
def parse_ip(text: str) -> tuple[int, int] | None:
    """(IP version, address as an int), or None if `text` is not an address."""
    try:
        address = ipaddress.ip_interface(text.strip()).ip
    except ValueError:
        return None
    return address.version, int(address)


def _arn_like(values: tuple[str, ...], variables: bool) -> ValueTest:
    static, templates = _split_templates(values, variables)
    regexes = [arn_regex(v) for v in static]

    def test(value: str, context: Context) -> bool:
        if any(r.fullmatch(value) for r in regexes):
            return True
        for template in templates:
            resolved = template.resolve(context)
            if resolved is not None and arn_regex(resolved).fullmatch(value):
                return True
        return False

    return test


@lru_cache(maxsize=2048)
def arn_regex(pattern: str) -> re.Pattern[str]:
    """ArnEquals/ArnLike compare the six colon-separated ARN fields one by one, each with its
    own wildcards: `*` in the first five fields cannot cross a colon; the last field (the
    resource) may contain colons. A pattern with fewer than six fields is matched as a plain
    glob."""
    fields = pattern.split(":", 5)
    if len(fields) < 6:
        return re.compile(glob_to_regex(pattern), re.DOTALL)
    head = [glob_to_regex(f, "[^:]*", "[^:]") for f in fields[:5]]
    return re.compile(":".join([*head, glob_to_regex(fields[5])]), re.DOTALL)
