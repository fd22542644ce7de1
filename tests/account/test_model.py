from __future__ import annotations

from typing import Any

import pytest

from alpha.account import (
    AccountSnapshot,
    AttachedPolicy,
    Group,
    InlinePolicy,
    ManagedPolicy,
    MissingGroup,
    PolicyOrigin,
    PolicyOriginKind,
    PrincipalNotFoundError,
    Role,
    UnresolvedPolicy,
    User,
    is_aws_managed_arn,
)
from alpha.policy.model import ActionList, Effect, Policy, ResourceList, Statement

ACCOUNT = "111122223333"


def allow(action: str) -> Policy:
    return Policy((Statement(Effect.ALLOW, ActionList((action,)), ResourceList(("*",))),))


def arn(kind: str, name: str) -> str:
    return f"arn:aws:iam::{ACCOUNT}:{kind}/{name}"


def attached(name: str) -> AttachedPolicy:
    return AttachedPolicy(arn("policy", name), name)


def role(name: str, path: str = "/", **fields: Any) -> Role:
    return Role(
        arn=f"arn:aws:iam::{ACCOUNT}:role{path}{name}",
        name=name,
        path=path,
        role_id=f"AROA{name.upper()}",
        create_date=None,
        trust_policy=allow("sts:AssumeRole"),
        **fields,
    )


def user(name: str, **fields: Any) -> User:
    return User(arn("user", name), name, "/", f"AIDA{name}", None, **fields)


def group(name: str, **fields: Any) -> Group:
    return Group(arn("group", name), name, "/", f"AGPA{name}", None, **fields)


def managed(name: str, action: str, count: int = 1, full_arn: str | None = None) -> ManagedPolicy:
    return ManagedPolicy(
        arn=full_arn or arn("policy", name),
        name=name,
        path="/",
        policy_id=f"ANPA{name}",
        default_version_id="v1",
        document=allow(action),
        attachment_count=count,
    )


@pytest.fixture
def snapshot() -> AccountSnapshot:
    return AccountSnapshot(
        account_id=ACCOUNT,
        roles=(
            role(
                "app",
                path="/service-role/",
                inline_policies=(InlinePolicy("app-inline", allow("dynamodb:GetItem")),),
                attached_policies=(attached("shared"), attached("gone")),
                boundary_arn=arn("policy", "boundary"),
            ),
            role("batch", attached_policies=(attached("shared"),)),
            role("solo", attached_policies=(attached("solo"),)),
            role("miscounted", attached_policies=(attached("counted-twice"),)),
            role("orphan", boundary_arn=arn("policy", "missing-boundary")),
        ),
        users=(
            user(
                "alice",
                inline_policies=(InlinePolicy("alice-inline", allow("sqs:SendMessage")),),
                groups=("developers", "ghosts"),
                boundary_arn=arn("policy", "boundary"),
            ),
        ),
        groups=(
            group(
                "developers",
                inline_policies=(InlinePolicy("dev-inline", allow("codecommit:GitPull")),),
                attached_policies=(attached("dev-tools"),),
            ),
        ),
        policies=(
            managed("shared", "s3:GetObject", count=2),
            managed("solo", "sns:Publish"),
            managed("counted-twice", "sqs:ReceiveMessage", count=2),
            managed("boundary", "s3:*", count=0),
            managed("dev-tools", "codebuild:StartBuild"),
        ),
        source="account.json",
    )


def origins(snapshot: AccountSnapshot, principal_arn: str) -> list[tuple[str, str, str | None]]:
    effective = snapshot.effective_policies(principal_arn)
    return [(a.origin.kind.value, a.origin.name, a.origin.group) for a in effective.identity]


def test_role_policies_are_inline_then_managed_with_their_origin(snapshot: AccountSnapshot) -> None:
    effective = snapshot.effective_policies(arn("role", "service-role/app"))
    assert origins(snapshot, effective.principal_arn) == [
        ("inline", "app-inline", None),
        ("managed", "shared", None),
    ]
    assert effective.documents == (allow("dynamodb:GetItem"), allow("s3:GetObject"))
    assert effective.identity[1].origin.arn == arn("policy", "shared")


def test_a_managed_policy_missing_from_the_snapshot_is_reported_not_dropped(
    snapshot: AccountSnapshot,
) -> None:
    effective = snapshot.effective_policies(arn("role", "service-role/app"))
    gone = PolicyOrigin(PolicyOriginKind.MANAGED, "gone", arn("policy", "gone"))
    assert effective.unresolved == (UnresolvedPolicy(gone),)
    assert not effective.complete
    assert gone not in [a.origin for a in effective.identity]
    assert effective.unresolved[0].describe() == (
        f"managed policy {arn('policy', 'gone')} is not in the snapshot"
    )


def test_a_users_group_policies_apply_and_name_the_group(snapshot: AccountSnapshot) -> None:
    assert origins(snapshot, arn("user", "alice")) == [
        ("inline", "alice-inline", None),
        ("group-inline", "dev-inline", "developers"),
        ("group-managed", "dev-tools", "developers"),
    ]


def test_a_group_missing_from_the_snapshot_is_unresolved(snapshot: AccountSnapshot) -> None:
    effective = snapshot.effective_policies(arn("user", "alice"))
    assert effective.unresolved == (MissingGroup("ghosts"),)


def test_boundary_is_resolved_to_its_document(snapshot: AccountSnapshot) -> None:
    effective = snapshot.effective_policies(arn("user", "alice"))
    assert effective.boundary == allow("s3:*")
    assert effective.boundary_arn == arn("policy", "boundary")


def test_a_missing_boundary_is_unresolved_not_absent(snapshot: AccountSnapshot) -> None:
    effective = snapshot.effective_policies(arn("role", "orphan"))
    assert effective.boundary is None
    assert effective.boundary_arn == arn("policy", "missing-boundary")
    assert [u.describe() for u in effective.unresolved] == [
        f"permissions boundary {arn('policy', 'missing-boundary')} is not in the snapshot"
    ]


def test_a_principal_without_boundary_or_gaps_is_complete(snapshot: AccountSnapshot) -> None:
    effective = snapshot.effective_policies(arn("role", "batch"))
    assert effective.complete
    assert effective.boundary is None
    assert effective.boundary_arn is None


@pytest.mark.parametrize(
    ("policy", "holders"),
    [
        ("shared", ["role/batch", "role/service-role/app"]),
        ("solo", ["role/solo"]),
        ("dev-tools", ["group/developers"]),
        ("boundary", ["role/service-role/app", "user/alice"]),
        ("gone", ["role/service-role/app"]),
        ("never-attached", []),
    ],
)
def test_principals_sharing_lists_every_holder(
    snapshot: AccountSnapshot, policy: str, holders: list[str]
) -> None:
    expected = tuple(f"arn:aws:iam::{ACCOUNT}:{h}" for h in holders)
    assert snapshot.principals_sharing(arn("policy", policy)) == expected


@pytest.mark.parametrize(
    ("policy", "principal", "editable"),
    [
        ("solo", "role/solo", True),
        ("shared", "role/batch", False),  # another role attaches it
        ("counted-twice", "role/miscounted", False),  # IAM counts an attachment we cannot see
        ("gone", "role/service-role/app", False),  # we cannot read it
        ("boundary", "user/alice", False),  # also a boundary elsewhere
    ],
)
def test_can_edit_in_place_only_when_nobody_else_uses_it(
    snapshot: AccountSnapshot, policy: str, principal: str, editable: bool
) -> None:
    principal_arn = f"arn:aws:iam::{ACCOUNT}:{principal}"
    assert snapshot.can_edit_in_place(arn("policy", policy), principal_arn) is editable


def test_aws_managed_policies_are_never_edited_in_place() -> None:
    aws_arn = "arn:aws:iam::aws:policy/ReadOnlyAccess"
    policy = managed("ReadOnlyAccess", "s3:Get*", full_arn=aws_arn)
    only = role("only", attached_policies=(AttachedPolicy(aws_arn, "ReadOnlyAccess"),))
    snapshot = AccountSnapshot(ACCOUNT, roles=(only,), policies=(policy,))
    assert policy.is_aws_managed
    assert not snapshot.can_edit_in_place(aws_arn, only.arn)


@pytest.mark.parametrize(
    "written",
    [
        f"arn:aws:iam::{ACCOUNT}:role/service-role/app",
        f"arn:aws:iam::{ACCOUNT}:role/app",  # without the path
        f"arn:aws:iam::{ACCOUNT}:role/APP",  # IAM names ignore case
        f"arn:aws:sts::{ACCOUNT}:assumed-role/app/session-1",
    ],
)
def test_principal_lookup_accepts_the_forms_cloudtrail_writes(
    snapshot: AccountSnapshot, written: str
) -> None:
    assert snapshot.principal(written).arn == f"arn:aws:iam::{ACCOUNT}:role/service-role/app"


@pytest.mark.parametrize(
    "written",
    [
        "arn:aws:iam::999999999999:role/app",  # another account
        f"arn:aws:iam::{ACCOUNT}:role/nobody",
        f"arn:aws:iam::{ACCOUNT}:user/app",  # a role's name, as a user
        f"arn:aws:iam::{ACCOUNT}:group/developers",
        "not-an-arn",
    ],
)
def test_unknown_principals_raise_naming_the_source(
    snapshot: AccountSnapshot, written: str
) -> None:
    with pytest.raises(PrincipalNotFoundError) as caught:
        snapshot.effective_policies(written)
    assert str(caught.value) == f"account.json: no role or user {written}"


def test_users_are_principals_too(snapshot: AccountSnapshot) -> None:
    assert isinstance(snapshot.principal(arn("user", "alice")), User)
    assert [p.name for p in snapshot.principals] == [
        "app",
        "batch",
        "solo",
        "miscounted",
        "orphan",
        "alice",
    ]


def test_unresolved_policy_arns_lists_what_the_snapshot_lacks(snapshot: AccountSnapshot) -> None:
    assert sorted(snapshot.unresolved_policy_arns) == [
        arn("policy", "gone"),
        arn("policy", "missing-boundary"),
    ]


def test_snapshots_are_values(snapshot: AccountSnapshot) -> None:
    same = AccountSnapshot(
        snapshot.account_id,
        snapshot.roles,
        snapshot.users,
        snapshot.groups,
        snapshot.policies,
        source="elsewhere.json",
    )
    assert same == snapshot
    assert hash(same) == hash(snapshot)
    with pytest.raises(AttributeError):
        snapshot.account_id = "x"  # type: ignore[misc]  # misc: writing a frozen field is the test


@pytest.mark.parametrize(
    ("policy_arn", "aws_managed"),
    [
        ("arn:aws:iam::aws:policy/AdministratorAccess", True),
        ("arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole", True),
        ("arn:aws-cn:iam::aws:policy/ReadOnlyAccess", True),
        (f"arn:aws:iam::{ACCOUNT}:policy/aws", False),
        (f"arn:aws:iam::{ACCOUNT}:policy/ReadOnlyAccess", False),
    ],
)
def test_is_aws_managed_arn(policy_arn: str, aws_managed: bool) -> None:
    assert is_aws_managed_arn(policy_arn) is aws_managed


@pytest.mark.parametrize(
    ("origin", "text"),
    [
        (PolicyOrigin(PolicyOriginKind.INLINE, "p"), "inline policy 'p'"),
        (PolicyOrigin(PolicyOriginKind.MANAGED, "m", "arn:m"), "managed policy arn:m"),
        (
            PolicyOrigin(PolicyOriginKind.GROUP_INLINE, "p", group="g"),
            "inline policy 'p' of group 'g'",
        ),
        (
            PolicyOrigin(PolicyOriginKind.GROUP_MANAGED, "m", "arn:m", "g"),
            "managed policy arn:m via group 'g'",
        ),
        (PolicyOrigin(PolicyOriginKind.BOUNDARY, "b", "arn:b"), "permissions boundary arn:b"),
    ],
)
def test_origins_describe_what_to_act_on(origin: PolicyOrigin, text: str) -> None:
    assert origin.describe() == text
