"""Apply the guardrails: fix what can be fixed without widening access, report the rest.

The seed's Guardrail step: in goes a policy, out come the sanitised policy and the violations.
Every fix only narrows what the policy allows, so the sanitised policy never allows more than
the input:

- BLOCKED_ACTION / DISALLOWED_SERVICE: an Action pattern that grants nothing but forbidden
  actions is removed (and a statement left with no actions with it); where a broader pattern
  (`s3:*`, `*`, NotAction) also grants forbidden actions, an explicit Deny of the configured
  entries is added, since rewriting the wildcard would drop actions AWS adds later or bloat the
  policy.
- PASSROLE_UNSCOPED, when `passrole_services` is configured: an `iam:PassedToService` condition
  is added to a statement that grants only iam:PassRole; a written `iam:PassRole` in a statement
  with other actions moves to a statement of its own, with the same resources and conditions
  plus that one. A PassRole grant on every role still blocks: only a person knows which roles.
- MISSING_REQUIRED_CONDITION, when `condition_values` gives the key's values: the condition is
  added to each Allow statement that lacks it.

Everything else (wildcards, write access on `*`, escalation, size) needs a person and blocks
approval when its severity is error. The rules are run again on the result, so `violations`
describes the sanitised policy; `found` is what the input had.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from alpha.catalog import Catalog
from alpha.guardrails.config import GuardrailConfig
from alpha.guardrails.grants import allow_grants, restricts
from alpha.guardrails.model import Fix, Violation
from alpha.guardrails.rules import (
    PASSED_TO_SERVICE,
    PASSROLE,
    check,
    forbidden_hits,
    forbidden_matcher,
)
from alpha.policy.model import (
    ActionList,
    Condition,
    Effect,
    Policy,
    ResourceList,
    Statement,
)
from alpha.policy.patterns import has_wildcard
from alpha.policy.serialize import to_document

GUARDRAIL_DENY_SID = "GuardrailDeny"


@dataclass(frozen=True, slots=True)
class GuardrailResult:
    """The sanitised `policy`, the `violations` left in it, the `fixes` made, and the
    violations `found` in the input."""

    policy: Policy
    violations: tuple[Violation, ...]
    fixes: tuple[Fix, ...]
    found: tuple[Violation, ...]

    @property
    def blocked(self) -> bool:
        """Whether approval is blocked: some violation left is an error."""
        return any(v.blocks for v in self.violations)

    def as_json(self) -> dict[str, Any]:
        return {
            "sanitised_policy": to_document(self.policy),
            "violations": [v.as_json() for v in self.violations],
            "fixes": [f.as_json() for f in self.fixes],
            "blocked": self.blocked,
        }


@dataclass(frozen=True, slots=True)
class _Entry:
    """A statement being rewritten; `origin` is its index in the input (None if added)."""

    origin: int | None
    statement: Statement
    split_from: int | None = None

    @property
    def where(self) -> str:
        if self.origin is not None:
            return f"Statement[{self.origin}]"
        if self.split_from is not None:
            return f"the statement split from Statement[{self.split_from}]"
        return "the added statement"

    @property
    def path(self) -> str:
        """Where fixes to this statement are reported: its place in the input, if it had one."""
        return f"Statement[{self.origin}]" if self.origin is not None else ""


def enforce(policy: Policy, catalog: Catalog, config: GuardrailConfig) -> GuardrailResult:
    found = check(policy, catalog, config)
    codes = {v.code for v in found}
    entries = [_Entry(i, s) for i, s in enumerate(policy.statements)]
    fixes: list[Fix] = []
    if codes & {"BLOCKED_ACTION", "DISALLOWED_SERVICE"}:
        entries = _remove_forbidden(policy, entries, catalog, config, codes=codes, fixes=fixes)
    if "PASSROLE_UNSCOPED" in codes and config.passrole_services:
        entries = _scope_passrole(entries, catalog, config, fixes)
    if "MISSING_REQUIRED_CONDITION" in codes and config.condition_values:
        entries = _add_required_conditions(entries, catalog, config, fixes)
    if not fixes:
        return GuardrailResult(policy, found, (), found)
    sanitised = replace(policy, statements=tuple(e.statement for e in entries))
    return GuardrailResult(sanitised, check(sanitised, catalog, config), tuple(fixes), found)


# Blocked actions and disallowed services --------------------------------------------------------


def _remove_forbidden(
    policy: Policy,
    entries: list[_Entry],
    catalog: Catalog,
    config: GuardrailConfig,
    *,
    codes: set[str],
    fixes: list[Fix],
) -> list[_Entry]:
    enabled = config.model_copy(
        update={
            "blocked_actions": config.blocked_actions if "BLOCKED_ACTION" in codes else (),
            "disallowed_services": (
                config.disallowed_services if "DISALLOWED_SERVICE" in codes else ()
            ),
        }
    )
    matches = forbidden_matcher(enabled)
    dropped: dict[int, dict[int, str]] = {}  # statement -> pattern number -> rule
    denied: dict[str, str] = {}  # configured entry -> rule
    for grant in allow_grants(policy, catalog):
        hits = forbidden_hits(grant, catalog, matches)
        if not hits:
            continue
        rule = _rule_of(matches, next(iter(hits)))
        if (
            grant.pattern is not None
            and grant.number is not None
            and _only_forbidden(grant.pattern, catalog, matches)
        ):
            dropped.setdefault(grant.statement, {})[grant.number] = rule
            note = f"removed {grant.pattern!r}: it grants only forbidden actions ({rule})"
            fixes.append(Fix(rule, grant.path, note))
        else:
            denied.update({entry: _rule_of(matches, key) for key, entry in hits.items()})
    kept = [_without_patterns(e, dropped.get(_origin(e), {}), fixes) for e in entries]
    result = [e for e in kept if e is not None]
    if denied:
        result.append(_Entry(None, _deny_statement(policy, sorted(denied))))
        for rule in sorted(set(denied.values())):
            names = ", ".join(sorted(e for e, r in denied.items() if r == rule))
            note = f"added a Deny of {names}: broader patterns grant them among other actions"
            fixes.append(Fix(rule, "", note))
    return result


def _rule_of(matches: Callable[[str], tuple[str, str] | None], key: str) -> str:
    hit = matches(key)
    assert hit is not None  # only called with keys `forbidden_hits` returned
    return hit[0]


def _only_forbidden(
    pattern: str, catalog: Catalog, matches: Callable[[str], tuple[str, str] | None]
) -> bool:
    expanded = catalog.expand(pattern)
    if not expanded:
        return not has_wildcard(pattern) and matches(pattern) is not None
    return all(matches(a.key) is not None for a in expanded)


def _origin(entry: _Entry) -> int:
    return -1 if entry.origin is None else entry.origin


def _without_patterns(entry: _Entry, numbers: dict[int, str], fixes: list[Fix]) -> _Entry | None:
    statement = entry.statement
    if not numbers or not isinstance(statement.action, ActionList):
        return entry
    kept = tuple(p for i, p in enumerate(statement.action.patterns) if i not in numbers)
    if not kept:
        rule = next(iter(numbers.values()))
        fixes.append(Fix(rule, entry.path, f"removed {entry.where}: no actions were left"))
        return None
    return replace(entry, statement=replace(statement, action=ActionList(kept)))


def _deny_statement(policy: Policy, entries: list[str]) -> Statement:
    taken = {s.sid for s in policy.statements}
    sid = next(
        f"{GUARDRAIL_DENY_SID}{n or ''}"
        for n in range(len(taken) + 1)
        if f"{GUARDRAIL_DENY_SID}{n or ''}" not in taken
    )
    return Statement(Effect.DENY, ActionList(tuple(entries)), ResourceList(("*",)), sid=sid)


# iam:PassRole -----------------------------------------------------------------------------------


def _scope_passrole(
    entries: list[_Entry], catalog: Catalog, config: GuardrailConfig, fixes: list[Fix]
) -> list[_Entry]:
    condition = Condition("StringEquals", PASSED_TO_SERVICE, tuple(config.passrole_services))
    shown = ", ".join(config.passrole_services)
    result: list[_Entry] = []
    for entry in entries:
        statement = entry.statement
        if (
            statement.effect is not Effect.ALLOW
            or not isinstance(statement.action, ActionList)
            or any(restricts(c, PASSED_TO_SERVICE) for c in statement.conditions)
        ):
            result.append(entry)
            continue
        only = [_passrole_only(p, catalog) for p in statement.action.patterns]
        if all(only):
            scoped = replace(statement, conditions=(*statement.conditions, condition))
            result.append(replace(entry, statement=scoped))
            note = f"added the condition {PASSED_TO_SERVICE} = {shown} to {entry.where}"
            fixes.append(Fix("PASSROLE_UNSCOPED", entry.path, note))
        elif any(only):
            others = tuple(
                p for p, alone in zip(statement.action.patterns, only, strict=True) if not alone
            )
            passing = tuple(
                p for p, alone in zip(statement.action.patterns, only, strict=True) if alone
            )
            result.append(replace(entry, statement=replace(statement, action=ActionList(others))))
            moved = replace(
                statement,
                action=ActionList(passing),
                conditions=(*statement.conditions, condition),
                sid=None,
            )
            result.append(_Entry(None, moved, split_from=entry.origin))
            note = (
                f"moved {PASSROLE} out of {entry.where} into a statement of its own with "
                f"the condition {PASSED_TO_SERVICE} = {shown}"
            )
            fixes.append(Fix("PASSROLE_UNSCOPED", entry.path, note))
        else:
            result.append(entry)
    return result


def _passrole_only(pattern: str, catalog: Catalog) -> bool:
    expanded = catalog.expand(pattern)
    return bool(expanded) and all(a.key.lower() == PASSROLE.lower() for a in expanded)


# Required conditions ----------------------------------------------------------------------------

_OPERATOR_BY_TYPE = {
    "bool": "Bool",
    "arn": "ArnLike",
    "ipaddress": "IpAddress",
    "numeric": "NumericEquals",
    "date": "DateEquals",
}


def _add_required_conditions(
    entries: list[_Entry], catalog: Catalog, config: GuardrailConfig, fixes: list[Fix]
) -> list[_Entry]:
    result: list[_Entry] = []
    for entry in entries:
        statement = entry.statement
        if statement.effect is Effect.ALLOW:
            for key in config.required_conditions:
                values = config.values_for(key)
                if values and not any(restricts(c, key) for c in statement.conditions):
                    added = Condition(_operator_for(key, values, catalog), key, values)
                    statement = replace(statement, conditions=(*statement.conditions, added))
                    note = (
                        f"added the condition {added.operator} {key} = {', '.join(values)} "
                        f"to {entry.where}"
                    )
                    fixes.append(Fix("MISSING_REQUIRED_CONDITION", entry.path, note))
        result.append(replace(entry, statement=statement))
    return result


def _operator_for(key: str, values: tuple[str, ...], catalog: Catalog) -> str:
    """The operator that tests `key` against `values` by the key's type in the catalog;
    a multivalued key needs ForAnyValue (ForAllValues would also hold when the key is
    missing, and so not restrict)."""
    known = catalog.condition_key(key)
    kind = known.type.lower() if known is not None else "string"
    prefix = ""
    if kind.startswith("arrayof"):
        prefix, kind = "ForAnyValue:", kind.removeprefix("arrayof")
    wildcard = any(has_wildcard(v) for v in values)
    base = _OPERATOR_BY_TYPE.get(kind, "StringLike" if wildcard else "StringEquals")
    return prefix + base
