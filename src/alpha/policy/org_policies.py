"""Organization policies as they apply to one account: SCPs and RCPs, one level per target.

AWS Organizations evaluates authorization policies level by level, from the root through each
OU down to the account: every level must allow (an Allow at the root does not help an OU with
no Allow), and within one level any attached policy may allow. A level is kept with the
policies attached there, so a decision can be explained as "denied by SCP <name> at OU <name>"
rather than by an index.

RCPs (resource control policies) apply the same way, to requests for resources in the account.

Neither applies to the organization's management account (`management`), nor to service-linked
roles (AWS Organizations User Guide, "SCP effects on permissions" and "RCPs don't affect
resources in the management account"): `in_force_for` drops them for such a principal.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from alpha.policy.evaluate import Decision, PolicySet, Result
from alpha.policy.matchers import PolicyLayer, StatementRef, caller_of, is_service_linked
from alpha.policy.model import Policy, Statement

__all__ = [
    "LevelKind",
    "OrgGuardrails",
    "OrgPolicy",
    "PolicyLevel",
    "StatementOrigin",
    "principal_context",
]


_KINDS = {PolicyLayer.SCP: "SCP", PolicyLayer.RCP: "RCP"}


def principal_context(principal: str) -> dict[str, tuple[str, ...]]:
    """`aws:PrincipalArn` as AWS sets it on every request (a session gives its role's ARN):
    SCPs often exempt roles by it, and a replayed call must carry it to be judged alike."""
    caller = caller_of(principal)
    if caller.kind == "session" and caller.account and caller.role_name:
        return {"aws:PrincipalArn": (f"arn:aws:iam::{caller.account}:role/{caller.role_name}",)}
    return {"aws:PrincipalArn": (principal,)}


class LevelKind(StrEnum):
    ROOT = "root"
    OU = "ou"
    ACCOUNT = "account"


@dataclass(frozen=True, slots=True)
class OrgPolicy:
    """One SCP or RCP: its id (`p-...`), name and document."""

    id: str
    name: str
    document: Policy


@dataclass(frozen=True, slots=True)
class StatementOrigin:
    """Where one statement of a merged level comes from, for reasons."""

    policy: OrgPolicy
    level: PolicyLevel
    statement: int  # index within `policy.document.statements`

    def describe(self, kind: str) -> str:
        return f"{kind} {self.policy.name!r} ({self.policy.id}) at {self.level.describe()}"


@dataclass(frozen=True, slots=True)
class PolicyLevel:
    """The policies attached at one target: the root, an OU, or the account itself."""

    kind: LevelKind
    target_id: str
    target_name: str
    policies: tuple[OrgPolicy, ...]

    def describe(self) -> str:
        label = {LevelKind.ROOT: "the root", LevelKind.OU: "OU", LevelKind.ACCOUNT: "account"}
        if self.kind is LevelKind.ROOT:
            return f"the root ({self.target_id})"
        return f"{label[self.kind]} {self.target_name!r} ({self.target_id})"

    def merged(self) -> Policy:
        """The level as one document: the evaluator asks each level for one Allow."""
        statements: list[Statement] = []
        for policy in self.policies:
            statements.extend(policy.document.statements)
        return Policy(tuple(statements))

    def origin(self, statement: int) -> StatementOrigin:
        """The policy behind statement `statement` of `merged()`."""
        for policy in self.policies:
            count = len(policy.document.statements)
            if statement < count:
                return StatementOrigin(policy, self, statement)
            statement -= count
        raise IndexError(f"{self.describe()} has no statement {statement}")


@dataclass(frozen=True, slots=True)
class OrgGuardrails:
    """The SCP and RCP levels over one account, root first. Empty tuples when the account
    is not in an organization or the policy type is not enabled (then nothing limits)."""

    scps: tuple[PolicyLevel, ...] = ()
    rcps: tuple[PolicyLevel, ...] = ()
    # The account is the organization's management account: no SCP or RCP applies in it
    management: bool = False

    @property
    def empty(self) -> bool:
        return not self.scps and not self.rcps

    def in_force_for(self, principal: str | None) -> OrgGuardrails:
        """The levels that limit `principal` (an ARN of the account): none for the management
        account or a service-linked role."""
        if self.empty or not (self.management or is_service_linked(principal)):
            return self
        return OrgGuardrails(management=self.management)

    def policy_set(
        self,
        identity: tuple[Policy, ...],
        boundary: Policy | None = None,
        *,
        principal: str | None = None,
    ) -> PolicySet:
        """The policies of a request by `principal`, these levels included when they apply."""
        levels = self.in_force_for(principal)
        return PolicySet(
            identity=identity,
            boundary=boundary,
            scps=levels.scp_documents(),
            rcps=levels.rcp_documents(),
        )

    def reasons(
        self, result: Result, action: str, known: Mapping[str, object] | None = None
    ) -> tuple[str, ...]:
        """What the organization's policies did in `result` (evaluated with `policy_set`),
        by name and level: empty when they did not decide it. With `known` (the context keys
        the request really carried, as from logs), a Deny whose conditions read a key not
        among them is not claimed: it decided on a value the logs do not give."""
        if result.decision is Decision.EXPLICITLY_DENIED:
            keys = None if known is None else {k.lower() for k in known}
            return tuple(
                f"denied by {self._origin(ref)}"
                for ref in result.statements
                if ref.kind in _KINDS and (keys is None or self._reads_only(ref, keys))
            )
        missing = result.missing
        if missing is None or missing.layer not in _KINDS or missing.level is None:
            return ()
        level = self._levels(missing.layer)[missing.level]
        return (f"no {_KINDS[missing.layer]} at {level.describe()} allows {action}",)

    def _reads_only(self, ref: StatementRef, keys: set[str]) -> bool:
        origin = self._levels(ref.kind)[ref.policy].origin(ref.statement)
        statement = origin.policy.document.statements[origin.statement]
        return all(c.key.lower() in keys for c in statement.conditions)

    def _levels(self, layer: PolicyLayer) -> tuple[PolicyLevel, ...]:
        return self.scps if layer is PolicyLayer.SCP else self.rcps

    def _origin(self, ref: StatementRef) -> str:
        level = self._levels(ref.kind)[ref.policy]
        return level.origin(ref.statement).describe(_KINDS[ref.kind])

    def scp_documents(self) -> tuple[Policy, ...]:
        """One document per level, as `PolicySet.scps` takes them."""
        return tuple(level.merged() for level in self.scps)

    def rcp_documents(self) -> tuple[Policy, ...]:
        return tuple(level.merged() for level in self.rcps)
