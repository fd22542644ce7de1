"""PolicyDiff: actions added and removed after expansion, and the privilege reduction."""

from __future__ import annotations

import json
from typing import Any

import pytest

from alpha.catalog import AccessLevel, Catalog
from alpha.policy.diff import PolicyDiff, diff_policies
from alpha.policy.model import Policy
from alpha.policy.parse import parse_policy

S3 = "arn:aws:s3:::"


def doc(*statements: dict[str, Any]) -> Policy:
    return parse_policy({"Version": "2012-10-17", "Statement": list(statements)})


def allow(action: Any, resource: Any = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def level(result: PolicyDiff, access_level: AccessLevel) -> tuple[int, int]:
    found = next(x for x in result.by_access_level if x.access_level is access_level)
    return found.existing_grants, found.removed_grants


def test_actions_are_compared_after_expansion(catalog: Catalog) -> None:
    result = diff_policies(
        doc(allow("s3:Get*")), doc(allow(["S3:GETOBJECT", "s3:putobject"])), catalog
    )
    gets = sorted((a.key for a in catalog.expand("s3:Get*")), key=str.lower)
    assert result.added_actions == ("s3:PutObject",)
    assert result.removed_actions == tuple(a for a in gets if a != "s3:GetObject")
    assert result.change_summary == f"+1 actions, -{len(gets) - 1} actions"


def test_identical_policies_change_nothing(catalog: Catalog) -> None:
    policy = doc(allow(["s3:GetObject", "sqs:*"], f"{S3}b/*"))
    result = diff_policies(policy, policy, catalog)
    assert (result.added_actions, result.removed_actions) == ((), ())
    assert result.change_summary == "+0 actions, -0 actions"
    assert result.removed_grants == 0
    assert result.privilege_reduction == 0.0


def test_not_action_expands_to_the_rest_of_the_catalog(catalog: Catalog) -> None:
    everything_but_iam = doc({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"})
    result = diff_policies(everything_but_iam, doc(allow("s3:*")), catalog)
    assert not result.added_actions
    assert "ec2:RunInstances" in result.removed_actions
    assert not any(a.startswith("iam:") for a in result.removed_actions)
    assert not any(a.startswith("s3:") for a in result.removed_actions)


def test_unknown_actions_are_kept_as_written(catalog: Catalog) -> None:
    result = diff_policies(doc(allow("s3:GetObject")), doc(allow("s3:GetObjekt")), catalog)
    assert result.added_actions == ("s3:GetObjekt",)
    assert result.removed_actions == ("s3:GetObject",)


def test_an_unconditional_deny_everywhere_removes_actions(catalog: Catalog) -> None:
    denied = doc(allow("s3:*"), {"Effect": "Deny", "Action": "s3:Delete*", "Resource": "*"})
    result = diff_policies(denied, doc(allow("s3:*")), catalog)
    assert result.added_actions == tuple(
        sorted((a.key for a in catalog.expand("s3:Delete*")), key=str.lower)
    )
    conditional = doc(
        allow("s3:*"),
        {
            "Effect": "Deny",
            "Action": "s3:Delete*",
            "Resource": "*",
            "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "false"}},
        },
    )
    assert diff_policies(conditional, doc(allow("s3:*")), catalog).added_actions == ()


def test_grants_are_actions_times_resource_types(catalog: Catalog) -> None:
    # s3:GetObject takes two resource types (object, access point object): a bucket ARN
    # pattern keeps one of them.
    result = diff_policies(
        doc(allow("s3:GetObject")), doc(allow("s3:GetObject", f"{S3}b/*")), catalog
    )
    action = catalog.action("s3:GetObject")
    assert action is not None
    types = len(catalog.resource_types_of(action))
    assert (result.existing_grants, result.proposed_grants) == (types, 1)
    assert result.removed_grants == types - 1
    assert result.privilege_reduction == pytest.approx((types - 1) / types)


def test_actions_without_resource_types_need_a_star(catalog: Catalog) -> None:
    before = doc(allow("sts:GetSessionToken"))
    scoped = doc(allow("sts:GetSessionToken", "arn:aws:sts::123456789012:role/x"))
    result = diff_policies(before, scoped, catalog)
    assert (result.existing_grants, result.removed_grants) == (1, 1)
    assert result.privilege_reduction == 1.0
    assert diff_policies(before, before, catalog).removed_grants == 0


def test_reduction_by_access_level(catalog: Catalog) -> None:
    result = diff_policies(
        doc(allow(["s3:GetObject", "s3:ListBucket", "s3:PutObject"])),
        doc(allow(["s3:ListBucket"])),
        catalog,
    )
    assert level(result, AccessLevel.LIST) == (2, 0)
    assert level(result, AccessLevel.READ) == (2, 2)
    assert level(result, AccessLevel.WRITE) == (2, 2)
    assert level(result, AccessLevel.TAGGING) == (0, 0)
    assert result.privilege_reduction == pytest.approx(4 / 6)


def test_not_resource_that_covers_a_type_removes_its_grants(catalog: Catalog) -> None:
    not_buckets = doc({"Effect": "Allow", "Action": "s3:ListBucket", "NotResource": "arn:*:s3:::*"})
    result = diff_policies(doc(allow("s3:ListBucket")), not_buckets, catalog)
    # the bucket type (arn:${Partition}:s3:::name) is excluded; access points are not
    assert (result.existing_grants, result.proposed_grants) == (2, 1)
    # in the aws partition only: a bucket in another partition could still match
    aws_only = doc({"Effect": "Allow", "Action": "s3:ListBucket", "NotResource": f"{S3}*"})
    assert diff_policies(doc(allow("s3:ListBucket")), aws_only, catalog).proposed_grants == 2


def test_to_dict_uses_the_seed_field_names(catalog: Catalog) -> None:
    result = diff_policies(doc(allow("s3:Get*")), doc(allow("s3:GetObject", f"{S3}b/*")), catalog)
    data = json.loads(json.dumps(result.to_dict()))
    assert {
        "existing_policy",
        "proposed_policy",
        "added_actions",
        "removed_actions",
        "change_summary",
        "privilege_reduction",
        "by_access_level",
    } <= set(data)
    assert data["proposed_policy"]["Statement"][0]["Action"] == "s3:GetObject"
    assert set(data["by_access_level"]) == {level.value for level in AccessLevel}
    assert 0 < data["privilege_reduction"] < 1


def test_an_action_the_catalog_lacks_is_compared_with_the_other_sides_wildcards(
    catalog: Catalog,
) -> None:
    admin = doc(allow("*"))
    named = doc(allow(["s3:GetObject", "newservice:GetThing"]))
    result = diff_policies(admin, named, catalog)
    assert "newservice:GetThing" not in result.added_actions  # `*` already holds it
    assert diff_policies(named, admin, catalog).added_actions != ()
    narrow = doc(allow("s3:*"))
    assert diff_policies(narrow, named, catalog).added_actions == ("newservice:GetThing",)
    assert (
        "newservice:GetThing"
        not in diff_policies(doc(allow("new*:Get*")), named, catalog).added_actions
    )


@pytest.mark.parametrize(
    ("existing", "proposed", "grants", "removed"),
    [
        # (existing statements, proposed statements, existing grants, removed grants) for an
        # action the catalog lacks, on top of s3:GetObject's two types
        ([allow(["s3:GetObject", "s3:NewThing"])], [allow("s3:GetObject")], 3, 1),
        ([allow(["s3:GetObject", "s3:NewThing"])], [allow("s3:*")], 3, 0),
        ([allow("s3:GetObject")], [allow(["s3:GetObject", "s3:NewThing"])], 2, 0),
        ([allow(["s3:GetObject", "s3:NewThing"])], [allow(["s3:GetObject", "S3:NEWTHING"])], 3, 0),
        (
            [allow(["s3:GetObject", "s3:NewThing"])],
            [allow("s3:*"), {"Effect": "Deny", "Action": "s3:New*", "Resource": "*"}],
            3,
            1,
        ),
    ],
)
def test_actions_the_catalog_lacks_count_in_the_reduction(
    catalog: Catalog,
    existing: list[dict[str, Any]],
    proposed: list[dict[str, Any]],
    grants: int,
    removed: int,
) -> None:
    result = diff_policies(doc(*existing), doc(*proposed), catalog)
    assert (result.existing_grants, result.removed_grants) == (grants, removed)


def test_an_everywhere_deny_removes_an_action_the_catalog_lacks(catalog: Catalog) -> None:
    denied = doc(allow("*"), {"Effect": "Deny", "Action": "newservice:*", "Resource": "*"})
    named = doc(allow("newservice:GetThing"))
    assert diff_policies(denied, named, catalog).added_actions == ("newservice:GetThing",)
    assert diff_policies(named, denied, catalog).removed_actions == ("newservice:GetThing",)


@pytest.mark.parametrize(
    "other",
    [
        [allow("s3:GetObject")],
        [allow("s3:GetObject"), {"Effect": "Deny", "Action": "*", "Resource": "*"}],
        [allow(["s3:GetObject", "sts:GetCallerIdentity"])],
    ],
)
def test_get_caller_identity_is_never_a_change_nor_a_grant(
    catalog: Catalog, other: list[dict[str, Any]]
) -> None:
    named = doc(allow(["s3:GetObject", "sts:GetCallerIdentity"]))
    for before, after in ((named, doc(*other)), (doc(*other), named)):
        result = diff_policies(before, after, catalog)
        assert "sts:GetCallerIdentity" not in result.added_actions + result.removed_actions
    assert diff_policies(named, named, catalog).existing_grants == 2
