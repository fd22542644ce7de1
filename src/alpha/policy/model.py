"""IAM policy documents as immutable values.

Where IAM allows one of two forms (Action or NotAction, Resource or NotResource, Principal or
NotPrincipal) the model has two sibling types rather than a flag, so code that handles one
form cannot silently ignore the other.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

__all__ = [
    "ALWAYS_ALLOWED_ACTION",
    "CURRENT_VERSION",
    "LEGACY_VERSION",
    "ActionList",
    "Condition",
    "Effect",
    "NotActionList",
    "NotResourceList",
    "Policy",
    "ResourceList",
    "Statement",
]


CURRENT_VERSION = "2012-10-17"
ALWAYS_ALLOWED_ACTION = "sts:GetCallerIdentity"
"""STS API reference, GetCallerIdentity: "No permissions are required to perform this
operation"; even an explicit Deny does not stop it. Allowed whatever the policies say."""
LEGACY_VERSION = "2008-10-17"


class Effect(StrEnum):
    ALLOW = "Allow"
    DENY = "Deny"


@dataclass(frozen=True, slots=True)
class ActionList:
    """`Action`: the statement applies to these action patterns."""

    patterns: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class NotActionList:
    """`NotAction`: the statement applies to every action except these."""

    patterns: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ResourceList:
    patterns: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class NotResourceList:
    patterns: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class PrincipalMap:
    """`Principal`: `*` is stored as (("*", ("*",)),); otherwise type -> identifiers."""

    entries: tuple[tuple[str, tuple[str, ...]], ...]


@dataclass(frozen=True, slots=True)
class NotPrincipalMap:
    entries: tuple[tuple[str, tuple[str, ...]], ...]


@dataclass(frozen=True, slots=True)
class Condition:
    """One key test inside a `Condition` block.

    `operator` is as written (`ForAnyValue:StringLikeIfExists`); values are strings, since IAM
    compares the string forms of numbers and booleans as well.
    """

    operator: str
    key: str
    values: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Statement:
    effect: Effect
    action: ActionList | NotActionList
    resource: ResourceList | NotResourceList | None = None
    conditions: tuple[Condition, ...] = ()
    principal: PrincipalMap | NotPrincipalMap | None = None
    sid: str | None = None


@dataclass(frozen=True, slots=True)
class Policy:
    statements: tuple[Statement, ...]
    version: str | None = CURRENT_VERSION
    id: str | None = None

    @property
    def supports_variables(self) -> bool:
        """Policy variables are substituted only under version 2012-10-17; before it, and when
        Version is missing, `${...}` is literal text."""
        return self.version == CURRENT_VERSION
