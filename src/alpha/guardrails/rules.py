"""The guardrail rules: small functions `(policy, catalog, config) -> Iterable[Violation]`.

Every rule looks at what Allow statements grant (`grants`), so a simple explicit Deny (see
`grants`) takes a grant away. `check` runs the enabled rules; `enforce` fixes what it can.

WILDCARD_ACTION decides "wildcard" by the text: `*`, `service:*` (an action name made only of
wildcards) and a wildcard in the service prefix are full wildcards, reported with the rule's
severity (an error unless configured); a wildcard inside a name (`s3:Get*`) is reported with
`partial_action_wildcards` (a warning by default, "off" for none). An Allow with NotAction is a
full wildcard: it grants every action but a few.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from types import MappingProxyType

from alpha.catalog import AccessLevel, Action, Catalog
from alpha.guardrails.config import GuardrailConfig
from alpha.guardrails.escalation import ESCALATION_METHODS, EscalationMethod
from alpha.guardrails.grants import (
    PatternGrant,
    allow_grants,
    is_all_resources,
    restricts,
)
from alpha.guardrails.model import Violation
from alpha.policy.findings import Severity
from alpha.policy.model import Effect, NotActionList, Policy, ResourceList
from alpha.policy.patterns import compile_glob, has_wildcard
from alpha.policy.validate import policy_size

Rule = Callable[[Policy, Catalog, GuardrailConfig], Iterable[Violation]]

PASSROLE = "iam:PassRole"
PASSED_TO_SERVICE = "iam:PassedToService"
_WRITE_LEVELS = frozenset({AccessLevel.WRITE, AccessLevel.PERMISSIONS_MANAGEMENT})
_SHOWN = 5  # actions named in a message before "and N more"


def check(policy: Policy, catalog: Catalog, config: GuardrailConfig) -> tuple[Violation, ...]:
    """Every violation of the enabled rules, most severe first, then by rule and place."""
    found = [
        violation
        for code, rule in RULES.items()
        if config.enabled(code)
        for violation in rule(policy, catalog, config)
    ]
    return tuple(sorted(found, key=lambda v: v.severity.rank))


def _violation(
    config: GuardrailConfig, code: str, message: str, path: str, severity: Severity | None = None
) -> Violation:
    return Violation(code, message, path, severity or config.severity(code))


def _names(actions: Iterable[Action | str]) -> str:
    keys = sorted({a if isinstance(a, str) else a.key for a in actions})
    shown = ", ".join(keys[:_SHOWN])
    return shown + (f" and {len(keys) - _SHOWN} more" if len(keys) > _SHOWN else "")


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


# WILDCARD_ACTION -------------------------------------------------------------------------------


def is_full_wildcard(pattern: str) -> bool:
    service, _, name = pattern.partition(":")
    return pattern == "*" or has_wildcard(service) or (bool(name) and not name.strip("*?"))


def wildcard_action(
    policy: Policy, catalog: Catalog, config: GuardrailConfig
) -> Iterator[Violation]:
    partial = None if config.partial_action_wildcards == "off" else config.partial_action_wildcards
    for index, statement in enumerate(policy.statements):
        if statement.effect is not Effect.ALLOW:
            continue
        if isinstance(statement.action, NotActionList):
            message = "Allow with NotAction grants every action except those listed"
            yield _violation(config, "WILDCARD_ACTION", message, f"Statement[{index}].NotAction")
            continue
        for number, pattern in enumerate(statement.action.patterns):
            path = f"Statement[{index}].Action[{number}]"
            if is_full_wildcard(pattern):
                service = pattern.partition(":")[0]
                scope = "of every service" if has_wildcard(service) else f"of {service}"
                message = f"wildcard action {pattern!r} grants every action {scope}"
                yield _violation(config, "WILDCARD_ACTION", message, path)
            elif has_wildcard(pattern) and partial is not None:
                matched = catalog.expand(pattern)
                message = (
                    f"wildcard action {pattern!r} grants {_count(len(matched), 'action')} "
                    f"({_names(matched)}); list the ones needed"
                )
                yield _violation(config, "WILDCARD_ACTION", message, path, Severity(partial))


# WILDCARD_RESOURCE_ON_WRITE --------------------------------------------------------------------


def wildcard_resource_on_write(
    policy: Policy, catalog: Catalog, config: GuardrailConfig
) -> Iterator[Violation]:
    """Write actions that can be scoped to resources, granted on `*`.

    An action whose one resource type is optional in the Service Authorization Reference
    (`cloudwatch:PutMetricData`'s dataset) is authorised on `*` when the call names no such
    resource (issue 10; the reference's "Actions, resources, and condition keys" page: required
    types carry an asterisk, and of optional ones "you can choose to use one"), so `*` may be
    the only resource that allows its calls: a statement granting only such actions on `*` is
    reported as information that says so. Several optional types are alternatives one of which
    a call names (S3's object or access point object, TagResource's types): still a finding."""
    scoped: dict[int, set[str]] = {}
    optional: dict[int, set[str]] = {}
    for grant in allow_grants(policy, catalog):
        if grant.on_all_resources:
            for a in grant.actions:
                if a.access_level not in _WRITE_LEVELS or not a.supports_resource_level:
                    continue
                alone = len(a.resources) == 1 and not a.resources[0].required
                (optional if alone else scoped).setdefault(grant.statement, set()).add(a.key)
    for index in sorted(scoped.keys() | optional.keys()):
        keys = scoped.get(index, set())
        path = _resource_path(policy, index)
        if keys:
            message = (
                f"{len(keys)} write or permissions-management actions that can be scoped to "
                f"resources are granted on every resource: {_names(keys)}"
            )
            yield _violation(config, "WILDCARD_RESOURCE_ON_WRITE", message, path)
        elif optional.get(index):
            only = optional[index]
            message = (
                f"{_count(len(only), 'write action')} on every resource, each with one resource "
                "type that the Service Authorization Reference marks optional: a call that "
                "names no such resource is authorised on `*`, which only `*` allows (scope it "
                f"if the calls name one): {_names(only)}"
            )
            yield _violation(config, "WILDCARD_RESOURCE_ON_WRITE", message, path, Severity.INFO)


def _resource_path(policy: Policy, index: int) -> str:
    statement = policy.statements[index]
    path = f"Statement[{index}]"
    if isinstance(statement.resource, ResourceList):
        number = next(i for i, r in enumerate(statement.resource.patterns) if is_all_resources(r))
        return f"{path}.Resource[{number}]"
    return f"{path}.NotResource" if statement.resource is not None else path


# PASSROLE_UNSCOPED -----------------------------------------------------------------------------


def passes_any_role(resources: tuple[str, ...]) -> bool:
    """Whether the resources cover every role: `*`, or `arn:...:role/*`."""
    return any(is_all_resources(r) or r.endswith(":role/*") for r in resources)


def passrole_unscoped(
    policy: Policy, catalog: Catalog, config: GuardrailConfig
) -> Iterator[Violation]:
    seen: set[int] = set()
    for grant in allow_grants(policy, catalog):
        if grant.statement in seen or not grant.grants(PASSROLE):
            continue
        seen.add(grant.statement)
        problems = []
        if passes_any_role(grant.resources):
            problems.append("on every role")
        if not any(restricts(c, PASSED_TO_SERVICE) for c in grant.conditions):
            problems.append(f"without an {PASSED_TO_SERVICE} condition")
        if problems:
            via = "" if grant.pattern == PASSROLE else f" (through {_written(grant)})"
            message = f"{PASSROLE} is granted {' and '.join(problems)}{via}"
            yield _violation(config, "PASSROLE_UNSCOPED", message, grant.path)


def _written(grant: PatternGrant) -> str:
    return repr(grant.pattern) if grant.pattern is not None else "NotAction"


# BLOCKED_ACTION and DISALLOWED_SERVICE ---------------------------------------------------------


Forbidding = Callable[[str], tuple[str, str] | None]


def forbidden_matcher(config: GuardrailConfig) -> Forbidding:
    """action key (as granted or written) -> (rule, configured entry) forbidding it, or None.

    A disallowed service's entry is written `service:*`.
    """
    blocked = [(p, compile_glob(p, ignore_case=True)) for p in config.blocked_actions]
    services = {s.lower(): s for s in config.disallowed_services}

    def forbidding(action: str) -> tuple[str, str] | None:
        service = action.partition(":")[0].lower()
        if service in services:
            return "DISALLOWED_SERVICE", f"{services[service]}:*"
        entry = next((p for p, matches in blocked if matches(action)), None)
        return None if entry is None else ("BLOCKED_ACTION", entry)

    return forbidding


def forbidden_hits(grant: PatternGrant, catalog: Catalog, matches: Forbidding) -> dict[str, str]:
    """The forbidden actions a grant gives: key -> configured entry. A pattern naming no
    catalog action (new or misspelt) is judged by its text."""
    pattern = grant.pattern
    if pattern is not None and not has_wildcard(pattern) and not catalog.expand(pattern):
        hit = matches(pattern)
        return {} if hit is None else {pattern: hit[1]}
    return {a.key: hit[1] for a in grant.actions if (hit := matches(a.key))}


def _forbidden_violations(
    policy: Policy, catalog: Catalog, config: GuardrailConfig, code: str
) -> Iterator[tuple[PatternGrant, dict[str, str]]]:
    """Grants with actions forbidden by `code`'s own list (so disabling one rule never hides
    the other's findings)."""
    other = "disallowed_services" if code == "BLOCKED_ACTION" else "blocked_actions"
    matches = forbidden_matcher(config.model_copy(update={other: ()}))
    for grant in allow_grants(policy, catalog):
        hits = forbidden_hits(grant, catalog, matches)
        if hits:
            yield grant, hits


def blocked_action(
    policy: Policy, catalog: Catalog, config: GuardrailConfig
) -> Iterator[Violation]:
    for grant, hits in _forbidden_violations(policy, catalog, config, "BLOCKED_ACTION"):
        message = (
            f"{_written(grant)} grants blocked action{'s' if len(hits) > 1 else ''} "
            f"{_names(hits)} (blocked: {', '.join(sorted(set(hits.values())))})"
        )
        yield _violation(config, "BLOCKED_ACTION", message, grant.path)


def disallowed_service(
    policy: Policy, catalog: Catalog, config: GuardrailConfig
) -> Iterator[Violation]:
    for grant, hits in _forbidden_violations(policy, catalog, config, "DISALLOWED_SERVICE"):
        services = ", ".join(sorted({e.partition(":")[0] for e in hits.values()}))
        message = (
            f"{_written(grant)} grants actions of disallowed service {services}: {_names(hits)}"
        )
        yield _violation(config, "DISALLOWED_SERVICE", message, grant.path)


# MISSING_REQUIRED_CONDITION --------------------------------------------------------------------


def missing_required_condition(
    policy: Policy, catalog: Catalog, config: GuardrailConfig
) -> Iterator[Violation]:
    for index, statement in enumerate(policy.statements):
        if statement.effect is not Effect.ALLOW:
            continue
        path = f"Statement[{index}]" + (".Condition" if statement.conditions else "")
        for key in config.required_conditions:
            if not any(restricts(c, key) for c in statement.conditions):
                message = f"Allow statement is not restricted by the required condition key {key}"
                yield _violation(config, "MISSING_REQUIRED_CONDITION", message, path)


# PRIVILEGE_ESCALATION --------------------------------------------------------------------------


def privilege_escalation(
    policy: Policy, catalog: Catalog, config: GuardrailConfig
) -> Iterator[Violation]:
    by_action: dict[str, list[PatternGrant]] = {}
    for grant in allow_grants(policy, catalog):
        for action in grant.actions:
            by_action.setdefault(action.key.lower(), []).append(grant)
    fired = [m for m in ESCALATION_METHODS if _possible(m, by_action)]
    for method in _simplest(fired):
        first = method.requires[0]
        path = next(
            g.path for g in by_action[first.action.lower()] if first.scope.satisfied_by(g.resources)
        )
        message = f"{method.name}: {method.how}"
        yield _violation(config, "PRIVILEGE_ESCALATION", message, path)


def _possible(method: EscalationMethod, by_action: Mapping[str, list[PatternGrant]]) -> bool:
    return all(
        any(r.scope.satisfied_by(g.resources) for g in by_action.get(r.action.lower(), ()))
        for r in method.requires
    )


def _simplest(methods: list[EscalationMethod]) -> Iterator[EscalationMethod]:
    """Leave out a method when a fired method with fewer requirements is part of it."""
    names = [frozenset(r.action for r in m.requires) for m in methods]
    for method, need in zip(methods, names, strict=True):
        if not any(other < need for other in names):
            yield method


# SIZE_QUOTA ------------------------------------------------------------------------------------


def size_quota(policy: Policy, catalog: Catalog, config: GuardrailConfig) -> Iterator[Violation]:
    size = policy_size(policy)
    if size > config.max_policy_size:
        message = (
            f"{size:,} characters (whitespace not counted); the limit is {config.max_policy_size:,}"
        )
        yield _violation(config, "SIZE_QUOTA", message, "")


RULES: Mapping[str, Rule] = MappingProxyType(
    {
        "WILDCARD_ACTION": wildcard_action,
        "WILDCARD_RESOURCE_ON_WRITE": wildcard_resource_on_write,
        "PASSROLE_UNSCOPED": passrole_unscoped,
        "BLOCKED_ACTION": blocked_action,
        "DISALLOWED_SERVICE": disallowed_service,
        "MISSING_REQUIRED_CONDITION": missing_required_condition,
        "PRIVILEGE_ESCALATION": privilege_escalation,
        "SIZE_QUOTA": size_quota,
    }
)
