"""What a proposal asks of the repository, what was found there, and what was changed.

A proposal's change plan (`alpha.generate.plan`) says, for the live account: delete these
inline policies, detach these managed policies, end these group memberships, and attach the
new policy (inline, or as a customer-managed policy when too large). In the repository the
same plan reads: the new policy is written where one of the inline policies it replaces is
defined (renamed to the plan's name), or added to the principal's definition; every other
replaced inline policy and every detached attachment is removed. Group memberships and
policies the repository does not define are reported, never guessed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from alpha.iac.errors import IacError

__all__ = [
    "Action",
    "Add",
    "Detach",
    "FileEdit",
    "Placement",
    "PolicyChange",
    "PrincipalKind",
    "Remove",
    "Rewrite",
    "Site",
    "SiteKind",
    "Unplaced",
    "conventional_order",
    "policy_change",
]

JsonDict = dict[str, Any]


class PrincipalKind(StrEnum):
    ROLE = "role"
    USER = "user"


class SiteKind(StrEnum):
    INLINE = "inline"
    """Defines an inline policy of the principal (its document is in the repository)."""
    ATTACHMENT = "attachment"
    """Attaches a managed policy to the principal."""
    PRINCIPAL = "principal"
    """Defines the principal itself: where a new inline policy can be added."""


@dataclass(frozen=True, slots=True)
class Detach:
    name: str
    arn: str | None


@dataclass(frozen=True, slots=True)
class PolicyChange:
    """A stored proposal as the repository sees it."""

    proposal_id: str
    principal: str
    kind: PrincipalKind
    name: str
    policy_name: str
    attach_inline: bool
    document: JsonDict
    delete_inline: tuple[str, ...] = ()
    detach: tuple[Detach, ...] = ()
    elsewhere: tuple[str, ...] = ()
    """Plan steps no repository edit stands for (group memberships, policies left in place)."""


def policy_change(
    proposal_id: str, principal: str, document: Mapping[str, Any], plan: Mapping[str, Any]
) -> PolicyChange:
    """The change a stored proposal (its id, principal, document and plan) asks for."""
    kind, name = _principal(principal)
    steps = [s for s in plan.get("steps") or [] if isinstance(s, dict)]
    attach = next((s for s in steps if s.get("action") == "attach"), None)
    if attach is None:
        raise IacError(f"proposal {proposal_id[:12]}: its plan attaches no policy")
    return PolicyChange(
        proposal_id=proposal_id,
        principal=principal,
        kind=kind,
        name=name,
        policy_name=str(attach.get("name")),
        attach_inline=attach.get("kind") == "inline",
        document=conventional_order(document["proposed_policy"]),
        delete_inline=tuple(
            str(s["name"]) for s in steps if s.get("action") == "delete" and "name" in s
        ),
        detach=tuple(
            Detach(str(s["name"]), s.get("arn"))
            for s in steps
            if s.get("action") == "detach" and "name" in s
        ),
        elsewhere=tuple(
            f"{s.get('action')} {s.get('kind')} {s.get('name')}: {s.get('note', '')}".rstrip(": ")
            for s in steps
            if s.get("action") in ("remove_from_group", "keep")
        ),
    )


_TOP = ("Version", "Id", "Statement")
_STATEMENT = (
    "Sid",
    "Effect",
    "Principal",
    "NotPrincipal",
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
    "Condition",
)


def conventional_order(policy: Mapping[str, Any]) -> JsonDict:
    """The policy with its keys in the order people write them (Version before Statement,
    Sid, Effect, Action, Resource, Condition): the store keeps them sorted, a template
    reads better this way, and the order means nothing to IAM."""

    def ordered(value: Mapping[str, Any], keys: tuple[str, ...]) -> JsonDict:
        known = [k for k in keys if k in value]
        return {k: value[k] for k in [*known, *(k for k in value if k not in keys)]}

    out = ordered(policy, _TOP)
    statements = out.get("Statement")
    if isinstance(statements, list):
        out["Statement"] = [
            ordered(s, _STATEMENT) if isinstance(s, Mapping) else s for s in statements
        ]
    elif isinstance(statements, Mapping):
        out["Statement"] = ordered(statements, _STATEMENT)
    return out


def _principal(arn: str) -> tuple[PrincipalKind, str]:
    resource = arn.split(":", 5)[5] if arn.count(":") >= 5 else ""
    kind, _, path = resource.partition("/")
    if kind not in ("role", "user") or not path:
        raise IacError(f"{arn}: only roles and users are written in a repository")
    return PrincipalKind(kind), path.rpartition("/")[2]


@dataclass(frozen=True, slots=True)
class Site:
    """A place in one file that defines part of the principal's policies.

    `locator` is the format's own address of it (a path in a template, spans in a .tf file);
    `shared` says the definition applies to other principals too, so it may be detached from
    this one but never rewritten; `problem` says why its document cannot be rewritten here."""

    path: str
    kind: SiteKind
    name: str
    where: str
    locator: Any = field(compare=False)
    arn: str | None = None
    shared: bool = False
    problem: str | None = None

    def describe(self) -> str:
        return f"{self.path}: {self.where}"


@dataclass(frozen=True, slots=True)
class Rewrite:
    """Write `document` at the site (an inline policy), named `name`."""

    site: Site
    name: str
    document: JsonDict


@dataclass(frozen=True, slots=True)
class Remove:
    """Take the site away from the principal: delete an inline policy, end an attachment."""

    site: Site


@dataclass(frozen=True, slots=True)
class Add:
    """Add an inline policy `name` with `document` to the principal defined at the site."""

    site: Site
    name: str
    document: JsonDict


Action = Rewrite | Remove | Add


@dataclass(frozen=True, slots=True)
class FileEdit:
    """One file's text before and after (`before` empty for a new file)."""

    path: str
    before: str
    after: str


@dataclass(frozen=True, slots=True)
class Unplaced:
    """A part of the change the repository could not take, and why."""

    what: str
    reason: str

    def describe(self) -> str:
        return f"{self.what}: {self.reason}"


@dataclass(frozen=True, slots=True)
class Placement:
    """What was written where, and what could not be placed."""

    change: PolicyChange
    edits: tuple[FileEdit, ...]
    placed: tuple[str, ...]
    unplaced: tuple[Unplaced, ...]

    @property
    def complete(self) -> bool:
        return not self.unplaced
