"""`IamChanger` over working copies of accounts kept in the store.

A working copy is a `get-account-authorization-details` document (one object, documents
decoded) saved with `Store.save_account_copy`; each change loads it, edits the principal's
entry (`RolePolicyList`/`UserPolicyList`, `AttachedManagedPolicies`, `PermissionsBoundary`,
`GroupList`) or the `Policies` list, and saves it back inside one store transaction, so two
processes never lose each other's change. Attachment counts are kept in step, so the copy
stays a valid file (`export_account_copy`) that `parse_authorization_details` reads back.

Every change is idempotent: when the copy already says what the change would make it say,
nothing is saved (the copy's version does not move).
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import unquote

from alpha.adapters.local.authorization_details import parse_authorization_details
from alpha.rollout.errors import IamChangeError
from alpha.rollout.iam_ports import JsonDict, next_version_id, oldest_to_delete
from alpha.store.ports import Store

__all__ = [
    "WorkingCopyIam",
    "export_account_copy",
    "import_account_copy",
    "normalised_account",
    "state_in_document",
]


_DEFAULT_VERSION = "v1"
_EPOCH = "1970-01-01T00:00:00Z"


def import_account_copy(store: Store, name: str, data: object) -> int:
    """Validate an authorization-details document (one object or a list of pages) and save it
    as the working copy `name`, pages merged and policy documents decoded; returns the version.
    `AccountError` naming `name` when it is not valid."""
    parse_authorization_details(data, name)
    return store.save_account_copy(name, _normalised(data))


def export_account_copy(store: Store, name: str) -> JsonDict:
    """The working copy as an authorization-details document (for a file, or for `alpha`
    commands that read one)."""
    found = store.account_copy(name)
    if found is None:
        raise IamChangeError(f"no working copy of an account called {name!r} in the store")
    return found


class WorkingCopyIam:
    """`IamChanger` over one or more working copies (the same role in several accounts: one
    copy per account); a principal is looked for in the copy of its account."""

    def __init__(self, store: Store, names: Iterable[str] | Callable[[], Iterable[str]]) -> None:
        """`names`, or a function giving them when first needed (finding them may read every
        proposal's principal, and most services built never change IAM)."""
        self._store = store
        self._found: tuple[str, ...] | None = None
        self._source = names

    @property
    def _names(self) -> tuple[str, ...]:
        if self._found is None:
            source = self._source
            self._found = tuple(source() if callable(source) else source)
        return self._found

    # Reads ---------------------------------------------------------------------------------
    def principal_state(self, principal: str) -> JsonDict:
        name, document = self._copy_of(principal)
        return state_in_document(document, principal, name)

    def managed_policy(self, policy_arn: str) -> JsonDict | None:
        _, document = self._copy_of(policy_arn)
        policy = _find_policy(document, policy_arn)
        return None if policy is None else _default_document(policy)

    def managed_policy_version(self, policy_arn: str) -> str | None:
        _, document = self._copy_of(policy_arn)
        policy = _find_policy(document, policy_arn)
        return None if policy is None else _default_id(policy)

    def principal_tags(self, principal: str) -> dict[str, str]:
        name, document = self._copy_of(principal)
        entry, _ = _find_principal(document, principal, name)
        return {str(t["Key"]): str(t["Value"]) for t in entry.get("Tags") or []}

    # Changes -------------------------------------------------------------------------------
    def put_inline_policy(self, principal: str, name: str, document: JsonDict) -> None:
        def change(doc: JsonDict, entry: JsonDict, kind: str) -> None:
            policies = entry.setdefault(_inline(kind), [])
            for item in policies:
                if item["PolicyName"] == name:
                    item["PolicyDocument"] = copy.deepcopy(document)
                    return
            policies.append({"PolicyName": name, "PolicyDocument": copy.deepcopy(document)})

        self._change_principal(principal, change)

    def delete_inline_policy(self, principal: str, name: str) -> None:
        def change(doc: JsonDict, entry: JsonDict, kind: str) -> None:
            key = _inline(kind)
            entry[key] = [p for p in entry.get(key, []) if p["PolicyName"] != name]

        self._change_principal(principal, change)

    def attach_managed_policy(self, principal: str, policy_arn: str) -> None:
        def change(doc: JsonDict, entry: JsonDict, kind: str) -> None:
            attached = entry.setdefault("AttachedManagedPolicies", [])
            if any(p["PolicyArn"] == policy_arn for p in attached):
                return
            attached.append({"PolicyName": policy_arn.rpartition("/")[2], "PolicyArn": policy_arn})
            _count(doc, policy_arn, "AttachmentCount", +1)

        self._change_principal(principal, change)

    def detach_managed_policy(self, principal: str, policy_arn: str) -> None:
        def change(doc: JsonDict, entry: JsonDict, kind: str) -> None:
            attached = entry.get("AttachedManagedPolicies", [])
            kept = [p for p in attached if p["PolicyArn"] != policy_arn]
            if len(kept) != len(attached):
                entry["AttachedManagedPolicies"] = kept
                _count(doc, policy_arn, "AttachmentCount", -1)

        self._change_principal(principal, change)

    def put_permissions_boundary(self, principal: str, policy_arn: str) -> None:
        def change(doc: JsonDict, entry: JsonDict, kind: str) -> None:
            old = _boundary_arn(entry)
            if old == policy_arn:
                return
            if old is not None:
                _count(doc, old, "PermissionsBoundaryUsageCount", -1)
            entry["PermissionsBoundary"] = {
                "PermissionsBoundaryType": "Policy",
                "PermissionsBoundaryArn": policy_arn,
            }
            _count(doc, policy_arn, "PermissionsBoundaryUsageCount", +1)

        self._change_principal(principal, change)

    def delete_permissions_boundary(self, principal: str) -> None:
        def change(doc: JsonDict, entry: JsonDict, kind: str) -> None:
            old = _boundary_arn(entry)
            if old is not None:
                entry.pop("PermissionsBoundary", None)
                _count(doc, old, "PermissionsBoundaryUsageCount", -1)

        self._change_principal(principal, change)

    def add_to_group(self, principal: str, group: str) -> None:
        def change(doc: JsonDict, entry: JsonDict, kind: str) -> None:
            _require_user(kind, principal)
            groups = entry.setdefault("GroupList", [])
            if group not in groups:
                groups.append(group)

        self._change_principal(principal, change)

    def remove_from_group(self, principal: str, group: str) -> None:
        def change(doc: JsonDict, entry: JsonDict, kind: str) -> None:
            _require_user(kind, principal)
            entry["GroupList"] = [g for g in entry.get("GroupList", []) if g != group]

        self._change_principal(principal, change)

    def create_managed_policy(self, policy_arn: str, document: JsonDict) -> None:
        def change(doc: JsonDict) -> None:
            existing = _find_policy(doc, policy_arn)
            if existing is not None:
                if _default_document(existing) != document:
                    raise IamChangeError(f"{policy_arn} exists with another document")
                return
            doc.setdefault("Policies", []).append(_new_policy(policy_arn, document))

        self._change_copy(policy_arn, change)

    def update_managed_policy(self, policy_arn: str, document: JsonDict) -> None:
        def change(doc: JsonDict) -> None:
            policy = _require_policy(doc, policy_arn)
            if _default_document(policy) == document:
                return
            versions = policy.setdefault("PolicyVersionList", [])
            ids = [str(v["VersionId"]) for v in versions]
            doomed = oldest_to_delete(ids, _default_id(policy) or "")
            if doomed is not None:
                versions[:] = [v for v in versions if v["VersionId"] != doomed]
            new_id = next_version_id([str(v["VersionId"]) for v in versions])
            versions.append(
                {
                    "Document": copy.deepcopy(document),
                    "VersionId": new_id,
                    "IsDefaultVersion": False,
                    "CreateDate": _EPOCH,
                }
            )
            _make_default(policy, new_id)

        self._change_copy(policy_arn, change)

    def set_default_policy_version(self, policy_arn: str, version_id: str) -> None:
        def change(doc: JsonDict) -> None:
            policy = _require_policy(doc, policy_arn)
            if not any(v["VersionId"] == version_id for v in policy.get("PolicyVersionList", [])):
                raise IamChangeError(f"{policy_arn} has no version {version_id}")
            if _default_id(policy) != version_id:
                _make_default(policy, version_id)

        self._change_copy(policy_arn, change)

    def delete_managed_policy(self, policy_arn: str) -> None:
        def change(doc: JsonDict) -> None:
            policy = _find_policy(doc, policy_arn)
            if policy is None:
                return
            if policy.get("AttachmentCount", 0) or policy.get("PermissionsBoundaryUsageCount", 0):
                raise IamChangeError(f"{policy_arn} is still in use and cannot be deleted")
            doc["Policies"] = [p for p in doc["Policies"] if p.get("Arn") != policy_arn]

        self._change_copy(policy_arn, change)

    # Plumbing ------------------------------------------------------------------------------
    def _change_principal(
        self, principal: str, change: Callable[[JsonDict, JsonDict, str], None]
    ) -> None:
        def on_copy(doc: JsonDict) -> None:
            entry, kind = _find_principal(doc, principal, self._names_text())
            change(doc, entry, kind)

        self._change_copy(principal, on_copy)

    def _change_copy(self, arn: str, change: Callable[[JsonDict], None]) -> None:
        with self._store.transaction():
            name, document = self._copy_of(arn)
            before = copy.deepcopy(document)
            change(document)
            if document != before:
                self._store.save_account_copy(name, document)

    def _copy_of(self, arn: str) -> tuple[str, JsonDict]:
        account = _account_of(arn)
        for name in self._names:
            document = self._store.account_copy(name)
            if document is None:
                raise IamChangeError(f"no working copy of an account called {name!r} in the store")
            if _holds_account(document, account):
                return name, document
        raise IamChangeError(f"no working copy ({self._names_text()}) holds account {account}")

    def _names_text(self) -> str:
        return ", ".join(self._names)


def state_in_document(document: JsonDict, principal: str, where: str) -> JsonDict:
    """The principal's `principal_state` as an authorization-details document shows it;
    `IamChangeError` naming `where` when it holds no such role or user."""
    entry, kind = _find_principal(document, principal, where)
    state: JsonDict = {
        "principal": entry["Arn"],
        "inline": {
            p["PolicyName"]: _decoded(p["PolicyDocument"]) for p in entry.get(_inline(kind)) or []
        },
        "attached": sorted(p["PolicyArn"] for p in entry.get("AttachedManagedPolicies") or []),
        "boundary": _boundary_arn(entry),
    }
    if kind == "user":
        state["groups"] = sorted(entry.get("GroupList") or [])
    return state


def normalised_account(data: object) -> JsonDict:
    """An authorization-details document (one object or a list of pages) as one object, its
    policy documents decoded: the working copy's form."""
    return _normalised(data)


def _normalised(data: object) -> JsonDict:
    pages = data if isinstance(data, list) else [data]
    merged: JsonDict = {key: [] for key in ("UserDetailList", "GroupDetailList", "RoleDetailList")}
    merged["Policies"] = []
    for page in pages:
        if not isinstance(page, dict):
            continue
        for key in list(merged):
            merged[key].extend(copy.deepcopy(page.get(key) or []))
    merged["IsTruncated"] = False
    for entity in (
        *merged["UserDetailList"],
        *merged["GroupDetailList"],
        *merged["RoleDetailList"],
    ):
        for key in ("RolePolicyList", "UserPolicyList", "GroupPolicyList"):
            for item in entity.get(key) or []:
                item["PolicyDocument"] = _decoded(item["PolicyDocument"])
        if isinstance(entity.get("AssumeRolePolicyDocument"), str):
            entity["AssumeRolePolicyDocument"] = _decoded(entity["AssumeRolePolicyDocument"])
    for policy in merged["Policies"]:
        for version in policy.get("PolicyVersionList") or []:
            version["Document"] = _decoded(version["Document"])
    return merged


def _decoded(document: Any) -> Any:
    if not isinstance(document, str):
        return document
    try:
        return json.loads(document)
    except json.JSONDecodeError:
        return json.loads(unquote(document))


def _account_of(arn: str) -> str:
    parts = arn.split(":")
    if len(parts) < 6 or not parts[4]:
        raise IamChangeError(f"{arn!r} is not an IAM ARN with an account")
    return parts[4]


def _holds_account(document: JsonDict, account: str) -> bool:
    for key in ("RoleDetailList", "UserDetailList", "GroupDetailList", "Policies"):
        for entity in document.get(key) or []:
            arn = entity.get("Arn", "")
            if arn.split(":")[4:5] == [account]:
                return True
    return False


def _find_principal(document: JsonDict, arn: str, where: str) -> tuple[JsonDict, str]:
    name = arn.rpartition("/")[2].lower()
    account = _account_of(arn)
    for key, kind in (("RoleDetailList", "role"), ("UserDetailList", "user")):
        if f":{kind}/" not in arn:
            continue
        for entry in document.get(key) or []:
            same = entry.get("Arn") == arn
            named = entry.get(f"{kind.capitalize()}Name", "").lower() == name
            if same or (named and _account_of(entry["Arn"]) == account):
                return entry, kind
    raise IamChangeError(f"{where}: no role or user {arn}")


def _require_user(kind: str, principal: str) -> None:
    if kind != "user":
        raise IamChangeError(f"{principal} is a role: only users belong to groups")


def _inline(kind: str) -> str:
    return "RolePolicyList" if kind == "role" else "UserPolicyList"


def _boundary_arn(entry: JsonDict) -> str | None:
    boundary = entry.get("PermissionsBoundary") or {}
    arn = boundary.get("PermissionsBoundaryArn")
    return str(arn) if arn else None


def _find_policy(document: JsonDict, arn: str) -> JsonDict | None:
    return next((p for p in document.get("Policies") or [] if p.get("Arn") == arn), None)


def _default_document(policy: JsonDict) -> JsonDict | None:
    wanted = policy.get("DefaultVersionId")
    for version in policy.get("PolicyVersionList") or []:
        if version.get("VersionId") == wanted or (
            wanted is None and version.get("IsDefaultVersion")
        ):
            found: JsonDict = _decoded(version["Document"])
            return found
    return None


def _require_policy(document: JsonDict, arn: str) -> JsonDict:
    policy = _find_policy(document, arn)
    if policy is None:
        raise IamChangeError(f"no managed policy {arn}")
    return policy


def _default_id(policy: JsonDict) -> str | None:
    wanted = policy.get("DefaultVersionId")
    if wanted:
        return str(wanted)
    found = [v for v in policy.get("PolicyVersionList") or [] if v.get("IsDefaultVersion")]
    return str(found[0]["VersionId"]) if found else None


def _make_default(policy: JsonDict, version_id: str) -> None:
    policy["DefaultVersionId"] = version_id
    for version in policy.get("PolicyVersionList") or []:
        version["IsDefaultVersion"] = version["VersionId"] == version_id


def _count(document: JsonDict, policy_arn: str, key: str, delta: int) -> None:
    policy = _find_policy(document, policy_arn)
    if policy is not None:
        policy[key] = max(0, int(policy.get(key, 0)) + delta)


def _new_policy(arn: str, document: JsonDict) -> JsonDict:
    resource = arn.split(":", 5)[5]  # policy/<path>/<name>
    path_and_name = resource.removeprefix("policy")
    path, _, name = path_and_name.rpartition("/")
    return {
        "PolicyName": name,
        "PolicyId": "ANPA" + hashlib.sha256(arn.encode()).hexdigest()[:17].upper(),
        "Arn": arn,
        "Path": f"{path}/",
        "DefaultVersionId": _DEFAULT_VERSION,
        "AttachmentCount": 0,
        "PermissionsBoundaryUsageCount": 0,
        "IsAttachable": True,
        "CreateDate": _EPOCH,
        "UpdateDate": _EPOCH,
        "PolicyVersionList": [
            {
                "Document": copy.deepcopy(document),
                "VersionId": _DEFAULT_VERSION,
                "IsDefaultVersion": True,
                "CreateDate": _EPOCH,
            }
        ],
    }
