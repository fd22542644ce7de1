"""A saved `aws iam get-account-authorization-details` output, as an `AccountState`.

Accepts what the CLI writes (one object, pages merged, documents decoded), the raw API form
(documents URL-encoded JSON strings) and a JSON list of pages. Errors name the file and the
JSON path: `account.json: RoleDetailList[3].RolePolicyList[0].PolicyDocument: Statement[0]...`.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, NoReturn, TypeVar
from urllib.parse import unquote

from alpha.account.errors import AccountError
from alpha.account.model import (
    AccountSnapshot,
    AttachedPolicy,
    EffectivePolicies,
    Group,
    InlinePolicy,
    LastUsed,
    ManagedPolicy,
    Principal,
    Role,
    Tag,
    User,
    is_aws_managed_arn,
)
from alpha.adapters.local.json_at import (
    At,
    as_string,
    count,
    date,
    json_list,
    json_object,
    kind_of,
    optional_string,
    required,
    string,
)
from alpha.policy.errors import PolicyParseError
from alpha.policy.json_stream import JsonStream
from alpha.policy.model import Policy
from alpha.policy.parse import parse_policy
from alpha.policy.user_files import (
    InputTextError,
    decode_json,
    read_input,
    shown,
    without_cycle_collection,
)

__all__ = [
    "LISTS",
    "SnapshotParts",
    "fail_no_lists",
    "fail_no_pages",
    "fail_truncated",
    "parse_authorization_details",
    "read_authorization_details",
]


LISTS = ("UserDetailList", "GroupDetailList", "RoleDetailList", "Policies")
_Entity = TypeVar("_Entity", Role, User, Group, ManagedPolicy)
_IAM_ARN = re.compile(r"arn:[a-z-]+:iam::(\d{12}|aws):([a-z-]+)/(.+)\Z")  # \Z: no final \n


class AuthorizationDetailsFile:
    """`AccountState` over a file; read on first use, then kept."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._snapshot: AccountSnapshot | None = None

    @property
    def name(self) -> str:
        return str(self._path)

    def snapshot(self) -> AccountSnapshot:
        if self._snapshot is None:
            self._snapshot = read_authorization_details(self._path)
        return self._snapshot

    def principal(self, arn: str) -> Principal:
        return self.snapshot().principal(arn)

    def effective_policies(self, arn: str) -> EffectivePolicies:
        return self.snapshot().effective_policies(arn)


def read_authorization_details(path: Path) -> AccountSnapshot:
    text = read_input(path, AccountError)
    return parse_authorization_details_text(text, shown(path))


def parse_authorization_details_text(text: str, source: str) -> AccountSnapshot:
    """Decoded as strictly as policies are (no duplicate keys, no NaN: see `user_files`), one
    entity at a time (`authorization_stream`), so the decoded document is never held whole."""
    from alpha.adapters.local.authorization_stream import stream_snapshot

    # One pause of the garbage collector around it all: millions of acyclic objects.
    with without_cycle_collection():
        try:
            return stream_snapshot(JsonStream(text), source)
        except InputTextError as exc:
            raise AccountError(f"{source}: {exc}") from exc


def parse_authorization_details(data: object, source: str) -> AccountSnapshot:
    """Build a snapshot from decoded JSON: one response object or a list of pages."""
    pages = _pages(data, At(source, ""))
    parts = SnapshotParts()
    with without_cycle_collection():  # millions of acyclic objects for a large account
        for page_at, page in pages:
            for key in LISTS:
                for item_at, item in _items(page, key, page_at):
                    parts.add(key, item, item_at)
        return parts.snapshot(source)


def _pages(data: object, at: At) -> list[tuple[At, dict[str, Any]]]:
    if isinstance(data, list):
        if not data:
            fail_no_pages(at)
        pages = [(at.index(i), _page(item, at.index(i))) for i, item in enumerate(data)]
    else:
        pages = [(at, _page(data, at))]
    last_at, last = pages[-1]
    if last.get("IsTruncated") is True:
        fail_truncated(last_at)
    return pages


def _page(data: object, at: At) -> dict[str, Any]:
    if not isinstance(data, dict):
        at.fail(f"must be an object, not {kind_of(data)}")
    if not any(key in data for key in LISTS):
        fail_no_lists(at)
    return data


def fail_no_pages(at: At) -> NoReturn:
    at.fail("an empty list: expected the output of get-account-authorization-details")


def fail_no_lists(at: At) -> NoReturn:
    at.fail(
        f"not the output of `aws iam get-account-authorization-details`: none of {', '.join(LISTS)}"
    )


def fail_truncated(at: At) -> NoReturn:
    at.key("IsTruncated").fail(
        "true: this is one page of several; save every page (the AWS CLI merges them)"
    )


def _items(page: dict[str, Any], key: str, at: At) -> list[tuple[At, object]]:
    where = at.key(key)
    return [(where.index(i), item) for i, item in enumerate(json_list(page.get(key), where))]


class _Account:
    """The account id all ARNs must share, and where it was first seen."""

    def __init__(self) -> None:
        self.id: str | None = None
        self._seen_at = ""

    def check(self, arn: str, at: At) -> None:
        account = arn.split(":")[4]
        if account == "aws":
            return
        if self.id is None:
            self.id, self._seen_at = account, at.path
        elif account != self.id:
            at.fail(
                f"account {account} differs from {self.id} ({self._seen_at}); one file, one account"
            )


class SnapshotParts:
    """The entities of an account as they are read, checked against each other."""

    def __init__(self) -> None:
        self.account = _Account()
        self.roles: list[Role] = []
        self.users: list[User] = []
        self.groups: list[Group] = []
        self.policies: list[ManagedPolicy] = []
        self._seen: dict[str, str] = {}

    def add(self, key: str, item: object, at: At) -> None:
        obj = json_object(item, at)
        if key == "RoleDetailList":
            self.roles.append(self._track(_role(obj, at), at))
        elif key == "UserDetailList":
            self.users.append(self._track(_user(obj, at), at))
        elif key == "GroupDetailList":
            self.groups.append(self._track(_group(obj, at), at))
        else:
            self.policies.append(self._track(_managed_policy(obj, at), at))

    def snapshot(self, source: str) -> AccountSnapshot:
        return AccountSnapshot(
            account_id=self.account.id,
            roles=tuple(self.roles),
            users=tuple(self.users),
            groups=tuple(self.groups),
            policies=tuple(self.policies),
            source=source,
        )

    def _track(self, entity: _Entity, at: At) -> _Entity:
        first = self._seen.setdefault(entity.arn, at.path)
        if first != at.path:
            at.key("Arn").fail(f"{entity.arn} appears twice (first at {first})")
        self.account.check(entity.arn, at.key("Arn"))
        return entity


def _role(obj: dict[str, Any], at: At) -> Role:
    trust = obj.get("AssumeRolePolicyDocument")
    last_used = json_object(obj.get("RoleLastUsed") or {}, at.key("RoleLastUsed"))
    last_date = date(last_used, "LastUsedDate", at.key("RoleLastUsed"))
    profiles = json_list(obj.get("InstanceProfileList"), at.key("InstanceProfileList"))
    return Role(
        arn=_arn(obj, "role", at),
        name=string(obj, "RoleName", at),
        path=string(obj, "Path", at, default="/"),
        role_id=string(obj, "RoleId", at, default=""),
        create_date=date(obj, "CreateDate", at),
        trust_policy=None
        if trust is None
        else _document(trust, at.key("AssumeRolePolicyDocument")),
        inline_policies=_inline(obj, "RolePolicyList", at),
        attached_policies=_attached(obj, at),
        boundary_arn=_boundary(obj, at),
        tags=_tags(obj, at),
        last_used=None
        if last_date is None
        else LastUsed(last_date, optional_string(last_used, "Region", at.key("RoleLastUsed"))),
        instance_profile_arns=tuple(
            string(json_object(p, p_at), "Arn", p_at)
            for p_at, p in (
                (at.key("InstanceProfileList").index(i), p) for i, p in enumerate(profiles)
            )
        ),
    )


def _user(obj: dict[str, Any], at: At) -> User:
    groups = json_list(obj.get("GroupList"), at.key("GroupList"))
    return User(
        arn=_arn(obj, "user", at),
        name=string(obj, "UserName", at),
        path=string(obj, "Path", at, default="/"),
        user_id=string(obj, "UserId", at, default=""),
        create_date=date(obj, "CreateDate", at),
        inline_policies=_inline(obj, "UserPolicyList", at),
        attached_policies=_attached(obj, at),
        groups=tuple(as_string(g, at.key("GroupList").index(i)) for i, g in enumerate(groups)),
        boundary_arn=_boundary(obj, at),
        tags=_tags(obj, at),
    )


def _group(obj: dict[str, Any], at: At) -> Group:
    return Group(
        arn=_arn(obj, "group", at),
        name=string(obj, "GroupName", at),
        path=string(obj, "Path", at, default="/"),
        group_id=string(obj, "GroupId", at, default=""),
        create_date=date(obj, "CreateDate", at),
        inline_policies=_inline(obj, "GroupPolicyList", at),
        attached_policies=_attached(obj, at),
    )


def _managed_policy(obj: dict[str, Any], at: At) -> ManagedPolicy:
    versions_at = at.key("PolicyVersionList")
    versions = [
        (versions_at.index(i), json_object(v, versions_at.index(i)))
        for i, v in enumerate(json_list(obj.get("PolicyVersionList"), versions_at))
    ]
    default_id = optional_string(obj, "DefaultVersionId", at)
    chosen = _default_version(versions, default_id, versions_at)
    version_at, version = chosen
    arn = _arn(obj, "policy", at)
    return ManagedPolicy(
        arn=arn,
        # moto leaves PolicyName out (AWS always sends it): the ARN ends with the name.
        name=optional_string(obj, "PolicyName", at) or arn.rpartition("/")[2],
        path=string(obj, "Path", at, default="/"),
        policy_id=string(obj, "PolicyId", at, default=""),
        default_version_id=string(version, "VersionId", version_at),
        document=_document(required(version, "Document", version_at), version_at.key("Document")),
        attachment_count=count(obj, "AttachmentCount", at),
        boundary_usage_count=count(obj, "PermissionsBoundaryUsageCount", at),
        version_ids=tuple(string(v, "VersionId", v_at) for v_at, v in versions),
    )


def _default_version(
    versions: list[tuple[At, dict[str, Any]]], default_id: str | None, at: At
) -> tuple[At, dict[str, Any]]:
    for version_at, version in versions:
        if default_id is not None and version.get("VersionId") == default_id:
            return version_at, version
        if default_id is None and version.get("IsDefaultVersion") is True:
            return version_at, version
    wanted = f"version {default_id!r} (DefaultVersionId)" if default_id else "default version"
    at.fail(f"no {wanted}: the policy's document is unknown")


def _inline(obj: dict[str, Any], key: str, at: At) -> tuple[InlinePolicy, ...]:
    where = at.key(key)
    found: list[InlinePolicy] = []
    for i, raw in enumerate(json_list(obj.get(key), where)):
        item_at = where.index(i)
        item = json_object(raw, item_at)
        name = string(item, "PolicyName", item_at)
        if any(p.name == name for p in found):
            item_at.key("PolicyName").fail(f"inline policy {name!r} appears twice")
        document = required(item, "PolicyDocument", item_at)
        found.append(InlinePolicy(name, _document(document, item_at.key("PolicyDocument"))))
    return tuple(found)


def _attached(obj: dict[str, Any], at: At) -> tuple[AttachedPolicy, ...]:
    where = at.key("AttachedManagedPolicies")
    found: list[AttachedPolicy] = []
    for i, raw in enumerate(json_list(obj.get("AttachedManagedPolicies"), where)):
        item_at = where.index(i)
        item = json_object(raw, item_at)
        arn = _arn_value(string(item, "PolicyArn", item_at), "policy", item_at.key("PolicyArn"))
        name = optional_string(item, "PolicyName", item_at) or arn.rpartition("/")[2]
        found.append(AttachedPolicy(arn, name))
    return tuple(found)


def _boundary(obj: dict[str, Any], at: At) -> str | None:
    raw = obj.get("PermissionsBoundary")
    if raw is None or raw == {}:
        return None
    where = at.key("PermissionsBoundary")
    arn = string(json_object(raw, where), "PermissionsBoundaryArn", where)
    return _arn_value(arn, "policy", where.key("PermissionsBoundaryArn"))


def _tags(obj: dict[str, Any], at: At) -> tuple[Tag, ...]:
    where = at.key("Tags")
    tags = []
    for i, raw in enumerate(json_list(obj.get("Tags"), where)):
        item = json_object(raw, where.index(i))
        tags.append(Tag(string(item, "Key", where.index(i)), string(item, "Value", where.index(i))))
    return tuple(tags)


def _document(value: object, at: At) -> Policy:
    """A policy document: a JSON object, or a JSON string, URL-encoded as the raw API sends."""
    if isinstance(value, str):
        value = _decode_document(value, at)
    try:
        return parse_policy(value, f"{at.source}: {at.path}")
    except PolicyParseError as exc:
        raise AccountError(str(exc)) from exc


def _decode_document(text: str, at: At) -> object:
    # A plain JSON string first: URL-decoding it could corrupt a literal `%` in a value.
    for candidate in (text, unquote(text)):
        try:
            return decode_json(candidate)
        except InputTextError as exc:
            if not exc.syntax:  # JSON, but not as IAM reads it: say where
                at.fail(str(exc))
    at.fail("a string that is neither JSON nor URL-encoded JSON")


def _arn(obj: dict[str, Any], kind: str, at: At) -> str:
    return _arn_value(string(obj, "Arn", at), kind, at.key("Arn"))


def _arn_value(arn: str, kind: str, at: At) -> str:
    match = _IAM_ARN.match(arn)
    if match is None or match.group(2) != kind:
        at.fail(f"{arn!r} is not an IAM {kind} ARN")
    if match.group(1) == "aws" and not (kind == "policy" and is_aws_managed_arn(arn)):
        at.fail(f"{arn!r} is not an IAM {kind} ARN")
    return arn
