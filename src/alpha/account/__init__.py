"""The IAM state of an account: roles, users, groups, managed policies, and what applies to whom."""

from typing import TYPE_CHECKING

from alpha.lazy_exports import lazy_exports

if TYPE_CHECKING:
    from alpha.account.errors import AccountError, PrincipalNotFoundError
    from alpha.account.model import (
        AccountSnapshot,
        AppliedPolicy,
        AttachedPolicy,
        EffectivePolicies,
        Group,
        InlinePolicy,
        LastUsed,
        ManagedPolicy,
        MissingGroup,
        PolicyOrigin,
        PolicyOriginKind,
        Principal,
        Role,
        Tag,
        Unresolved,
        UnresolvedPolicy,
        User,
        is_aws_managed_arn,
    )
    from alpha.account.ports import AccountState

lazy_exports(
    __name__,
    {
        "alpha.account.errors": ("AccountError", "PrincipalNotFoundError"),
        "alpha.account.model": (
            "AccountSnapshot",
            "AppliedPolicy",
            "AttachedPolicy",
            "EffectivePolicies",
            "Group",
            "InlinePolicy",
            "LastUsed",
            "ManagedPolicy",
            "MissingGroup",
            "PolicyOrigin",
            "PolicyOriginKind",
            "Principal",
            "Role",
            "Tag",
            "Unresolved",
            "UnresolvedPolicy",
            "User",
            "is_aws_managed_arn",
        ),
        "alpha.account.ports": ("AccountState",),
    },
)

__all__ = [
    "AccountError",
    "AccountSnapshot",
    "AccountState",
    "AppliedPolicy",
    "AttachedPolicy",
    "EffectivePolicies",
    "Group",
    "InlinePolicy",
    "LastUsed",
    "ManagedPolicy",
    "MissingGroup",
    "PolicyOrigin",
    "PolicyOriginKind",
    "Principal",
    "PrincipalNotFoundError",
    "Role",
    "Tag",
    "Unresolved",
    "UnresolvedPolicy",
    "User",
    "is_aws_managed_arn",
]
