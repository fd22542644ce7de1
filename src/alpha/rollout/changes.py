"""IAM changes as data: each says what it does, whether it is already in effect, and how to
apply it. The engine journals a change's `key` before applying it and applies it only when it
is not in effect yet, so a change interrupted by a crash and replayed by `resume` reaches IAM
exactly once.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from alpha.rollout.iam_ports import IamChanger, JsonDict

__all__ = ["POLICY_OPS", "Change", "Op", "restore_changes", "restore_versions"]


class Op(StrEnum):
    PUT_INLINE = "put_inline"
    DELETE_INLINE = "delete_inline"
    ATTACH = "attach"
    DETACH = "detach"
    PUT_BOUNDARY = "put_boundary"
    DELETE_BOUNDARY = "delete_boundary"
    ADD_TO_GROUP = "add_to_group"
    REMOVE_FROM_GROUP = "remove_from_group"
    CREATE_POLICY = "create_policy"
    DELETE_POLICY = "delete_policy"
    UPDATE_POLICY = "update_policy"
    SET_DEFAULT_VERSION = "set_default_version"


# Ops whose target is a managed policy, not a principal.
POLICY_OPS = frozenset(
    {Op.CREATE_POLICY, Op.DELETE_POLICY, Op.UPDATE_POLICY, Op.SET_DEFAULT_VERSION}
)


@dataclass(frozen=True, slots=True)
class Change:
    """`target` is the principal (or, for the `POLICY_OPS`, the policy ARN); `name` the
    inline policy name, managed policy ARN, group or (SET_DEFAULT_VERSION) version id the op
    acts on."""

    op: Op
    target: str
    name: str = ""
    document: JsonDict | None = None

    @property
    def key(self) -> str:
        return f"{self.op.value}:{self.target}:{self.name}"

    def describe(self) -> str:
        return f"{self.op.value} {self.name or ''} on {self.target}".replace("  ", " ")

    def in_effect(self, iam: IamChanger) -> bool:
        if self.op is Op.CREATE_POLICY:
            return iam.managed_policy(self.target) == self.document
        if self.op is Op.DELETE_POLICY:
            return iam.managed_policy(self.target) is None
        if self.op is Op.UPDATE_POLICY:
            return iam.managed_policy(self.target) == self.document
        if self.op is Op.SET_DEFAULT_VERSION:
            return iam.managed_policy_version(self.target) == self.name
        state = iam.principal_state(self.target)
        inline, attached = state["inline"], state["attached"]
        groups = state.get("groups", [])
        found: bool
        if self.op is Op.PUT_INLINE:
            found = inline.get(self.name) == self.document
        elif self.op is Op.DELETE_INLINE:
            found = self.name not in inline
        elif self.op is Op.ATTACH:
            found = self.name in attached
        elif self.op is Op.DETACH:
            found = self.name not in attached
        elif self.op is Op.PUT_BOUNDARY:
            found = state["boundary"] == self.name
        elif self.op is Op.DELETE_BOUNDARY:
            found = state["boundary"] is None
        elif self.op is Op.ADD_TO_GROUP:
            found = self.name in groups
        else:
            found = self.name not in groups
        return found

    def apply(self, iam: IamChanger) -> None:
        op, target, name = self.op, self.target, self.name
        if op is Op.PUT_INLINE:
            iam.put_inline_policy(target, name, self._document())
        elif op is Op.DELETE_INLINE:
            iam.delete_inline_policy(target, name)
        elif op is Op.ATTACH:
            iam.attach_managed_policy(target, name)
        elif op is Op.DETACH:
            iam.detach_managed_policy(target, name)
        elif op is Op.PUT_BOUNDARY:
            iam.put_permissions_boundary(target, name)
        elif op is Op.DELETE_BOUNDARY:
            iam.delete_permissions_boundary(target)
        elif op is Op.ADD_TO_GROUP:
            iam.add_to_group(target, name)
        elif op is Op.REMOVE_FROM_GROUP:
            iam.remove_from_group(target, name)
        elif op is Op.CREATE_POLICY:
            iam.create_managed_policy(target, self._document())
        elif op is Op.UPDATE_POLICY:
            iam.update_managed_policy(target, self._document())
        elif op is Op.SET_DEFAULT_VERSION:
            iam.set_default_policy_version(target, name)
        else:
            iam.delete_managed_policy(target)

    def _document(self) -> JsonDict:
        if self.document is None:
            raise AssertionError(f"{self.op} needs a document")  # built only with one
        return self.document


def restore_changes(principal: str, previous: JsonDict, current: JsonDict) -> list[Change]:
    """The changes that bring `current` back to exactly `previous` (both `principal_state`
    dicts): first everything that grants again, then the boundary, then removals."""
    changes: list[Change] = []
    for arn in previous["attached"]:
        if arn not in current["attached"]:
            changes.append(Change(Op.ATTACH, principal, arn))
    for name, document in previous["inline"].items():
        if current["inline"].get(name) != document:
            changes.append(Change(Op.PUT_INLINE, principal, name, document))
    for group in previous.get("groups", []):
        if group not in current.get("groups", []):
            changes.append(Change(Op.ADD_TO_GROUP, principal, group))
    if previous["boundary"] != current["boundary"]:
        if previous["boundary"] is None:
            changes.append(Change(Op.DELETE_BOUNDARY, principal))
        else:
            changes.append(Change(Op.PUT_BOUNDARY, principal, previous["boundary"]))
    for name in current["inline"]:
        if name not in previous["inline"]:
            changes.append(Change(Op.DELETE_INLINE, principal, name))
    for arn in current["attached"]:
        if arn not in previous["attached"]:
            changes.append(Change(Op.DETACH, principal, arn))
    for group in current.get("groups", []):
        if group not in previous.get("groups", []):
            changes.append(Change(Op.REMOVE_FROM_GROUP, principal, group))
    return changes


def restore_versions(previous: dict[str, str], iam: IamChanger) -> list[Change]:
    """The changes that make each managed policy's default version what it was (`previous`:
    policy ARN -> version id) again; a policy deleted since is left alone."""
    changes: list[Change] = []
    for arn, version in sorted(previous.items()):
        now = iam.managed_policy_version(arn)
        if now is not None and now != version:
            changes.append(Change(Op.SET_DEFAULT_VERSION, arn, version))
    return changes
