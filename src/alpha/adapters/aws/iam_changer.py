"""`IamChanger` over the IAM API (boto3), for rollouts of proposals made from a live account.

Every change is idempotent, as the port promises: a change IAM already shows is not made again
(IAM's own `NoSuchEntity` on deleting what is gone counts as done), and a principal that does
not exist is an `IamChangeError` before anything is called. Customer-managed policies change
through versions: a new default version, at most five kept (the oldest non-default one is
deleted first); a rollback sets the old default back.

Service-linked roles (path `/aws-service-role/`) are never changed, whatever the caller asks:
AWS owns them. Which other principals a rollout may touch is the core's decision
(`alpha.rollout.scope`), checked before any change reaches this adapter.

Throttling is retried by the client's retry config (`alpha.adapters.aws.clients`), never here.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from alpha.rollout.errors import IamChangeError
from alpha.rollout.iam_ports import JsonDict, oldest_to_delete

__all__ = ["LiveIam", "ServiceLinkedRoleError"]

log = logging.getLogger(__name__)
SERVICE_LINKED_PATH = "/aws-service-role/"


class ServiceLinkedRoleError(IamChangeError):
    """A change to a service-linked role was asked for: AWS owns those roles."""


class LiveIam:
    """The principals and customer-managed policies of one account (`account_id`), through
    an IAM client (its endpoint and credentials the caller's)."""

    def __init__(
        self, client: Any, account_id: str, identity: Callable[[], str] | None = None
    ) -> None:
        self._iam = client
        self._account = account_id
        # Asked once, before the first call: credentials of another account holding a role of
        # the same name must never be acted on.
        self._identity = identity

    # Reads ---------------------------------------------------------------------------------
    def principal_state(self, principal: str) -> JsonDict:
        kind, name = self._principal(principal)
        entity = self._entity(kind, name, principal)
        state: JsonDict = {
            "principal": entity["Arn"],
            "inline": self._inline(kind, name),
            "attached": sorted(self._attached(kind, name)),
            "boundary": (entity.get("PermissionsBoundary") or {}).get("PermissionsBoundaryArn"),
        }
        if kind == "user":
            groups = self._pages("list_groups_for_user", "Groups", UserName=name)
            state["groups"] = sorted(g["GroupName"] for g in groups)
        return state

    def principal_tags(self, principal: str) -> dict[str, str]:
        kind, name = self._principal(principal)
        self._entity(kind, name, principal)
        operation = "list_role_tags" if kind == "role" else "list_user_tags"
        tags = self._pages(operation, "Tags", **{_name_key(kind): name})
        return {str(t["Key"]): str(t["Value"]) for t in tags}

    def managed_policy(self, policy_arn: str) -> JsonDict | None:
        policy = self._policy(policy_arn)
        if policy is None:
            return None
        return self._version_document(policy_arn, policy["DefaultVersionId"])

    def managed_policy_version(self, policy_arn: str) -> str | None:
        policy = self._policy(policy_arn)
        return None if policy is None else str(policy["DefaultVersionId"])

    # Principal changes ---------------------------------------------------------------------
    def put_inline_policy(self, principal: str, name: str, document: JsonDict) -> None:
        kind, who = self._changeable(principal)
        operation = "put_role_policy" if kind == "role" else "put_user_policy"
        params = {_name_key(kind): who, "PolicyName": name, "PolicyDocument": json.dumps(document)}
        self._call(operation, principal, params)

    def delete_inline_policy(self, principal: str, name: str) -> None:
        kind, who = self._changeable(principal)
        operation = "delete_role_policy" if kind == "role" else "delete_user_policy"
        self._call(operation, principal, {_name_key(kind): who, "PolicyName": name}, gone_ok=True)

    def attach_managed_policy(self, principal: str, policy_arn: str) -> None:
        kind, who = self._changeable(principal)
        operation = "attach_role_policy" if kind == "role" else "attach_user_policy"
        self._call(operation, principal, {_name_key(kind): who, "PolicyArn": policy_arn})

    def detach_managed_policy(self, principal: str, policy_arn: str) -> None:
        kind, who = self._changeable(principal)
        operation = "detach_role_policy" if kind == "role" else "detach_user_policy"
        params = {_name_key(kind): who, "PolicyArn": policy_arn}
        self._call(operation, principal, params, gone_ok=True)

    def put_permissions_boundary(self, principal: str, policy_arn: str) -> None:
        kind, who = self._changeable(principal)
        operation = f"put_{kind}_permissions_boundary"
        params = {_name_key(kind): who, "PermissionsBoundary": policy_arn}
        self._call(operation, principal, params)

    def delete_permissions_boundary(self, principal: str) -> None:
        kind, who, entity = self._changeable_entity(principal)
        if not entity.get("PermissionsBoundary"):
            return
        operation = f"delete_{kind}_permissions_boundary"
        self._call(operation, principal, {_name_key(kind): who}, gone_ok=True)

    def add_to_group(self, principal: str, group: str) -> None:
        who = self._user(principal)
        self._call("add_user_to_group", principal, {"UserName": who, "GroupName": group})

    def remove_from_group(self, principal: str, group: str) -> None:
        who = self._user(principal)
        groups = self._pages("list_groups_for_user", "Groups", UserName=who)
        if group not in {g["GroupName"] for g in groups}:
            return
        params = {"UserName": who, "GroupName": group}
        self._call("remove_user_from_group", principal, params, gone_ok=True)

    # Policy changes ------------------------------------------------------------------------
    def create_managed_policy(self, policy_arn: str, document: JsonDict) -> None:
        path, name = self._policy_path_and_name(policy_arn)
        existing = self.managed_policy(policy_arn)
        if existing is not None:
            if existing != document:
                raise IamChangeError(f"{policy_arn} exists with another document")
            return
        params = {
            "PolicyName": name,
            "Path": path,
            "PolicyDocument": json.dumps(document),
            "Description": "Made by ALPHA (least-privilege rollout)",
        }
        self._call("create_policy", policy_arn, params)

    def update_managed_policy(self, policy_arn: str, document: JsonDict) -> None:
        policy = self._policy(policy_arn)
        if policy is None:
            raise IamChangeError(f"no managed policy {policy_arn}")
        default = str(policy["DefaultVersionId"])
        if self._version_document(policy_arn, default) == document:
            return
        doomed = oldest_to_delete(self._version_ids(policy_arn), default)
        if doomed is not None:
            log.info("%s: deleting version %s to make room for a new one", policy_arn, doomed)
            params = {"PolicyArn": policy_arn, "VersionId": doomed}
            self._call("delete_policy_version", policy_arn, params)
        params = {"PolicyArn": policy_arn, "PolicyDocument": json.dumps(document)}
        self._call("create_policy_version", policy_arn, {**params, "SetAsDefault": True})

    def set_default_policy_version(self, policy_arn: str, version_id: str) -> None:
        if self._policy(policy_arn) is None:
            raise IamChangeError(f"no managed policy {policy_arn}")
        if version_id not in self._version_ids(policy_arn):
            raise IamChangeError(f"{policy_arn} has no version {version_id}")
        if self.managed_policy_version(policy_arn) != version_id:
            params = {"PolicyArn": policy_arn, "VersionId": version_id}
            self._call("set_default_policy_version", policy_arn, params)

    def delete_managed_policy(self, policy_arn: str) -> None:
        policy = self._policy(policy_arn)
        if policy is None:
            return
        if self._in_use(policy_arn, policy):
            raise IamChangeError(f"{policy_arn} is still in use and cannot be deleted")
        for version in self._version_ids(policy_arn):
            if version != policy["DefaultVersionId"]:  # IAM deletes the default with the policy
                params = {"PolicyArn": policy_arn, "VersionId": version}
                self._call("delete_policy_version", policy_arn, params)
        self._call("delete_policy", policy_arn, {"PolicyArn": policy_arn}, gone_ok=True)

    # Plumbing ------------------------------------------------------------------------------
    def _principal(self, arn: str) -> tuple[str, str]:
        """`role` or `user`, and the name (the path is not needed to find it)."""
        parts = arn.split(":", 5)
        if len(parts) < 6 or parts[2] != "iam" or not parts[4]:
            raise IamChangeError(f"{arn!r} is not an IAM ARN with an account")
        self._require_account(arn, parts[4])
        kind, _, rest = parts[5].partition("/")
        if kind not in ("role", "user") or not rest:
            raise IamChangeError(f"{arn!r} is not the ARN of a role or user")
        return kind, rest.rpartition("/")[2]

    def _require_account(self, arn: str, account: str) -> None:
        if account != self._account:
            raise IamChangeError(
                f"{arn}: account {account} is not this changer's ({self._account})"
            )
        if self._identity is not None:
            try:
                reached = self._identity()
            except (ClientError, BotoCoreError) as exc:
                raise IamChangeError(
                    f"cannot tell which account the credentials reach: {exc}"
                ) from exc
            if reached != self._account:
                raise IamChangeError(
                    f"the AWS credentials reach account {reached}, not {self._account} where "
                    f"{arn} is: nothing was changed"
                )
            self._identity = None

    def _entity(self, kind: str, name: str, arn: str) -> JsonDict:
        operation = "get_role" if kind == "role" else "get_user"
        try:
            answer = getattr(self._iam, operation)(**{_name_key(kind): name})
        except ClientError as exc:
            if _code(exc) == "NoSuchEntity":
                raise IamChangeError(f"no role or user {arn}") from exc
            raise _error(operation, arn, exc) from exc
        except BotoCoreError as exc:
            raise IamChangeError(f"IAM {operation} on {arn}: {exc}") from exc
        found: JsonDict = answer["Role" if kind == "role" else "User"]
        return found

    def _changeable(self, principal: str) -> tuple[str, str]:
        kind, name, _ = self._changeable_entity(principal)
        return kind, name

    def _changeable_entity(self, principal: str) -> tuple[str, str, JsonDict]:
        """The principal exists and is not AWS's: `ServiceLinkedRoleError` for one that is."""
        kind, name = self._principal(principal)
        entity = self._entity(kind, name, principal)
        if kind == "role" and str(entity.get("Path", "")).startswith(SERVICE_LINKED_PATH):
            raise ServiceLinkedRoleError(
                f"{entity['Arn']} is a service-linked role: AWS owns it, ALPHA never changes it"
            )
        return kind, name, entity

    def _user(self, principal: str) -> str:
        kind, name = self._changeable(principal)
        if kind != "user":
            raise IamChangeError(f"{principal} is a role: only users belong to groups")
        return name

    def _inline(self, kind: str, name: str) -> JsonDict:
        key = _name_key(kind)
        listing = "list_role_policies" if kind == "role" else "list_user_policies"
        getter = "get_role_policy" if kind == "role" else "get_user_policy"
        found: JsonDict = {}
        for policy_name in self._pages(listing, "PolicyNames", **{key: name}):
            answer = self._call(getter, name, {key: name, "PolicyName": policy_name})
            found[policy_name] = _document(answer["PolicyDocument"])
        return found

    def _attached(self, kind: str, name: str) -> list[str]:
        listing = "list_attached_role_policies" if kind == "role" else "list_attached_user_policies"
        policies = self._pages(listing, "AttachedPolicies", **{_name_key(kind): name})
        return [str(p["PolicyArn"]) for p in policies]

    def _policy(self, arn: str) -> JsonDict | None:
        self._policy_path_and_name(arn)
        try:
            answer = self._iam.get_policy(PolicyArn=arn)
        except ClientError as exc:
            if _code(exc) == "NoSuchEntity":
                return None
            raise _error("get_policy", arn, exc) from exc
        policy: JsonDict = answer["Policy"]
        return policy

    def _policy_path_and_name(self, arn: str) -> tuple[str, str]:
        parts = arn.split(":", 5)
        if len(parts) < 6 or parts[2] != "iam" or not parts[5].startswith("policy/"):
            raise IamChangeError(f"{arn!r} is not the ARN of a managed policy")
        self._require_account(arn, parts[4])
        path, _, name = parts[5].removeprefix("policy").rpartition("/")
        return f"{path}/", name

    def _version_ids(self, arn: str) -> list[str]:
        versions = self._pages("list_policy_versions", "Versions", PolicyArn=arn)
        return [str(v["VersionId"]) for v in versions]

    def _version_document(self, arn: str, version_id: str) -> JsonDict:
        params = {"PolicyArn": arn, "VersionId": version_id}
        answer = self._call("get_policy_version", arn, params)
        return _document(answer["PolicyVersion"]["Document"])

    def _in_use(self, arn: str, policy: JsonDict) -> bool:
        if policy.get("AttachmentCount") or policy.get("PermissionsBoundaryUsageCount"):
            return True
        # Not every IAM endpoint counts boundary uses: ask which principals use it as one.
        for key in ("PolicyRoles", "PolicyUsers"):
            if self._pages(
                "list_entities_for_policy",
                key,
                PolicyArn=arn,
                PolicyUsageFilter="PermissionsBoundary",
            ):
                return True
        return False

    def _pages(self, operation: str, key: str, **params: Any) -> list[Any]:
        try:
            paginator = self._iam.get_paginator(operation)
            return [item for page in paginator.paginate(**params) for item in page.get(key, [])]
        except ClientError as exc:
            raise _error(operation, str(params), exc) from exc
        except BotoCoreError as exc:
            raise IamChangeError(f"IAM {operation}: {exc}") from exc

    def _call(
        self, operation: str, about: str, params: dict[str, Any], *, gone_ok: bool = False
    ) -> Any:
        try:
            return getattr(self._iam, operation)(**params)
        except ClientError as exc:
            if gone_ok and _code(exc) == "NoSuchEntity":
                return None
            raise _error(operation, about, exc) from exc
        except BotoCoreError as exc:
            raise IamChangeError(f"IAM {operation} on {about}: {exc}") from exc


def _name_key(kind: str) -> str:
    return "RoleName" if kind == "role" else "UserName"


def _document(value: Any) -> JsonDict:
    """botocore decodes IAM's URL-encoded documents; a string left over is JSON text."""
    found: JsonDict = json.loads(value) if isinstance(value, str) else value
    return found


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _error(operation: str, about: str, exc: ClientError) -> IamChangeError:
    error = exc.response.get("Error", {})
    return IamChangeError(
        f"IAM {operation} on {about}: {error.get('Code', '?')}: {error.get('Message', '')}"
    )
