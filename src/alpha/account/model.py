"""The IAM state of one account as immutable values: roles, users, groups, managed policies.

Documents are parsed `Policy` values; attachments are kept as references (ARN and name) and
resolved on demand, so a managed policy or group that the snapshot does not hold (AWS-managed
policies are often left out with `--filter`) is reported as unresolved rather than dropped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from alpha.account.errors import PrincipalNotFoundError
from alpha.policy.model import Policy
from alpha.policy.user_files import one_line

__all__ = [
    "AccountSnapshot",
    "AttachedPolicy",
    "EffectivePolicies",
    "Group",
    "InlinePolicy",
    "LastUsed",
    "ManagedPolicy",
    "Principal",
    "Role",
    "Tag",
    "User",
    "is_aws_managed_arn",
]


@dataclass(frozen=True, slots=True)
class InlinePolicy:
    """A policy embedded in one role, user or group; its name is unique within that entity."""

    name: str
    document: Policy


@dataclass(frozen=True, slots=True)
class AttachedPolicy:
    """A reference to a managed policy, as the entity lists it; the document lives in
    `AccountSnapshot.policies` (if the snapshot holds it)."""

    arn: str
    name: str


@dataclass(frozen=True, slots=True)
class Tag:
    key: str
    value: str


@dataclass(frozen=True, slots=True)
class LastUsed:
    """`RoleLastUsed`: when and where the role was last assumed, as IAM tracks it."""

    date: datetime
    region: str | None


@dataclass(frozen=True, slots=True)
class Role:
    arn: str
    name: str
    path: str
    role_id: str
    create_date: datetime | None
    trust_policy: Policy | None
    inline_policies: tuple[InlinePolicy, ...] = ()
    attached_policies: tuple[AttachedPolicy, ...] = ()
    boundary_arn: str | None = None
    tags: tuple[Tag, ...] = ()
    last_used: LastUsed | None = None
    instance_profile_arns: tuple[str, ...] = ()

    def inline_policy(self, name: str) -> InlinePolicy | None:
        return _named(self.inline_policies, name)


@dataclass(frozen=True, slots=True)
class User:
    arn: str
    name: str
    path: str
    user_id: str
    create_date: datetime | None
    inline_policies: tuple[InlinePolicy, ...] = ()
    attached_policies: tuple[AttachedPolicy, ...] = ()
    groups: tuple[str, ...] = ()
    boundary_arn: str | None = None
    tags: tuple[Tag, ...] = ()

    def inline_policy(self, name: str) -> InlinePolicy | None:
        return _named(self.inline_policies, name)


@dataclass(frozen=True, slots=True)
class Group:
    arn: str
    name: str
    path: str
    group_id: str
    create_date: datetime | None
    inline_policies: tuple[InlinePolicy, ...] = ()
    attached_policies: tuple[AttachedPolicy, ...] = ()


Principal = Role | User


@dataclass(frozen=True, slots=True)
class ManagedPolicy:
    """A managed policy with the document of its default version (the one IAM enforces)."""

    arn: str
    name: str
    path: str
    policy_id: str
    default_version_id: str
    document: Policy
    attachment_count: int
    boundary_usage_count: int = 0
    version_ids: tuple[str, ...] = ()

    @property
    def is_aws_managed(self) -> bool:
        """AWS-managed policies (`arn:aws:iam::aws:policy/...`) cannot be edited at all."""
        return is_aws_managed_arn(self.arn)


def is_aws_managed_arn(arn: str) -> bool:
    parts = arn.split(":", 5)
    return len(parts) == 6 and parts[4] == "aws"


class PolicyOriginKind(StrEnum):
    """Where a policy that applies to a principal comes from."""

    INLINE = "inline"
    MANAGED = "managed"
    GROUP_INLINE = "group-inline"
    GROUP_MANAGED = "group-managed"
    BOUNDARY = "boundary"


@dataclass(frozen=True, slots=True)
class PolicyOrigin:
    """Enough to act on a policy later ("detach X", "edit inline policy Y of group Z")."""

    kind: PolicyOriginKind
    name: str
    arn: str | None = None
    group: str | None = None

    def describe(self) -> str:
        what = {
            PolicyOriginKind.INLINE: f"inline policy {self.name!r}",
            PolicyOriginKind.MANAGED: f"managed policy {self.arn}",
            PolicyOriginKind.GROUP_INLINE: f"inline policy {self.name!r} of group {self.group!r}",
            PolicyOriginKind.GROUP_MANAGED: f"managed policy {self.arn} via group {self.group!r}",
            PolicyOriginKind.BOUNDARY: f"permissions boundary {self.arn}",
        }
        return what[self.kind]


@dataclass(frozen=True, slots=True)
class AppliedPolicy:
    origin: PolicyOrigin
    document: Policy


@dataclass(frozen=True, slots=True)
class UnresolvedPolicy:
    """A managed policy the principal attaches (or uses as boundary) that the snapshot lacks."""

    origin: PolicyOrigin

    def describe(self) -> str:
        return f"{self.origin.describe()} is not in the snapshot"


@dataclass(frozen=True, slots=True)
class MissingGroup:
    """A group the user belongs to that the snapshot lacks: its policies are unknown."""

    name: str

    def describe(self) -> str:
        return f"group {self.name!r} is not in the snapshot"


Unresolved = UnresolvedPolicy | MissingGroup


@dataclass(frozen=True, slots=True)
class EffectivePolicies:
    """The identity policies that apply to a principal, plus its permissions boundary.

    `boundary` is None both when there is no boundary and when the boundary could not be read;
    `boundary_arn` and `unresolved` tell the two apart. A caller that proposes replacements
    must check `complete` first: what it could not read, it cannot claim to replace.
    """

    principal_arn: str
    identity: tuple[AppliedPolicy, ...]
    boundary: Policy | None
    boundary_arn: str | None
    unresolved: tuple[Unresolved, ...] = ()

    @property
    def complete(self) -> bool:
        return not self.unresolved

    @property
    def documents(self) -> tuple[Policy, ...]:
        return tuple(applied.document for applied in self.identity)


@dataclass(frozen=True, slots=True)
class AccountSnapshot:
    """Everything IAM holds about one account at one moment, with lookups.

    `source` names where it came from (a file), for messages only.
    """

    account_id: str | None
    roles: tuple[Role, ...] = ()
    users: tuple[User, ...] = ()
    groups: tuple[Group, ...] = ()
    policies: tuple[ManagedPolicy, ...] = ()
    source: str = field(default="<snapshot>", compare=False)
    _index: _Index = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Built once: lookups run per principal and per CloudTrail identity.
        object.__setattr__(self, "_index", _Index.of(self))

    @property
    def principals(self) -> tuple[Principal, ...]:
        return (*self.roles, *self.users)

    def principal(self, arn: str) -> Principal:
        """The role or user with this ARN. Also accepts an ARN without the IAM path and an STS
        assumed-role ARN (`arn:aws:sts::111:assumed-role/Name/session`), as CloudTrail writes
        them; role and user names are unique in an account whatever the path."""
        found = self._index.principals.get(arn) or self._by_name(arn)
        if found is None:
            raise PrincipalNotFoundError(one_line(f"{self.source}: no role or user {arn}"))
        return found

    def group(self, name: str) -> Group | None:
        return self._index.groups.get(name)

    def managed_policy(self, arn: str) -> ManagedPolicy | None:
        return self._index.policies.get(arn)

    def effective_policies(self, arn: str) -> EffectivePolicies:
        """The identity policies that apply to the principal, each labelled with its origin,
        plus its boundary; attachments the snapshot cannot resolve are listed, never dropped."""
        principal = self.principal(arn)
        applied: list[AppliedPolicy] = []
        unresolved: list[Unresolved] = []
        for inline in principal.inline_policies:
            applied.append(
                AppliedPolicy(PolicyOrigin(PolicyOriginKind.INLINE, inline.name), inline.document)
            )
        for ref in principal.attached_policies:
            origin = PolicyOrigin(PolicyOriginKind.MANAGED, ref.name, ref.arn)
            self._resolve(ref.arn, origin, applied, unresolved)
        if isinstance(principal, User):
            for name in principal.groups:
                self._add_group(name, applied, unresolved)
        boundary = None
        if principal.boundary_arn is not None:
            boundary = self._boundary(principal.boundary_arn, unresolved)
        return EffectivePolicies(
            principal.arn, tuple(applied), boundary, principal.boundary_arn, tuple(unresolved)
        )

    def principals_sharing(self, policy_arn: str) -> tuple[str, ...]:
        """ARNs of the roles, users and groups that attach this managed policy or use it as
        their permissions boundary, sorted. Editing it in place would change all of them."""
        return self._index.attachments.get(policy_arn, ())

    def can_edit_in_place(self, policy_arn: str, principal_arn: str) -> bool:
        """True only for a customer-managed policy this principal alone uses, as far as both
        the snapshot and IAM's own counts (which see attachments a filtered snapshot lacks)
        can tell."""
        policy = self.managed_policy(policy_arn)
        if policy is None or policy.is_aws_managed:
            return False
        owner = self.principal(principal_arn).arn
        if self.principals_sharing(policy_arn) != (owner,):
            return False
        return policy.attachment_count + policy.boundary_usage_count <= 1

    @property
    def unresolved_policy_arns(self) -> tuple[str, ...]:
        """Managed policies some entity attaches or uses as boundary, missing from `policies`."""
        return tuple(a for a in self._index.attachments if a not in self._index.policies)

    def _by_name(self, arn: str) -> Principal | None:
        parts = arn.split(":", 5)
        if len(parts) != 6 or (self.account_id is not None and parts[4] != self.account_id):
            return None
        kind, _, rest = parts[5].partition("/")
        if kind == "assumed-role":
            return self._index.roles_by_name.get(rest.partition("/")[0].lower())
        name = rest.rpartition("/")[2].lower()
        if kind == "role":
            return self._index.roles_by_name.get(name)
        if kind == "user":
            return self._index.users_by_name.get(name)
        return None

    def _resolve(
        self,
        arn: str,
        origin: PolicyOrigin,
        applied: list[AppliedPolicy],
        unresolved: list[Unresolved],
    ) -> None:
        policy = self.managed_policy(arn)
        if policy is None:
            unresolved.append(UnresolvedPolicy(origin))
        else:
            applied.append(AppliedPolicy(origin, policy.document))

    def _add_group(
        self, name: str, applied: list[AppliedPolicy], unresolved: list[Unresolved]
    ) -> None:
        group = self.group(name)
        if group is None:
            unresolved.append(MissingGroup(name))
            return
        for inline in group.inline_policies:
            origin = PolicyOrigin(PolicyOriginKind.GROUP_INLINE, inline.name, group=group.name)
            applied.append(AppliedPolicy(origin, inline.document))
        for ref in group.attached_policies:
            origin = PolicyOrigin(PolicyOriginKind.GROUP_MANAGED, ref.name, ref.arn, group.name)
            self._resolve(ref.arn, origin, applied, unresolved)

    def _boundary(self, arn: str, unresolved: list[Unresolved]) -> Policy | None:
        policy = self.managed_policy(arn)
        if policy is None:
            name = arn.rpartition("/")[2]
            unresolved.append(UnresolvedPolicy(PolicyOrigin(PolicyOriginKind.BOUNDARY, name, arn)))
            return None
        return policy.document


@dataclass(frozen=True, slots=True)
class _Index:
    principals: dict[str, Principal]
    roles_by_name: dict[str, Role]
    users_by_name: dict[str, User]
    groups: dict[str, Group]
    policies: dict[str, ManagedPolicy]
    attachments: dict[str, tuple[str, ...]]

    @classmethod
    def of(cls, snapshot: AccountSnapshot) -> _Index:
        return cls(
            principals={p.arn: p for p in snapshot.principals},
            # IAM names are unique in an account regardless of case and path.
            roles_by_name={r.name.lower(): r for r in snapshot.roles},
            users_by_name={u.name.lower(): u for u in snapshot.users},
            groups={g.name: g for g in snapshot.groups},
            policies={p.arn: p for p in snapshot.policies},
            attachments=_attachments(snapshot),
        )


def _attachments(snapshot: AccountSnapshot) -> dict[str, tuple[str, ...]]:
    holders: dict[str, set[str]] = {}
    entities: tuple[Role | User | Group, ...] = (*snapshot.roles, *snapshot.users, *snapshot.groups)
    for entity in entities:
        for ref in entity.attached_policies:
            holders.setdefault(ref.arn, set()).add(entity.arn)
        if not isinstance(entity, Group) and entity.boundary_arn is not None:
            holders.setdefault(entity.boundary_arn, set()).add(entity.arn)
    return {arn: tuple(sorted(found)) for arn, found in holders.items()}


def _named(policies: tuple[InlinePolicy, ...], name: str) -> InlinePolicy | None:
    return next((p for p in policies if p.name == name), None)
