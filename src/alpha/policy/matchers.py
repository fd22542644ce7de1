"""Statements compiled for evaluation, and resource-policy Principal matching.

A statement is compiled once into `StatementMatcher`; `Candidate` is its view for one service,
whose action test keeps only the action patterns that can name that service, so a request tests
only statements that can match it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from enum import IntEnum, StrEnum

from alpha.policy.conditions import ConditionTest, compile_conditions
from alpha.policy.model import (
    ActionList,
    Effect,
    NotPrincipalMap,
    NotResourceList,
    PrincipalMap,
    ResourceList,
    Statement,
)
from alpha.policy.patterns import Context, GlobSet, PatternSet, has_wildcard
from alpha.policy.short_arns import read_short_arns

__all__ = [
    "Candidate",
    "PolicyLayer",
    "StatementMatcher",
    "StatementRef",
    "is_service_linked",
]


ActionTest = Callable[[str], bool]
ResourceTest = Callable[[str, Context], bool]

_ACCOUNT_ID = re.compile(r"\d{12}")


class PolicyLayer(StrEnum):
    """A layer of the decision: the part of a `PolicySet` a statement comes from, and the
    layer that lacked an Allow when a request is implicitly denied. A KMS key policy is the
    resource policy of a KMS request, named apart when it is the one lacking (it must allow
    the caller or its account, where other resource policies need not)."""

    IDENTITY = "identity"
    BOUNDARY = "boundary"
    SCP = "scp"
    RCP = "rcp"
    RESOURCE = "resource"
    KMS_KEY_POLICY = "kms-key-policy"


@dataclass(frozen=True, slots=True)
class StatementRef:
    """Where a statement lives: `policy` indexes the policies of its layer (for SCPs, the
    level), `statement` the statements of that policy."""

    kind: PolicyLayer
    policy: int
    statement: int
    effect: Effect
    sid: str | None = None

    def __str__(self) -> str:
        sid = f" ({self.sid})" if self.sid else ""
        return f"{self.kind}[{self.policy}].Statement[{self.statement}]{sid}"


class PrincipalMatch(IntEnum):
    """How a resource-policy statement names the caller, weakest first.

    ACCOUNT: only through its account (the account delegates to its IAM policies); ROLE: the
    caller's role, whose permissions boundary still applies; DIRECT: the caller itself (an IAM
    user or role session ARN), a grant no implicit deny in identity policies or boundary limits.
    """

    NONE = 0
    ACCOUNT = 1
    ROLE = 2
    DIRECT = 3


@dataclass(frozen=True, slots=True)
class Caller:
    """The principal making a request, as far as Principal matching needs it."""

    arn: str | None
    account: str | None
    kind: str  # "user", "role", "session", "root" or "other"
    role_name: str | None = None

    @property
    def anyone(self) -> PrincipalMatch:
        """How `"Principal": "*"` names this caller. An unknown caller or a role is treated as
        named through its role, so a permissions boundary still applies (conservative)."""
        return PrincipalMatch.DIRECT if self.kind in ("user", "root") else PrincipalMatch.ROLE


def caller_of(arn: str | None, account: str | None = None) -> Caller:
    if arn is None:
        return Caller(None, account, "other")
    fields = arn.split(":", 5)
    if len(fields) < 6 or fields[0] != "arn":
        return Caller(arn, account, "other")
    service, resource = fields[2], fields[5]
    acct = account or fields[4] or None
    if service == "iam" and resource == "root":
        return Caller(arn, acct, "root")
    if service == "iam" and resource.startswith(("user/", "role/")):
        kind = resource.partition("/")[0]
        return Caller(arn, acct, kind, resource.rsplit("/", 1)[1] if kind == "role" else None)
    if service == "sts" and resource.startswith("assumed-role/"):
        role = resource.split("/")[1]
        return Caller(arn, acct, "session", role)
    return Caller(arn, acct, "other")


def is_service_linked(arn: str | None) -> bool:
    """A service-linked role, or a session of one. IAM User Guide, "Using service-linked
    roles": their path is `/aws-service-role/` and their names start `AWSServiceRoleFor`;
    a session ARN keeps only the role's name, hence both tests."""
    if not arn:
        return False
    caller = caller_of(arn)
    if caller.kind not in ("role", "session"):
        return False
    return "/aws-service-role/" in arn or (caller.role_name or "").startswith("AWSServiceRoleFor")


def match_principal(
    principal: PrincipalMap | NotPrincipalMap | None, caller: Caller
) -> PrincipalMatch:
    if principal is None:  # identity-style statement inside a resource policy: no one
        return PrincipalMatch.NONE
    found = max(
        (_match_id(kind, ident, caller) for kind, ids in principal.entries for ident in ids),
        default=PrincipalMatch.NONE,
    )
    if isinstance(principal, NotPrincipalMap):
        return caller.anyone if found is PrincipalMatch.NONE else PrincipalMatch.NONE
    return found


def _match_id(kind: str, ident: str, caller: Caller) -> PrincipalMatch:
    if ident == "*" and kind in ("*", "AWS"):
        return caller.anyone
    if kind != "AWS":
        return PrincipalMatch.DIRECT if ident == caller.arn else PrincipalMatch.NONE
    if _ACCOUNT_ID.fullmatch(ident) or ident.endswith(":root"):
        account = ident if ident.isdigit() else ident.split(":")[4]
        return PrincipalMatch.ACCOUNT if account == caller.account else PrincipalMatch.NONE
    if ident == caller.arn:
        return PrincipalMatch.ROLE if caller.kind == "role" else PrincipalMatch.DIRECT
    role = caller_of(ident)
    if (
        caller.kind == "session"
        and role.kind == "role"
        and (role.account, role.role_name) == (caller.account, caller.role_name)
    ):
        return PrincipalMatch.ROLE
    return PrincipalMatch.NONE


class StatementMatcher:
    """One statement, compiled: resource test, condition tests and its action patterns."""

    __slots__ = ("action_patterns", "conditions", "negated_actions", "principal", "ref", "resource")

    def __init__(self, statement: Statement, ref: StatementRef, variables: bool) -> None:
        self.ref = ref
        self.action_patterns = tuple(p.lower() for p in statement.action.patterns)
        self.negated_actions = not isinstance(statement.action, ActionList)
        self.resource = _resource_test(read_short_arns(statement.resource, ref.kind), variables)
        self.conditions = compile_conditions(statement.conditions, variables)
        self.principal = statement.principal

    def for_service(self, service: str) -> Candidate | None:
        """This statement's view for actions of `service`, or None if it cannot match any."""
        patterns = [p for p in self.action_patterns if _may_name_service(p, service)]
        everything = "*" in patterns or f"{service}:*" in patterns
        if not self.negated_actions:
            if not patterns:
                return None
            return Candidate(self, None if everything else GlobSet(patterns).matches_folded)
        if everything:
            return None
        if not patterns:
            return Candidate(self, None)
        excluded = GlobSet(patterns)
        return Candidate(self, lambda action: not excluded.matches_folded(action))


class Candidate:
    """A statement as seen by requests for one service; `action` None means every action."""

    __slots__ = ("action", "conditions", "matcher", "resource")

    def __init__(self, matcher: StatementMatcher, action: ActionTest | None) -> None:
        self.matcher = matcher
        self.action = action
        self.resource = matcher.resource
        self.conditions: tuple[ConditionTest, ...] = matcher.conditions

    def applies(self, action: str, resource: str, context: Context) -> bool:
        """Action (lower-cased), resource and every condition match."""
        if self.action is not None and not self.action(action):
            return False
        if self.resource is not None and not self.resource(resource, context):
            return False
        # A plain loop: all() over a generator costs a frame per statement on the hot path.
        for condition in self.conditions:  # noqa: SIM110
            if not condition(context):
                return False
        return True


def _may_name_service(pattern: str, service: str) -> bool:
    prefix, colon, _ = pattern.partition(":")
    return not colon or has_wildcard(prefix) or prefix == service


def _resource_test(
    resource: ResourceList | NotResourceList | None, variables: bool
) -> ResourceTest | None:
    """None means any resource: a missing Resource in a resource policy is the resource the
    policy is attached to (and IAM rejects identity policies without one)."""
    if resource is None:
        return None
    patterns = PatternSet(resource.patterns, variables)
    if isinstance(resource, ResourceList):
        return None if patterns.matches_all else patterns.matches
    return lambda value, context: not patterns.matches(value, context)
