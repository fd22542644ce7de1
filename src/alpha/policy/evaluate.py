"""The IAM authorization decision for one request against a set of policies.

Follows the IAM User Guide page "Policy evaluation logic" (reference_policies_evaluation-logic):

1. An explicit Deny in any applicable policy (identity, boundary, SCP, RCP, resource policy)
   wins.
2. SCPs: every level (each `scps` document is one level of the organization) must allow.
3. RCPs: likewise every `rcps` level must allow, for requests on resources in the account the
   RCPs protect (`rcp_account`, else the caller's account; a resource whose ARN names no
   account, such as an S3 bucket, counts as in it), and only for the services RCPs support
   (`RCP_SERVICES`).
4. A same-account resource-based policy that names the caller directly (an IAM user or role
   session ARN) allows on its own: implicit denies in identity policies and the permissions
   boundary do not limit it. One that names the caller's role allows too, but the boundary
   must also allow. One that names only the account delegates to IAM policies.
5. Otherwise identity policies must allow, and the permissions boundary (if any) too.
6. Cross-account (caller and resource accounts known and different, resource policy given):
   both the resource policy and the caller's identity policies (and boundary) must allow.
7. KMS: for `kms:` actions with a key policy given as the resource policy, the key policy must
   allow, either the caller itself or the account (which enables IAM policies to grant).

Exemptions (AWS Organizations User Guide, "Service control policies" and "Resource control
policies"): neither SCPs nor RCPs apply to a service-linked role (a caller whose ARN says so,
`is_service_linked`). Neither applies to the management account either; that one the caller
of the evaluator decides, by giving no `scps`/`rcps` for it (`OrgGuardrails.management`).

Simplifications, stated so nobody relies on them: no session policies, VPC endpoint policies or
ACLs; RCPs are not exempted for AWS managed KMS keys (the key's ARN does not say it is one);
`"Principal": "*"` names a role session through its role.
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
    is_service_linked,
    match_principal,
)
from alpha.policy.model import ALWAYS_ALLOWED_ACTION, Effect, Policy

__all__ = [
    "RCP_SERVICES",
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
# AWS Organizations User Guide, "Resource control policies (RCPs)", "List of AWS services that
# support RCPs" (https://docs.aws.amazon.com/organizations/latest/userguide/
# orgs_manage_policies_rcps.html): S3, STS, KMS, SQS and Secrets Manager at launch (Nov 2024),
# then Amazon ECR and OpenSearch Serverless (June 2025). Add later ones here: RCPs do not
# apply to any other service's actions.
RCP_SERVICES = frozenset({"s3", "sts", "kms", "sqs", "secretsmanager", "ecr", "aoss"})
_ORG_LAYERS = (PolicyLayer.SCP, PolicyLayer.RCP)


class Decision(StrEnum):
    ALLOWED = "Allowed"
    IMPLICITLY_DENIED = "ImplicitlyDenied"
    EXPLICITLY_DENIED = "ExplicitlyDenied"


@dataclass(frozen=True, slots=True)
class MissingAllow:
    layer: PolicyLayer
    level: int | None = None  # the SCP or RCP level

    def __str__(self) -> str:
        return {
            PolicyLayer.IDENTITY: "no identity-based policy allows the action",
            PolicyLayer.BOUNDARY: "the permissions boundary does not allow the action",
            PolicyLayer.SCP: f"no statement of SCP level {self.level} allows the action",
            PolicyLayer.RCP: f"no statement of RCP level {self.level} allows the action",
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
    rcps: tuple[Policy, ...] = ()
    # The account whose resources the RCPs protect; None: the caller's own account
    rcp_account: str | None = None


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
    rcps: tuple[tuple[Candidate, ...], ...] = ()


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
        self._rcps = tuple(
            _compile((p,), PolicyLayer.RCP, level) for level, p in enumerate(policy_set.rcps)
        )
        self._org = bool(self._scps or self._rcps)
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
        scp, rcp = self._org_in_force(request, caller) if self._org else (False, False)
        denies = [
            c.matcher.ref
            for c in plan.denies
            if c.applies(action, resource, context)
            and _names_caller(c, caller)
            and _in_force(c.matcher.ref.kind, scp=scp, rcp=rcp)
        ]
        if denies:
            return Result(Decision.EXPLICITLY_DENIED, tuple(denies))
        org_allows: list[StatementRef] = []
        in_force = (
            (PolicyLayer.SCP, plan.scps if scp else ()),
            (PolicyLayer.RCP, plan.rcps if rcp else ()),
        )
        for layer, levels in in_force:
            for level, candidates in enumerate(levels):
                found = _allowing(candidates, action, resource, context)
                if not found:
                    return _missing(layer, level)
                org_allows += found
        result = self._grant(plan, request, caller)
        if result.allowed:
            return Result(Decision.ALLOWED, result.statements + tuple(org_allows))
        return result

    def _org_in_force(self, request: Request, caller: Caller) -> tuple[bool, bool]:
        """Whether the SCPs, and the RCPs, apply to this request (see the module's text)."""
        principal = request.principal
        if is_service_linked(principal):
            return False, False
        if not self._rcps or request.service not in RCP_SERVICES:
            return True, False
        account = request.principal_account or caller.account or _arn_account(principal or "")
        protected = self.policy_set.rcp_account or account
        resource_account = request.resource_account or _arn_account(request.resource)
        return True, not (protected and resource_account and protected != resource_account)

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

        rcps = self._rcps if service in RCP_SERVICES else ()
        layers = [self._identity, *self._scps, *rcps]
        layers += [x for x in (self._boundary, self._resource) if x is not None]
        plan = _Plan(
            denies=view(m for layer in layers for m in layer if m.ref.effect is Effect.DENY),
            identity=allows(self._identity),
            boundary=None if self._boundary is None else allows(self._boundary),
            scps=tuple(allows(level) for level in self._scps),
            resource=None if self._resource is None else allows(self._resource),
            rcps=tuple(allows(level) for level in rcps),
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


def _in_force(kind: PolicyLayer, *, scp: bool, rcp: bool) -> bool:
    if kind is PolicyLayer.SCP:
        return scp
    return rcp if kind is PolicyLayer.RCP else True


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
