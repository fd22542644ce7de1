"""Organization policies as they apply to one account: SCPs and RCPs, one level per target.

AWS Organizations evaluates authorization policies level by level, from the root through each
OU down to the account: every level must allow (an Allow at the root does not help an OU with
no Allow), and within one level any attached policy may allow. A level is kept with the
policies attached there, so a decision can be explained as "denied by SCP <name> at OU <name>"
rather than by an index.

RCPs (resource control policies) apply the same way, to requests for resources in the account.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from alpha.policy.model import Policy, Statement

__all__ = [
    "LevelKind",
    "OrgGuardrails",
    "OrgPolicy",
    "PolicyLevel",
    "StatementOrigin",
]


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

    @property
    def empty(self) -> bool:
        return not self.scps and not self.rcps

    def scp_documents(self) -> tuple[Policy, ...]:
        """One document per level, as `PolicySet.scps` takes them."""
        return tuple(level.merged() for level in self.scps)

    def rcp_documents(self) -> tuple[Policy, ...]:
        return tuple(level.merged() for level in self.rcps)
