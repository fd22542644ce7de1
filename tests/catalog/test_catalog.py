from __future__ import annotations

import json
from pathlib import Path

import pytest

from alpha.catalog import AccessLevel, Catalog, CatalogError, load_catalog, read_catalog


def test_load_catalog_is_cached() -> None:
    assert load_catalog() is load_catalog()


def test_catalog_has_the_reference_size(catalog: Catalog) -> None:
    assert len(catalog.services) > 400
    assert len(catalog.actions()) > 20_000
    assert catalog.version.updated_at.year >= 2026


@pytest.mark.parametrize(
    ("written", "canonical", "level"),
    [
        ("s3:GetObject", "s3:GetObject", AccessLevel.READ),
        ("S3:GETOBJECT", "s3:GetObject", AccessLevel.READ),
        ("s3:ListBucket", "s3:ListBucket", AccessLevel.LIST),
        ("iam:PutRolePolicy", "iam:PutRolePolicy", AccessLevel.PERMISSIONS_MANAGEMENT),
        ("iam:PassRole", "iam:PassRole", AccessLevel.WRITE),
        ("ec2:CreateTags", "ec2:CreateTags", AccessLevel.TAGGING),
        ("lambda:InvokeFunction", "lambda:InvokeFunction", AccessLevel.WRITE),
    ],
)
def test_action_lookup_is_case_insensitive(
    catalog: Catalog, written: str, canonical: str, level: AccessLevel
) -> None:
    action = catalog.action(written)
    assert action is not None
    assert action.key == canonical
    assert action.access_level is level


def test_unknown_action_is_none(catalog: Catalog) -> None:
    assert catalog.action("s3:NotCreateBucket") is None
    assert catalog.action("nosuchservice:Get") is None


def test_mixed_access_levels_take_the_strongest(catalog: Catalog) -> None:
    # The reference writes some as "Permissions management, Write".
    levels = {a.access_level for a in catalog.actions()}
    assert levels == set(AccessLevel)


@pytest.mark.parametrize(
    ("pattern", "must_include", "must_exclude"),
    [
        ("s3:Get*", "s3:GetObject", "s3:PutObject"),
        ("s3:get*", "s3:GetBucketPolicy", "s3:ListBucket"),
        ("s3:?etObject", "s3:GetObject", "s3:GetObjectAcl"),
        ("*", "ec2:RunInstances", None),
        ("*:GetObject", "s3:GetObject", "s3:PutObject"),
        ("iam:*Role*", "iam:PassRole", "iam:CreateUser"),
    ],
)
def test_expand_wildcards(
    catalog: Catalog, pattern: str, must_include: str, must_exclude: str | None
) -> None:
    keys = {a.key for a in catalog.expand(pattern)}
    assert must_include in keys
    if must_exclude is not None:
        assert must_exclude not in keys


def test_expand_exact_and_unknown(catalog: Catalog) -> None:
    assert [a.key for a in catalog.expand("s3:getobject")] == ["s3:GetObject"]
    assert catalog.expand("s3:Nope*") == ()


def test_expand_star_is_every_action(catalog: Catalog) -> None:
    assert len(catalog.expand("*")) == len(catalog.actions())


@pytest.mark.parametrize(
    ("action", "arn", "type_name"),
    [
        ("s3:GetObject", "arn:aws:s3:::bucket/key/with/slashes", "object"),
        ("s3:ListBucket", "arn:aws:s3:::bucket", "bucket"),
        ("dynamodb:Query", "arn:aws:dynamodb:us-east-1:123456789012:table/t/index/i", "index"),
        ("iam:PassRole", "arn:aws:iam::123456789012:role/path/app", "role"),
        ("lambda:InvokeFunction", "arn:aws-cn:lambda:cn-north-1:1:function:f:prod", "function"),
    ],
)
def test_resource_type_arn_patterns(
    catalog: Catalog, action: str, arn: str, type_name: str
) -> None:
    found = catalog.action(action)
    assert found is not None
    matching = [r.name for r in catalog.resource_types_of(found) if r.arn_pattern().match(arn)]
    assert type_name in matching


def test_bucket_pattern_does_not_match_objects(catalog: Catalog) -> None:
    bucket = catalog.resource_type("s3", "bucket")
    assert bucket is not None
    assert not bucket.arn_pattern().match("arn:aws:s3:::bucket/key")


def test_resource_level_support(catalog: Catalog) -> None:
    listing = catalog.action("s3:ListAllMyBuckets")
    reading = catalog.action("s3:GetObject")
    assert listing is not None
    assert reading is not None
    assert not listing.supports_resource_level
    assert reading.supports_resource_level


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("aws:RequestedRegion", "aws:RequestedRegion"),
        ("AWS:SourceIp", "aws:SourceIp"),
        ("aws:PrincipalTag/team", "aws:PrincipalTag/*"),
        ("s3:prefix", "s3:prefix"),
        ("s3:ExistingObjectTag/owner", "s3:ExistingObjectTag/<key>"),
        ("aws:ResourceTag/env", "aws:ResourceTag/*"),
    ],
)
def test_condition_keys(catalog: Catalog, key: str, expected: str) -> None:
    found = catalog.condition_key(key)
    assert found is not None
    assert found.name == expected


def test_unknown_condition_key(catalog: Catalog) -> None:
    assert catalog.condition_key("s3:nosuchkey") is None


def test_read_catalog_reports_a_broken_folder(tmp_path: Path) -> None:
    (tmp_path / "metadata.json").write_text(json.dumps({"version": "x"}))
    with pytest.raises(CatalogError, match=str(tmp_path)):
        read_catalog(tmp_path)


def test_read_catalog_from_a_minimal_folder(tmp_path: Path) -> None:
    (tmp_path / "actions").mkdir()
    (tmp_path / "metadata.json").write_text(
        json.dumps({"version": "1", "updatedAt": "2026-01-02T03:04:05.000Z"})
    )
    (tmp_path / "services.json").write_text(json.dumps(["demo"]))
    (tmp_path / "serviceNames.json").write_text(json.dumps({"demo": "Demo"}))
    (tmp_path / "actions" / "demo.json").write_text(
        json.dumps(
            {
                "doit": {
                    "name": "DoIt",
                    "accessLevel": "Tagging, Write",
                    "resourceTypes": [],
                    "conditionKeys": [],
                }
            }
        )
    )
    catalog = read_catalog(tmp_path)
    action = catalog.action("demo:doit")
    assert action is not None
    assert action.access_level is AccessLevel.TAGGING
    assert catalog.service_name("DEMO") == "Demo"


def test_resource_types_of_a_service(catalog: Catalog) -> None:
    found = catalog.resource_types("S3")
    assert {"bucket", "object"} <= {r.name for r in found}
    assert all(r.service == "s3" for r in found)
    every = [r for s in catalog.services for r in catalog.resource_types(s)]
    assert len(every) == len({(r.service, r.name) for r in every})
    assert catalog.resource_types("no-such-service") == ()
