from __future__ import annotations

import json
from typing import Any

import pytest

from alpha.catalog import Catalog
from alpha.policy.findings import POLICY_FINDINGS, FindingKind, Registry, Severity
from alpha.policy.parse import parse_policy
from alpha.policy.validate import (
    INLINE_POLICY_QUOTAS,
    MANAGED_POLICY_QUOTA,
    InlineOwner,
    PolicyPlacement,
    inline_size,
    inline_size_findings,
    policy_size,
    validate,
)

V = "2012-10-17"
BUCKET = "arn:aws:s3:::example-bucket"
OBJECTS = f"{BUCKET}/*"
ROLE = "arn:aws:iam::111122223333:role/app"


def stmt(action: Any = "s3:GetObject", resource: Any = OBJECTS, **more: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **more}


def doc(*statements: dict[str, Any], version: str | None = V) -> str:
    document: dict[str, Any] = {"Statement": list(statements)}
    if version is not None:
        document = {"Version": version, **document}
    return json.dumps(document, indent=2, ensure_ascii=False)


def cond(operator: str, key: str, value: Any) -> dict[str, Any]:
    return stmt(Condition={operator: {key: value}})


def padded_to(size: int) -> str:
    """A valid policy of more than `size` characters, whitespace not counted."""
    count = size // len(BUCKET) + 1
    return doc(stmt("s3:ListBucket", [f"{BUCKET}{i}" for i in range(count)]))


def sized(size: int) -> str:
    """A valid policy of exactly `size` characters, whitespace not counted."""
    base = doc(stmt("s3:GetObject", f"{BUCKET}/"))
    return base.replace(f"{BUCKET}/", f"{BUCKET}/{'k' * (size - policy_size(base))}")


I = PolicyPlacement.IDENTITY  # noqa: E741
R = PolicyPlacement.RESOURCE
M = PolicyPlacement.MANAGED
INLINE = PolicyPlacement.INLINE

# (kind, document, code, path): one row at least for every kind of finding.
CASES: list[tuple[PolicyPlacement, str, str, str]] = [
    (I, '{"Statement": [', "NOT_JSON", "line 1 column 16"),
    (I, '{"Version": "2012-10-17", "Version": "2012-10-17"}', "DUPLICATE_KEY", "line 1 column 27"),
    (I, doc(stmt(resource=5)), "INVALID_TYPE", "Statement[0].Resource"),
    (I, doc(stmt(Resources="*")), "UNKNOWN_ELEMENT", "Statement[0].Resources"),
    (I, doc({"Effect": "Allow", "Resource": "*"}), "MISSING_ELEMENT", "Statement[0].Action"),
    (
        I,
        doc({"Effect": "Allow", "Action": "s3:GetObject"}),
        "MISSING_ELEMENT",
        "Statement[0].Resource",
    ),
    (R, doc(stmt()), "MISSING_ELEMENT", "Statement[0].Principal"),
    (I, doc(stmt([])), "EMPTY_VALUE", "Statement[0].Action"),
    (I, doc(stmt(), version="2012-10-18"), "INVALID_VERSION", "Version"),
    (I, doc({**stmt(), "Effect": "Permit"}), "UNKNOWN_EFFECT", "Statement[0].Effect"),
    (I, doc(stmt(NotAction="s3:*")), "ACTION_AND_NOTACTION", "Statement[0].NotAction"),
    (I, doc(stmt(NotResource="*")), "RESOURCE_AND_NOTRESOURCE", "Statement[0].NotResource"),
    (
        R,
        doc(stmt(Principal="*", NotPrincipal="*")),
        "PRINCIPAL_AND_NOTPRINCIPAL",
        "Statement[0].NotPrincipal",
    ),
    (
        I,
        doc(cond("StringEqualsAny", "aws:username", "a")),
        "UNKNOWN_OPERATOR",
        "Statement[0].Condition.StringEqualsAny",
    ),
    (I, doc(stmt(Sid="Caf\u00e9 \u2013 read")), "INVALID_CHARACTER", "line 8 column 20"),
    (I, doc(stmt(Principal={"AWS": ROLE})), "UNEXPECTED_PRINCIPAL", "Statement[0].Principal"),
    (R, doc(stmt(Principal={"Aws": ROLE})), "UNKNOWN_PRINCIPAL_TYPE", "Statement[0].Principal.Aws"),
    (I, doc(stmt(["s3:GetObject", "s3 GetObject"])), "MALFORMED_ACTION", "Statement[0].Action[1]"),
    (I, doc(stmt("s3"), stmt()), "MALFORMED_ACTION", "Statement[0].Action[0]"),
    (I, doc(stmt(), stmt("s4:GetObject")), "UNKNOWN_SERVICE", "Statement[1].Action[0]"),
    (I, doc(stmt(["s3:GetObject", "s3:GetObjects"])), "UNKNOWN_ACTION", "Statement[0].Action[1]"),
    (I, doc(stmt("s3:Fetch*")), "UNKNOWN_ACTION", "Statement[0].Action[0]"),
    (
        I,
        doc(stmt(resource=["*", "arn:aws:s3:example-bucket"])),
        "MALFORMED_ARN",
        "Statement[0].Resource[1]",
    ),
    (I, doc(stmt(resource="arn:AWS:s3:::b")), "MALFORMED_ARN", "Statement[0].Resource[0]"),
    (I, doc(stmt(resource="arn:aws:s3:::")), "MALFORMED_ARN", "Statement[0].Resource[0]"),
    (
        I,
        doc(stmt(["s3:GetObject", "s3:ListBucket"], [OBJECTS, ROLE])),
        "RESOURCE_TYPE_MISMATCH",
        "Statement[0].Resource[1]",
    ),
    (
        I,
        doc(stmt("s3:ListAllMyBuckets", BUCKET)),
        "RESOURCE_TYPE_MISMATCH",
        "Statement[0].Resource[0]",
    ),
    (
        I,
        doc(stmt(["s3:GetObject", "s3:ListBucket"], OBJECTS)),
        "ACTION_RESOURCE_MISMATCH",
        "Statement[0].Action[1]",
    ),
    (
        I,
        doc(stmt(["s3:GetObject", "s3:ListAllMyBuckets"], OBJECTS)),
        "ACTION_RESOURCE_MISMATCH",
        "Statement[0].Action[1]",
    ),
    (
        I,
        doc(cond("StringEquals", "aws:UserNmae", "a"), stmt()),
        "UNKNOWN_CONDITION_KEY",
        "Statement[0].Condition.StringEquals.aws:UserNmae",
    ),
    (
        I,
        doc(cond("NumericEquals", "aws:username", "5")),
        "CONDITION_TYPE_MISMATCH",
        "Statement[0].Condition.NumericEquals.aws:username",
    ),
    (
        I,
        doc(cond("StringEquals", "aws:SecureTransport", "true")),
        "CONDITION_TYPE_MISMATCH",
        "Statement[0].Condition.StringEquals.aws:SecureTransport",
    ),
    (
        I,
        doc(cond("ArnLike", "aws:username", "arn:*")),
        "CONDITION_TYPE_MISMATCH",
        "Statement[0].Condition.ArnLike.aws:username",
    ),
    (
        I,
        doc(cond("NumericLessThan", "aws:MultiFactorAuthAge", ["3600", "1h"])),
        "INVALID_CONDITION_VALUE",
        "Statement[0].Condition.NumericLessThan.aws:MultiFactorAuthAge[1]",
    ),
    (
        I,
        doc(cond("IpAddress", "aws:SourceIp", "10.0.0.0/33")),
        "INVALID_CONDITION_VALUE",
        "Statement[0].Condition.IpAddress.aws:SourceIp[0]",
    ),
    (
        I,
        doc(cond("DateLessThan", "aws:CurrentTime", "next week")),
        "INVALID_CONDITION_VALUE",
        "Statement[0].Condition.DateLessThan.aws:CurrentTime[0]",
    ),
    (
        I,
        doc(cond("Bool", "aws:SecureTransport", "yes")),
        "INVALID_CONDITION_VALUE",
        "Statement[0].Condition.Bool.aws:SecureTransport[0]",
    ),
    (
        I,
        doc(cond("ForAllValues:StringEquals", "aws:RequestedRegion", "eu-west-1")),
        "SET_OPERATOR_ON_SINGLE_VALUED_KEY",
        "Statement[0].Condition.ForAllValues:StringEquals.aws:RequestedRegion",
    ),
    (
        I,
        doc(cond("StringEquals", "aws:TagKeys", "team")),
        "MULTIVALUED_KEY_WITHOUT_SET_OPERATOR",
        "Statement[0].Condition.StringEquals.aws:TagKeys",
    ),
    (M, padded_to(MANAGED_POLICY_QUOTA), "SIZE_QUOTA_MANAGED", ""),
    (INLINE, padded_to(INLINE_POLICY_QUOTAS[InlineOwner.ROLE]), "SIZE_QUOTA_INLINE", ""),
    (I, doc(), "EMPTY_STATEMENT_LIST", "Statement"),
    (
        I,
        doc(stmt(resource="arn:aws:s3:::b/${aws:username}/*"), version="2008-10-17"),
        "LEGACY_VERSION",
        "Version",
    ),
    (I, doc(stmt(), version=None), "LEGACY_VERSION", "Version"),
    (I, doc(stmt(Sid="A"), stmt("s3:PutObject", Sid="A")), "DUPLICATE_SID", "Statement[1].Sid"),
    (
        I,
        doc(stmt(Sid="A"), stmt("s3:PutObject"), stmt(Sid="B")),
        "DUPLICATE_STATEMENT",
        "Statement[2]",
    ),
    (I, doc(stmt(["s3:GetObject", "S3:GETOBJECT"])), "DUPLICATE_VALUE", "Statement[0].Action[1]"),
    (I, doc(stmt(resource=[OBJECTS, OBJECTS])), "DUPLICATE_VALUE", "Statement[0].Resource[1]"),
    (
        I,
        doc(cond("StringEquals", "aws:username", ["a", "b", "a"])),
        "DUPLICATE_VALUE",
        "Statement[0].Condition.StringEquals.aws:username[2]",
    ),
    (I, doc(stmt(["s3:GetObject", "s3:Get*"])), "REDUNDANT_PATTERN", "Statement[0].Action[0]"),
    (
        I,
        doc(stmt(resource=[f"{BUCKET}/logs/*", OBJECTS])),
        "REDUNDANT_PATTERN",
        "Statement[0].Resource[0]",
    ),
]


def codes_at(findings: tuple[Any, ...]) -> set[tuple[str, str]]:
    return {(f.code, f.path) for f in findings}


@pytest.mark.parametrize(
    ("kind", "text", "code", "path"), CASES, ids=[f"{c[2]}-{i}" for i, c in enumerate(CASES)]
)
def test_finding_names_code_and_place(
    catalog: Catalog, kind: PolicyPlacement, text: str, code: str, path: str
) -> None:
    findings = validate(text, catalog, kind=kind)
    assert (code, path) in codes_at(findings), findings
    found = next(f for f in findings if (f.code, f.path) == (code, path))
    assert found.severity is POLICY_FINDINGS[code].severity


def test_every_kind_of_finding_has_a_case() -> None:
    assert {code for _, _, code, _ in CASES} == {kind.id for kind in POLICY_FINDINGS}


CLEAN = [
    pytest.param(I, doc(stmt()), id="get-object"),
    pytest.param(
        I,
        doc(
            stmt(
                ["s3:ListBucket"],
                BUCKET,
                Condition={"StringLike": {"s3:prefix": ["home/${aws:username}/*"]}},
            ),
            stmt(["s3:GetObject", "s3:PutObject"], f"{BUCKET}/home/${{aws:username}}/*"),
            stmt("s3:ListAllMyBuckets", "*"),
        ),
        id="home-folders",
    ),
    pytest.param(
        I,
        doc(
            {
                "Effect": "Deny",
                "NotAction": ["iam:*", "sts:*"],
                "Resource": "*",
                "Condition": {
                    "StringNotEquals": {"aws:RequestedRegion": ["eu-west-1"]},
                    "ForAnyValue:StringLike": {"aws:TagKeys": "team*"},
                    "IpAddress": {"aws:SourceIp": ["203.0.113.0/24", "2001:db8::/32"]},
                    "DateGreaterThan": {"aws:CurrentTime": "2026-01-01T00:00:00Z"},
                    "NumericLessThanIfExists": {"aws:EpochTime": "1900000000"},
                    "Bool": {"aws:MultiFactorAuthPresent": "false"},
                    "Null": {"aws:PrincipalTag/team": "true"},
                    "ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/admin-*"},
                    "StringEquals": {
                        "aws:PrincipalTag/team": "data",
                        "ec2:ResourceTag/env": "prod",
                    },
                },
            }
        ),
        id="conditions-of-every-family",
    ),
    pytest.param(
        R,
        doc(
            stmt(
                "sts:AssumeRole",
                Principal={"Service": "lambda.amazonaws.com"},
            )
        ).replace('"Resource": "arn:aws:s3:::example-bucket/*",', ""),
        id="trust-policy-without-resource",
    ),
    pytest.param(
        R,
        doc(stmt(["s3:GetObject"], [OBJECTS], Principal={"AWS": [ROLE, "444455556666"]})),
        id="bucket-policy",
    ),
    pytest.param(M, sized(MANAGED_POLICY_QUOTA), id="managed-at-quota"),
]


@pytest.mark.parametrize(("kind", "text"), CLEAN)
def test_clean_policies_have_no_findings(
    catalog: Catalog, kind: PolicyPlacement, text: str
) -> None:
    assert validate(text, catalog, kind=kind) == ()


def test_parsed_policy_and_text_give_the_same_semantic_findings(catalog: Catalog) -> None:
    text = doc(stmt(["s3:GetObject", "s3:Nope"], [OBJECTS, "bucket"]))
    assert validate(parse_policy(json.loads(text)), catalog) == validate(text, catalog)
    assert {f.code for f in validate(text, catalog)} == {"UNKNOWN_ACTION", "MALFORMED_ARN"}


def test_errors_come_first(catalog: Catalog) -> None:
    text = doc(stmt(["s3:GetObject", "s3:Get*", "s3:Nope"]), version=None)
    severities = [f.severity.rank for f in validate(text, catalog)]
    assert severities == sorted(severities)
    assert severities[0] == Severity.ERROR.rank
    assert severities[-1] == Severity.INFO.rank


def test_size_does_not_count_whitespace() -> None:
    compact = '{"Statement":[]}'
    spaced = '{\n    "Statement" :  [ ]\n}\n'
    assert policy_size(compact) == policy_size(spaced) == len(compact)
    assert policy_size(parse_policy(json.loads(spaced))) == len(compact)


@pytest.mark.parametrize(
    ("owner", "quota"),
    [(InlineOwner.ROLE, 10_240), (InlineOwner.GROUP, 5_120), (InlineOwner.USER, 2_048)],
)
def test_inline_policies_count_together(owner: InlineOwner, quota: int) -> None:
    half = padded_to(quota // 2)
    assert inline_size([half, half]) == 2 * policy_size(half)
    assert [f.code for f in inline_size_findings([half, half], owner)] == ["SIZE_QUOTA_INLINE"]
    assert inline_size_findings([half], owner) == ()


def test_managed_quota_is_exact(catalog: Catalog) -> None:
    at_quota = sized(MANAGED_POLICY_QUOTA)
    assert policy_size(at_quota) == MANAGED_POLICY_QUOTA
    assert validate(at_quota, catalog, kind=M) == ()
    over = at_quota.replace("/k", "/kk")
    assert [f.code for f in validate(over, catalog, kind=M)] == ["SIZE_QUOTA_MANAGED"]


def test_identity_kind_has_no_size_quota(catalog: Catalog) -> None:
    assert validate(padded_to(20_000), catalog, kind=I) == ()


def test_registry_rejects_duplicate_ids_and_unknown_codes() -> None:
    kind = FindingKind("X", "x", Severity.INFO, "help")
    with pytest.raises(ValueError, match="registered twice"):
        Registry((kind, kind))
    registry = Registry((kind,))
    assert registry.finding("X", "m", "p").severity is Severity.INFO
    assert "X" in registry
    assert len(registry) == 1
    with pytest.raises(KeyError):
        registry.finding("Y", "m")


def test_every_kind_has_title_and_help() -> None:
    for kind in POLICY_FINDINGS:
        assert kind.id.isupper()
        assert kind.title
        assert kind.help.endswith(".")
