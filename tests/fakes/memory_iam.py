"""`MemoryIam`: the `IamChanger` port over principal states held in memory.

Principals are kept in the port's own `PrincipalState` shape (see `alpha.rollout.iam_ports`),
managed policies as their default document with a count of what uses them (attachments and
boundaries, as IAM counts them). It answers as `WorkingCopyIam` does (tests/contracts/
test_iam_changer.py runs both through the same cases): a principal is found by its ARN or, as
CloudTrail may write it, by its ARN without the path; every change is idempotent; every dict
goes in and out as a copy.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable
from typing import Any
from urllib.parse import unquote

from alpha.rollout.errors import IamChangeError
from alpha.rollout.iam_ports import JsonDict, next_version_id, oldest_to_delete

_KINDS = (("RoleDetailList", "role"), ("UserDetailList", "user"))
_INLINE = {"role": "RolePolicyList", "user": "UserPolicyList"}


class MemoryIam:
    """Roles, users and managed policies; `accounts` are those whose principals and
    policies it holds (an ARN of another account is an error, as no working copy holds it)."""

    def __init__(self, accounts: Iterable[str]) -> None:
        self.accounts = frozenset(accounts)
        self._principals: dict[str, JsonDict] = {}  # ARN -> state
        self._policies: dict[str, JsonDict] = {}  # ARN -> default document
        self._uses: dict[str, int] = {}  # policy ARN -> attachments + boundary uses
        self._versions: dict[str, dict[str, JsonDict]] = {}  # policy ARN -> id -> document
        self._defaults: dict[str, str] = {}  # policy ARN -> default version id
        self._tags: dict[str, dict[str, str]] = {}  # principal ARN -> tags

    @classmethod
    def from_account(cls, document: JsonDict) -> MemoryIam:
        """The roles, users and policies of a `get-account-authorization-details` document
        (one object; documents decoded or URL-encoded, as the AWS CLI or the API writes them)."""
        lists = ("RoleDetailList", "UserDetailList", "GroupDetailList", "Policies")
        iam = cls(_account_of(e["Arn"]) for key in lists for e in document.get(key) or [])
        for key, kind in _KINDS:
            for entry in document.get(key) or []:
                iam._principals[entry["Arn"]] = _state_of(entry, kind)
                iam._tags[entry["Arn"]] = {t["Key"]: t["Value"] for t in entry.get("Tags") or []}
        for policy in document.get("Policies") or []:
            iam._policies[policy["Arn"]] = _default_document(policy)
            iam._versions[policy["Arn"]] = {
                v["VersionId"]: _decoded(v["Document"]) for v in policy["PolicyVersionList"]
            }
            iam._defaults[policy["Arn"]] = _default_id(policy)
            iam._uses[policy["Arn"]] = policy.get("AttachmentCount", 0) + policy.get(
                "PermissionsBoundaryUsageCount", 0
            )
        return iam

    # Reads ---------------------------------------------------------------------------------
    def principal_state(self, principal: str) -> JsonDict:
        return copy.deepcopy(self._state(principal))

    def managed_policy(self, policy_arn: str) -> JsonDict | None:
        self._require_account(policy_arn)
        return copy.deepcopy(self._policies.get(policy_arn))

    def managed_policy_version(self, policy_arn: str) -> str | None:
        self._require_account(policy_arn)
        return self._defaults.get(policy_arn)

    def principal_tags(self, principal: str) -> dict[str, str]:
        state = self._state(principal)
        return dict(self._tags.get(state["principal"], {}))

    # Changes -------------------------------------------------------------------------------
    def put_inline_policy(self, principal: str, name: str, document: JsonDict) -> None:
        self._state(principal)["inline"][name] = copy.deepcopy(document)

    def delete_inline_policy(self, principal: str, name: str) -> None:
        self._state(principal)["inline"].pop(name, None)

    def attach_managed_policy(self, principal: str, policy_arn: str) -> None:
        self._edit_list(principal, "attached", policy_arn, add=True)

    def detach_managed_policy(self, principal: str, policy_arn: str) -> None:
        self._edit_list(principal, "attached", policy_arn, add=False)

    def put_permissions_boundary(self, principal: str, policy_arn: str) -> None:
        self._set_boundary(principal, policy_arn)

    def delete_permissions_boundary(self, principal: str) -> None:
        self._set_boundary(principal, None)

    def add_to_group(self, principal: str, group: str) -> None:
        self._require_user(principal)
        self._edit_list(principal, "groups", group, add=True)

    def remove_from_group(self, principal: str, group: str) -> None:
        self._require_user(principal)
        self._edit_list(principal, "groups", group, add=False)

    def create_managed_policy(self, policy_arn: str, document: JsonDict) -> None:
        self._require_account(policy_arn)
        existing = self._policies.get(policy_arn)
        if existing is not None and existing != document:
            raise IamChangeError(f"{policy_arn} exists with another document")
        self._policies[policy_arn] = copy.deepcopy(document)
        self._uses.setdefault(policy_arn, 0)
        self._versions.setdefault(policy_arn, {"v1": copy.deepcopy(document)})
        self._defaults.setdefault(policy_arn, "v1")

    def update_managed_policy(self, policy_arn: str, document: JsonDict) -> None:
        self._require_account(policy_arn)
        if policy_arn not in self._policies:
            raise IamChangeError(f"no managed policy {policy_arn}")
        if self._policies[policy_arn] == document:
            return
        versions = self._versions[policy_arn]
        doomed = oldest_to_delete(list(versions), self._defaults[policy_arn])
        if doomed is not None:
            del versions[doomed]
        new_id = next_version_id(list(versions))
        versions[new_id] = copy.deepcopy(document)
        self.set_default_policy_version(policy_arn, new_id)

    def set_default_policy_version(self, policy_arn: str, version_id: str) -> None:
        self._require_account(policy_arn)
        versions = self._versions.get(policy_arn, {})
        if version_id not in versions:
            raise IamChangeError(f"{policy_arn} has no version {version_id}")
        self._defaults[policy_arn] = version_id
        self._policies[policy_arn] = copy.deepcopy(versions[version_id])

    def delete_managed_policy(self, policy_arn: str) -> None:
        self._require_account(policy_arn)
        if self._uses.get(policy_arn, 0):
            raise IamChangeError(f"{policy_arn} is still in use and cannot be deleted")
        for held in (self._policies, self._uses, self._versions, self._defaults):
            held.pop(policy_arn, None)

    # Plumbing ------------------------------------------------------------------------------
    def _state(self, arn: str) -> JsonDict:
        self._require_account(arn)
        found = self._principals.get(arn) or self._by_name(arn)
        if found is None:
            raise IamChangeError(f"no role or user {arn}")
        return found

    def _by_name(self, arn: str) -> JsonDict | None:
        wanted = _kind_and_name(arn)
        return next((s for a, s in self._principals.items() if _kind_and_name(a) == wanted), None)

    def _edit_list(self, principal: str, key: str, value: str, *, add: bool) -> None:
        state = self._state(principal)
        present = value in state[key]
        if present == add:
            return
        state[key] = sorted({*state[key], value} if add else set(state[key]) - {value})
        if key == "attached":
            self._count(value, +1 if add else -1)

    def _set_boundary(self, principal: str, policy_arn: str | None) -> None:
        state = self._state(principal)
        old = state["boundary"]
        if old == policy_arn:
            return
        for arn, delta in ((old, -1), (policy_arn, +1)):
            if arn is not None:
                self._count(arn, delta)
        state["boundary"] = policy_arn

    def _count(self, policy_arn: str, delta: int) -> None:
        if policy_arn in self._uses:
            self._uses[policy_arn] = max(0, self._uses[policy_arn] + delta)

    def _require_user(self, principal: str) -> None:
        if "groups" not in self._state(principal):
            raise IamChangeError(f"{principal} is a role: only users belong to groups")

    def _require_account(self, arn: str) -> None:
        account = _account_of(arn)
        if account not in self.accounts:
            held = ", ".join(sorted(self.accounts))
            raise IamChangeError(f"no account {account} here, only {held}")


def _state_of(entry: JsonDict, kind: str) -> JsonDict:
    boundary = (entry.get("PermissionsBoundary") or {}).get("PermissionsBoundaryArn")
    state: JsonDict = {
        "principal": entry["Arn"],
        "inline": {
            item["PolicyName"]: _decoded(item["PolicyDocument"])
            for item in entry.get(_INLINE[kind]) or []
        },
        "attached": sorted(p["PolicyArn"] for p in entry.get("AttachedManagedPolicies") or []),
        "boundary": boundary or None,
    }
    if kind == "user":
        state["groups"] = sorted(entry.get("GroupList") or [])
    return state


def _default_document(policy: JsonDict) -> JsonDict:
    versions = policy.get("PolicyVersionList") or []
    wanted = policy.get("DefaultVersionId")
    chosen = next(v for v in versions if v.get("VersionId") == wanted or wanted is None)
    found: JsonDict = _decoded(chosen["Document"])
    return found


def _default_id(policy: JsonDict) -> str:
    wanted = policy.get("DefaultVersionId")
    if wanted:
        return str(wanted)
    return str(
        next(v["VersionId"] for v in policy["PolicyVersionList"] if v.get("IsDefaultVersion"))
    )


def _decoded(document: Any) -> Any:
    if not isinstance(document, str):
        return copy.deepcopy(document)
    text = document if document.lstrip().startswith("{") else unquote(document)
    return json.loads(text)


def _account_of(arn: str) -> str:
    parts = arn.split(":")
    if len(parts) < 6 or not parts[4]:
        raise IamChangeError(f"{arn!r} is not an IAM ARN with an account")
    return parts[4]


def _kind_and_name(arn: str) -> tuple[str, str, str]:
    """Account, `role` or `user`, and the name (IAM names ignore case), whatever the path."""
    resource = arn.split(":", 5)[5]
    return _account_of(arn), resource.partition("/")[0], resource.rpartition("/")[2].lower()
