"""The ports the rollout acts and watches through: `IamChanger` (change a principal's IAM
state) and `Monitor` (what the principal's calls did, from CloudTrail).

A principal's IAM state travels as a JSON-ready dict, `PrincipalState`-shaped:
`{"principal": ARN, "inline": {name: document}, "attached": [policy ARN, ...] (sorted),
"boundary": ARN or None, "groups": [name, ...] (users; sorted)}`. Rollback restores exactly
such a dict, so an adapter must return every field, always in this form.

Every change is idempotent: putting the same inline policy twice, detaching what is not
attached, deleting a boundary that is not there are no-ops, not errors.

Customer-managed policies change through versions, as IAM keeps them: `update_managed_policy`
adds a version and makes it the default, keeping at most `MAX_POLICY_VERSIONS` (the oldest
version that is not the default goes first: `oldest_to_delete`); a rollback makes the old
default the default again (`set_default_policy_version`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

__all__ = [
    "MAX_POLICY_VERSIONS",
    "ErrorRate",
    "IamChanger",
    "JsonDict",
    "Monitor",
    "MonitoredCall",
    "next_version_id",
    "oldest_to_delete",
]

# IAM's quota of versions per managed policy.
MAX_POLICY_VERSIONS = 5


JsonDict = dict[str, Any]


class IamChanger(Protocol):
    """Reads and changes the IAM state of principals (roles and users)."""

    def principal_state(self, principal: str) -> JsonDict:
        """The principal's current state (see the module docstring);
        `IamChangeError` for an unknown principal."""
        ...

    def put_inline_policy(self, principal: str, name: str, document: JsonDict) -> None: ...

    def delete_inline_policy(self, principal: str, name: str) -> None: ...

    def attach_managed_policy(self, principal: str, policy_arn: str) -> None: ...

    def detach_managed_policy(self, principal: str, policy_arn: str) -> None: ...

    def put_permissions_boundary(self, principal: str, policy_arn: str) -> None: ...

    def delete_permissions_boundary(self, principal: str) -> None: ...

    def add_to_group(self, principal: str, group: str) -> None:
        """Users only; `IamChangeError` for a role."""
        ...

    def remove_from_group(self, principal: str, group: str) -> None: ...

    def managed_policy(self, policy_arn: str) -> JsonDict | None:
        """The default version's document of a managed policy, None if there is none."""
        ...

    def create_managed_policy(self, policy_arn: str, document: JsonDict) -> None:
        """Create a customer-managed policy at this ARN (account, path and name taken from it);
        a no-op when one with the same document exists there."""
        ...

    def delete_managed_policy(self, policy_arn: str) -> None:
        """Delete a customer-managed policy nothing uses any more; a no-op if it is gone."""
        ...

    def managed_policy_version(self, policy_arn: str) -> str | None:
        """The id of the managed policy's default version (`v3`), None if there is no policy."""
        ...

    def update_managed_policy(self, policy_arn: str, document: JsonDict) -> None:
        """Make `document` the default version of an existing customer-managed policy: a new
        version, with the oldest non-default one deleted first when the policy has
        `MAX_POLICY_VERSIONS`; a no-op when the default version already says this.
        `IamChangeError` when there is no such policy."""
        ...

    def set_default_policy_version(self, policy_arn: str, version_id: str) -> None:
        """Make an existing version the default (a rollback); a no-op when it is already.
        `IamChangeError` when the policy or the version is not there."""
        ...

    def principal_tags(self, principal: str) -> dict[str, str]:
        """The principal's tags (what a rollout's scope may select by)."""
        ...


@dataclass(frozen=True, slots=True)
class ErrorRate:
    """`IAMErrorRate` of one principal over a window: AccessDenied calls per call.

    `covered_until` is the latest event time the logs hold (for any principal): the window is
    fully observed only when it is at or after the window's end."""

    calls: int
    denied: int
    covered_until: datetime | None

    @property
    def rate(self) -> float:
        return self.denied / self.calls if self.calls else 0.0

    def covers(self, until: datetime) -> bool:
        return self.covered_until is not None and self.covered_until >= until


@dataclass(frozen=True, slots=True)
class MonitoredCall:
    """Allowed calls of one action on one resource (`*` when unknown) that the monitor saw, for
    sandbox replay; generation reads its own `alpha.generate.ObservedCall` from the usage store."""

    action: str
    resource: str
    region: str | None
    count: int


class Monitor(Protocol):
    """What a principal's calls did, from the logs delivered so far. A monitor that could not
    read all of a window's logs raises `UnreadableLogsError` rather than answer from part."""

    def error_rate(self, principal: str, since: datetime, until: datetime) -> ErrorRate:
        """Calls and AccessDenied calls of the principal in [since, until)."""
        ...

    def calls(self, principal: str, since: datetime, until: datetime) -> list[MonitoredCall]:
        """The principal's allowed calls in [since, until), for replay."""
        ...

    def covered_until(self) -> datetime | None:
        """The latest event time in the logs so far; None when there are none."""
        ...


def oldest_to_delete(version_ids: list[str], default: str) -> str | None:
    """The version to delete before adding one: None while there is room, else the oldest
    (lowest number) that is not the default."""
    if len(version_ids) < MAX_POLICY_VERSIONS:
        return None
    others = [v for v in version_ids if v != default]
    return min(others, key=_version_number) if others else None


def next_version_id(version_ids: list[str]) -> str:
    """The id IAM gives the next version: one past the highest ever made that is still here."""
    return f"v{max((_version_number(v) for v in version_ids), default=0) + 1}"


def _version_number(version_id: str) -> int:
    digits = version_id.lstrip("vV")
    return int(digits) if digits.isdigit() else 0


def policy_arn_for(principal: str, name: str, path: str = "/alpha/") -> str:
    """The ARN of a customer-managed policy called `name` in the principal's account."""
    parts = principal.split(":")
    partition, account = parts[1], parts[4]
    return f"arn:{partition}:iam::{account}:policy{path}{name}"
