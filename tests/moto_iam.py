"""IAM in moto's server mode, over real HTTP, holding an authorization-details account.

`seed_account` creates in IAM what a `get-account-authorization-details` document holds: its
customer-managed policies with their versions (the default one made default), groups, roles and
users with their inline policies, attachments, boundaries, tags and group memberships. What
live IAM cannot hold is made as IAM would leave it: a boundary whose policy was deleted is set,
then its policy deleted; a membership of a group that is not in the document is dropped (IAM
deletes memberships with the group). AWS-managed policies are moto's own (loaded by the
server fixture).
"""

from __future__ import annotations

import functools
import json
import urllib.request
from typing import Any
from urllib.parse import unquote

from alpha.adapters.aws.clients import make_client

JsonDict = dict[str, Any]
MOTO_ACCOUNT = "111122223333"
TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ],
}


def reset(endpoint: str) -> None:
    request = urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST")
    with urllib.request.urlopen(request, timeout=30) as answer:
        answer.read()


@functools.cache  # a client per server: making one loads the service model (0.2-0.5 s)
def iam_client(endpoint: str) -> Any:
    return make_client("iam", region="us-east-1", endpoint_url=endpoint)


def decoded(document: Any) -> Any:
    if not isinstance(document, str):
        return document
    try:
        return json.loads(document)
    except json.JSONDecodeError:
        return json.loads(unquote(document))


def text(document: Any) -> str:
    return json.dumps(decoded(document))


def seed_account(client: Any, document: JsonDict) -> None:
    for policy in document.get("Policies") or []:
        if ":aws:policy/" not in policy["Arn"]:
            _policy(client, policy)
    groups = {g["GroupName"] for g in document.get("GroupDetailList") or []}
    for group in document.get("GroupDetailList") or []:
        _group(client, group)
    placeholders: set[str] = set()
    for role in document.get("RoleDetailList") or []:
        _role(client, role, placeholders)
    for user in document.get("UserDetailList") or []:
        _user(client, user, groups, placeholders)
    for arn in placeholders:
        client.delete_policy(PolicyArn=arn)


def _policy(client: Any, policy: JsonDict) -> None:
    versions = sorted(policy["PolicyVersionList"], key=lambda v: int(v["VersionId"][1:]))
    arn = client.create_policy(
        PolicyName=policy["PolicyName"],
        Path=policy.get("Path", "/"),
        PolicyDocument=text(versions[0]["Document"]),
    )["Policy"]["Arn"]
    assert arn == policy["Arn"], (arn, policy["Arn"])
    for version in versions[1:]:
        client.create_policy_version(
            PolicyArn=arn,
            PolicyDocument=text(version["Document"]),
            SetAsDefault=version["VersionId"] == policy["DefaultVersionId"],
        )
    if policy["DefaultVersionId"] == versions[0]["VersionId"] and len(versions) > 1:
        client.set_default_policy_version(PolicyArn=arn, VersionId=versions[0]["VersionId"])


def _group(client: Any, group: JsonDict) -> None:
    name = group["GroupName"]
    client.create_group(GroupName=name, Path=group.get("Path", "/"))
    for item in group.get("GroupPolicyList") or []:
        client.put_group_policy(
            GroupName=name,
            PolicyName=item["PolicyName"],
            PolicyDocument=text(item["PolicyDocument"]),
        )
    for item in group.get("AttachedManagedPolicies") or []:
        client.attach_group_policy(GroupName=name, PolicyArn=item["PolicyArn"])


def _role(client: Any, role: JsonDict, placeholders: set[str]) -> None:
    name = role["RoleName"]
    client.create_role(
        RoleName=name,
        Path=role.get("Path", "/"),
        AssumeRolePolicyDocument=text(role.get("AssumeRolePolicyDocument") or TRUST),
        Tags=role.get("Tags") or [],
    )
    for item in role.get("RolePolicyList") or []:
        client.put_role_policy(
            RoleName=name,
            PolicyName=item["PolicyName"],
            PolicyDocument=text(item["PolicyDocument"]),
        )
    for item in role.get("AttachedManagedPolicies") or []:
        client.attach_role_policy(RoleName=name, PolicyArn=item["PolicyArn"])
    boundary = (role.get("PermissionsBoundary") or {}).get("PermissionsBoundaryArn")
    if boundary:
        _ensure_policy(client, boundary, placeholders)
        client.put_role_permissions_boundary(RoleName=name, PermissionsBoundary=boundary)


def _user(client: Any, user: JsonDict, groups: set[str], placeholders: set[str]) -> None:
    name = user["UserName"]
    client.create_user(UserName=name, Path=user.get("Path", "/"), Tags=user.get("Tags") or [])
    for item in user.get("UserPolicyList") or []:
        client.put_user_policy(
            UserName=name,
            PolicyName=item["PolicyName"],
            PolicyDocument=text(item["PolicyDocument"]),
        )
    for item in user.get("AttachedManagedPolicies") or []:
        client.attach_user_policy(UserName=name, PolicyArn=item["PolicyArn"])
    for group in user.get("GroupList") or []:
        if group in groups:
            client.add_user_to_group(UserName=name, GroupName=group)
    boundary = (user.get("PermissionsBoundary") or {}).get("PermissionsBoundaryArn")
    if boundary:
        _ensure_policy(client, boundary, placeholders)
        client.put_user_permissions_boundary(UserName=name, PermissionsBoundary=boundary)


def _ensure_policy(client: Any, arn: str, placeholders: set[str]) -> None:
    try:
        client.get_policy(PolicyArn=arn)
    except client.exceptions.NoSuchEntityException:
        path, _, name = arn.split(":policy", 1)[1].rpartition("/")
        statement = {"Effect": "Deny", "Action": "*", "Resource": "*"}
        document = {"Version": "2012-10-17", "Statement": [statement]}
        client.create_policy(PolicyName=name, Path=f"{path}/", PolicyDocument=json.dumps(document))
        placeholders.add(arn)


def install_user_boundaries() -> None:
    """moto 5 has no user permissions boundaries (`PutUserPermissionsBoundary` answers 500):
    the server gets them here, as IAM documents them, so the changer's calls are tested over
    HTTP like the others. The user's boundary is then shown by `GetUser` and in
    `GetAccountAuthorizationDetails` (moto serialises the model's attributes by field name),
    and a policy's `PermissionsBoundaryUsageCount` (which moto does not count) by `GetPolicy`."""
    from moto.core.responses import EmptyResult
    from moto.iam.models import IAMBackend, ManagedPolicy, User
    from moto.iam.responses import IamResponse

    if hasattr(IamResponse, "put_user_permissions_boundary"):
        return

    def boundary(self: Any) -> dict[str, str] | None:
        arn = getattr(self, "permissions_boundary_arn", None)
        if not arn:
            return None
        return {
            "PermissionsBoundaryType": "PermissionsBoundaryPolicy",
            "PermissionsBoundaryArn": arn,
        }

    def put_backend(self: Any, user_name: str, arn: str) -> None:
        self.get_user(user_name).permissions_boundary_arn = arn

    def delete_backend(self: Any, user_name: str) -> None:
        self.get_user(user_name).permissions_boundary_arn = None

    def put_response(self: Any) -> Any:
        self.backend.put_user_permissions_boundary(
            self._get_param("UserName"), self._get_param("PermissionsBoundary")
        )
        return EmptyResult()

    def delete_response(self: Any) -> Any:
        self.backend.delete_user_permissions_boundary(self._get_param("UserName"))
        return EmptyResult()

    def boundary_uses(self: Any) -> int:
        entities = [*self.backend.roles.values(), *self.backend.users.values()]
        return sum(getattr(e, "permissions_boundary_arn", None) == self.arn for e in entities)

    User.permissions_boundary = property(boundary)  # type: ignore[attr-defined]
    ManagedPolicy.permissions_boundary_usage_count = property(boundary_uses)  # type: ignore[attr-defined]
    IAMBackend.put_user_permissions_boundary = put_backend  # type: ignore[attr-defined]
    IAMBackend.delete_user_permissions_boundary = delete_backend  # type: ignore[attr-defined]
    IamResponse.put_user_permissions_boundary = put_response  # type: ignore[attr-defined]
    IamResponse.delete_user_permissions_boundary = delete_response  # type: ignore[attr-defined]


class SavedIam:
    """The IAM state of moto's account, saved in the server's process and put back in a few
    milliseconds (seeding through the API takes a second, a reset reloads the AWS-managed
    policies): the contract tests restore the seeded account before each case. AWS-managed
    policy objects are shared, not copied (only their attachment counts are put back)."""

    _SAVED = ("roles", "users", "groups", "managed_policies", "inline_policies", "tagger")

    def __init__(self, account: str = MOTO_ACCOUNT) -> None:
        from moto.iam.models import iam_backends

        self._backend = iam_backends[account]["aws"]
        aws = [p for p in self._backend.managed_policies.values() if ":aws:policy/" in p.arn]
        self._shared = {id(p): p for p in aws}
        self._counts = {p.arn: p.attachment_count for p in aws}
        self._state = self._copy({k: getattr(self._backend, k) for k in self._SAVED})

    def restore(self) -> None:
        for key, value in self._copy(self._state).items():
            setattr(self._backend, key, value)
        for policy in self._shared.values():
            policy.attachment_count = self._counts[policy.arn]

    def _copy(self, value: Any) -> Any:
        import copy

        return copy.deepcopy(value, dict(self._shared))


def drop_unattached_aws_policies(account: str = MOTO_ACCOUNT) -> None:
    """moto lists every AWS-managed policy in `GetAccountAuthorizationDetails` (1,500, seconds
    to serialise); AWS lists those attached to something. Made so in the server's process, once
    the account is seeded (the policies stay attachable only while attached)."""
    from moto.iam.models import iam_backends

    backend = iam_backends[account]["aws"]
    backend.managed_policies = {
        arn: policy
        for arn, policy in backend.managed_policies.items()
        if ":aws:policy/" not in arn or policy.attachment_count > 0
    }
    backend.aws_managed_policies = [p for p in backend.aws_managed_policies if p.attachment_count]
