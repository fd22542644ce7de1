"""The IAM authorization decision for one request against a set of policies.

Follows the IAM User Guide page "Policy evaluation logic" (reference_policies_evaluation-logic):

1. An explicit Deny in any applicable policy (identity, boundary, SCP, resource policy) wins.
2. SCPs: every level (each `scps` document is one level of the organization) must allow.
3. A same-account resource-based policy that names the caller directly (an IAM user or role
   session ARN) allows on its own: implicit denies in identity policies and the permissions
   boundary do not limit it. One that names the caller's role allows too, but the boundary
   must also allow. One that names only the account delegates to IAM policies.
4. Otherwise identity policies must allow, and the permissions boundary (if any) too.
5. Cross-account (caller and resource accounts known and different, resource policy given):
   both the resource policy and the caller's identity policies (and boundary) must allow.
6. KMS: for `kms:` actions with a key policy given as the resource policy, the key policy must
   allow, either the caller itself or the account (which enables IAM policies to grant).

Simplifications, stated so nobody relies on them: no session policies, RCPs, VPC endpoint
policies or ACLs; SCPs are applied to every caller (the management account and service-linked
roles are not exempted); `"Principal": "*"` names a role session through its role.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cache

from alpha.policy.matchers import (
    Caller,
    Candidate,
    PolicyLayer,
    PrincipalMatch,
    StatementMatcher,
    StatementRef,
    caller_of,
    match_principal,
)
from alpha.policy.model import ALWAYS_ALLOWED_ACTION, Effect, Policy

__all__ = [
    "Decision",
    "Evaluator",
    "MissingAllow",
    "PolicyLayer",
    "PolicySet",
    "Request",
    "Result",
    "StatementRef",
    "compile_policy_set",
]

_NOBODY = Caller(None, None, "other")  # stands in when no resource policy needs the caller
_ALWAYS_ALLOWED = ALWAYS_ALLOWED_ACTION.lower()
_PLAN_CACHE_LIMIT = 4096  # distinct service prefixes kept; more only happens with junk input


class Decision(StrEnum):
    ALLOWED = "Allowed"
    IMPLICITLY_DENIED = "ImplicitlyDenied"
    EXPLICITLY_DENIED = "ExplicitlyDenied"


@dataclass(frozen=True, slots=True)
class MissingAllow:
    layer: PolicyLayer
    level: int | None = None  # the SCP level

    def __str__(self) -> str:
        return {
            PolicyLayer.IDENTITY: "no identity-based policy allows the action",
            PolicyLayer.BOUNDARY: "the permissions boundary does not allow the action",
            PolicyLayer.SCP: f"no statement of SCP level {self.level} allows the action",
            PolicyLayer.RESOURCE: (
                "the resource-based policy does not allow this cross-account call"
            ),
            PolicyLayer.KMS_KEY_POLICY: (
                "the KMS key policy allows neither the caller nor its account"
            ),
        }[self.layer]


@dataclass(frozen=True, slots=True)
class Request:
    """One API call. Context keys are case-insensitive (stored lower-cased); a key given with
    no values counts as absent. `principal` (an ARN) and the accounts matter only for
    resource-based policies; the resource account defaults to the resource ARN's."""

    action: str
    resource: str
    context: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    principal: str | None = None
    principal_account: str | None = None
    resource_account: str | None = None
    action_key: str = field(init=False, repr=False, compare=False)
    service: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        folded = {key.lower(): tuple(values) for key, values in self.context.items() if values}
        object.__setattr__(self, "context", folded)
        object.__setattr__(self, "action_key", self.action.lower())
        object.__setattr__(self, "service", self.action_key.partition(":")[0])


@dataclass(frozen=True, slots=True)
class PolicySet:
    """Everything that applies to a request; indexes in results refer to these tuples."""

    identity: tuple[Policy, ...] = ()
    boundary: Policy | None = None
    scps: tuple[Policy, ...] = ()
    resource_policy: Policy | None = None


@dataclass(frozen=True, slots=True)
class Result:
    """The decision and the statements that made it: every matching Deny when explicitly
    denied; the allowing statements of each layer that was needed when allowed; for an implicit
    deny, `missing` names the layer that lacked an Allow."""

    decision: Decision
    statements: tuple[StatementRef, ...] = ()
    missing: MissingAllow | None = None

    @property
    def allowed(self) -> bool:
        return self.decision is Decision.ALLOWED


@dataclass(frozen=True, slots=True)
class _Plan:
    """The candidate statements of every layer for one service prefix."""

    denies: tuple[Candidate, ...]
    identity: tuple[Candidate, ...]
    boundary: tuple[Candidate, ...] | None
    scps: tuple[tuple[Candidate, ...], ...]
    resource: tuple[Candidate, ...] | None


def compile_policy_set(policy_set: PolicySet) -> Evaluator:
    """Compile every pattern and condition once; the evaluator is then reused per request."""
    return Evaluator(policy_set)


class Evaluator:
    def __init__(self, policy_set: PolicySet) -> None:
        self.policy_set = policy_set
        self._identity = _compile(policy_set.identity, PolicyLayer.IDENTITY)
        self._boundary = (
            None
            if policy_set.boundary is None
            else _compile((policy_set.boundary,), PolicyLayer.BOUNDARY)
        )
        self._scps = tuple(
            _compile((p,), PolicyLayer.SCP, level) for level, p in enumerate(policy_set.scps)
        )
        self._resource = (
            None
            if policy_set.resource_policy is None
            else _compile((policy_set.resource_policy,), PolicyLayer.RESOURCE)
        )
        self._plans: dict[str, _Plan] = {}

    def evaluate(self, request: Request) -> Result:
        if request.action_key == _ALWAYS_ALLOWED:
            return Result(Decision.ALLOWED)
        plan = self._plans.get(request.service) or self._plan(request.service)
        action, resource, context = request.action_key, request.resource, request.context
        caller = (
            _NOBODY
            if self._resource is None
            else caller_of(request.principal, request.principal_account)
        )
        denies = [
            c.matcher.ref
            for c in plan.denies
            if c.applies(action, resource, context) and _names_caller(c, caller)
        ]
        if denies:
            return Result(Decision.EXPLICITLY_DENIED, tuple(denies))
        scp_allows: list[StatementRef] = []
        for level, candidates in enumerate(plan.scps):
            found = _allowing(candidates, action, resource, context)
            if not found:
                return _missing(PolicyLayer.SCP, level)
            scp_allows += found
        result = self._grant(plan, request, caller)
        if result.allowed:
            return Result(Decision.ALLOWED, result.statements + tuple(scp_allows))
        return result

    def _grant(self, plan: _Plan, request: Request, caller: Caller) -> Result:
        action, resource, context = request.action_key, request.resource, request.context
        identity = _allowing(plan.identity, action, resource, context)
        boundary = (
            None if plan.boundary is None else _allowing(plan.boundary, action, resource, context)
        )
        if plan.resource is None:
            return _identity_grant(identity, boundary)
        granted, how = _resource_grant(plan.resource, request, caller)
        if request.service == "kms":
            if how is PrincipalMatch.NONE:
                return _missing(PolicyLayer.KMS_KEY_POLICY)
            if how is PrincipalMatch.ACCOUNT:
                return _with(_identity_grant(identity, boundary), granted)
        elif _cross_account(request, caller):
            if how is PrincipalMatch.NONE:
                return _missing(PolicyLayer.RESOURCE)
            return _with(_identity_grant(identity, boundary), granted)
        if how is PrincipalMatch.DIRECT:
            return Result(Decision.ALLOWED, granted)
        if how is PrincipalMatch.ROLE:
            if boundary is not None and not boundary:
                return _missing(PolicyLayer.BOUNDARY)
            return Result(Decision.ALLOWED, granted + tuple(boundary or ()))
        return _identity_grant(identity, boundary)

    def _plan(self, service: str) -> _Plan:
        def view(matchers: Iterable[StatementMatcher]) -> tuple[Candidate, ...]:
            return tuple(c for m in matchers if (c := m.for_service(service)) is not None)

        def allows(matchers: tuple[StatementMatcher, ...]) -> tuple[Candidate, ...]:
            return view(m for m in matchers if m.ref.effect is Effect.ALLOW)

        layers = [self._identity, *self._scps]
        layers += [x for x in (self._boundary, self._resource) if x is not None]
        plan = _Plan(
            denies=view(m for layer in layers for m in layer if m.ref.effect is Effect.DENY),
            identity=allows(self._identity),
            boundary=None if self._boundary is None else allows(self._boundary),
            scps=tuple(allows(level) for level in self._scps),
            resource=None if self._resource is None else allows(self._resource),
        )
        if len(self._plans) < _PLAN_CACHE_LIMIT:
            self._plans[service] = plan
        return plan


def _compile(
    policies: Iterable[Policy], kind: PolicyLayer, level: int | None = None
) -> tuple[StatementMatcher, ...]:
    return tuple(
        StatementMatcher(
            statement,
            StatementRef(
                kind, index if level is None else level, number, statement.effect, statement.sid
            ),
            policy.supports_variables,
        )
        for index, policy in enumerate(policies)
        for number, statement in enumerate(policy.statements)
    )


def _allowing(
    candidates: tuple[Candidate, ...],
    action: str,
    resource: str,
    context: Mapping[str, tuple[str, ...]],
) -> tuple[StatementRef, ...]:
    return tuple(c.matcher.ref for c in candidates if c.applies(action, resource, context))


def _names_caller(candidate: Candidate, caller: Caller) -> bool:
    if candidate.matcher.ref.kind is not PolicyLayer.RESOURCE:
        return True
    return match_principal(candidate.matcher.principal, caller) is not PrincipalMatch.NONE


def _resource_grant(
    candidates: tuple[Candidate, ...], request: Request, caller: Caller
) -> tuple[tuple[StatementRef, ...], PrincipalMatch]:
    """The resource-policy statements that allow the request, and how strongly the strongest
    of them names the caller."""
    found: list[StatementRef] = []
    best = PrincipalMatch.NONE
    for candidate in candidates:
        how = match_principal(candidate.matcher.principal, caller)
        if how is PrincipalMatch.NONE:
            continue
        if candidate.applies(request.action_key, request.resource, request.context):
            found.append(candidate.matcher.ref)
            best = max(best, how)
    return tuple(found), best


def _identity_grant(
    identity: tuple[StatementRef, ...], boundary: tuple[StatementRef, ...] | None
) -> Result:
    if not identity:
        return _missing(PolicyLayer.IDENTITY)
    if boundary is not None and not boundary:
        return _missing(PolicyLayer.BOUNDARY)
    return Result(Decision.ALLOWED, identity + (boundary or ()))


def _with(result: Result, granted: tuple[StatementRef, ...]) -> Result:
    if not result.allowed:
        return result
    return Result(Decision.ALLOWED, result.statements + granted)


@cache
def _missing(layer: PolicyLayer, level: int | None = None) -> Result:
    """Implicit denies carry no statements, so one immutable Result per layer serves all."""
    return Result(Decision.IMPLICITLY_DENIED, missing=MissingAllow(layer, level))


def _cross_account(request: Request, caller: Caller) -> bool:
    resource_account = request.resource_account or _arn_account(request.resource)
    return bool(caller.account and resource_account and caller.account != resource_account)


def _arn_account(arn: str) -> str | None:
    fields = arn.split(":", 5)
    return fields[4] or None if len(fields) == 6 else None
