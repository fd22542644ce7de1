from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings

from alpha.account import (
    AccountError,
    AccountSnapshot,
    AccountState,
    LastUsed,
    PolicyOriginKind,
    Role,
    Tag,
)
from alpha.adapters.local.authorization_details import (
    AuthorizationDetailsFile,
    parse_authorization_details,
    parse_authorization_details_text,
    read_authorization_details,
)
from alpha.policy.model import ActionList, NotActionList, PrincipalMap
from tests.hostile_documents import accounts, damaged, value_or_one_line_error
from tests.sample_accounts import EDGE_CASES_ACCOUNT, EDGE_CASES_PAGES, GENERATED_ACCOUNT

A = "111122223333"


@pytest.fixture(scope="module")
def edge() -> AccountSnapshot:
    return read_authorization_details(EDGE_CASES_ACCOUNT)


def test_generated_account_loads_every_role_and_policy() -> None:
    raw = json.loads(GENERATED_ACCOUNT.read_text())
    snapshot = read_authorization_details(GENERATED_ACCOUNT)
    assert snapshot.account_id == "455383650158"
    assert [r.arn for r in snapshot.roles] == [r["Arn"] for r in raw["RoleDetailList"]]
    assert [p.arn for p in snapshot.policies] == [p["Arn"] for p in raw["Policies"]]
    for role in snapshot.roles:
        effective = snapshot.effective_policies(role.arn)
        assert effective.complete
        assert len(effective.identity) == len(role.inline_policies) + len(role.attached_policies)


def test_generated_account_shares_the_power_user_policy() -> None:
    snapshot = read_authorization_details(GENERATED_ACCOUNT)
    power_user = "arn:aws:iam::455383650158:policy/platform-power-user"
    holders = snapshot.principals_sharing(power_user)
    assert len(holders) == 2
    for holder in holders:
        assert not snapshot.can_edit_in_place(power_user, holder)
    policy = snapshot.managed_policy(power_user)
    assert policy is not None
    assert policy.default_version_id == "v3"
    assert isinstance(policy.document.statements[0].action, NotActionList)
    admin = snapshot.managed_policy("arn:aws:iam::aws:policy/AdministratorAccess")
    assert admin is not None
    assert admin.is_aws_managed
    assert snapshot.principals_sharing(admin.arn) == ()


def test_url_encoded_documents_are_decoded(edge: AccountSnapshot) -> None:
    role = edge.principal(f"arn:aws:iam::{A}:role/service-role/app-role")
    assert isinstance(role, Role)
    inline = role.inline_policy("app-inline")
    assert inline is not None
    statement = inline.document.statements[0]
    assert statement.action == ActionList(("dynamodb:GetItem", "dynamodb:PutItem"))
    assert [(c.operator, c.key, c.values) for c in statement.conditions] == [
        ("StringEquals", "aws:RequestedRegion", ("eu-west-1",))
    ]
    assert role.trust_policy is not None
    assert role.trust_policy.statements[0].principal == PrincipalMap(
        (("Service", ("ec2.amazonaws.com",)),)
    )


def test_role_details_are_kept(edge: AccountSnapshot) -> None:
    role = edge.principal(f"arn:aws:iam::{A}:role/service-role/app-role")
    assert isinstance(role, Role)
    assert role.path == "/service-role/"
    assert role.create_date == datetime(2024, 1, 15, 10, tzinfo=UTC)
    assert role.last_used == LastUsed(datetime(2024, 3, 1, 12, 34, 56, tzinfo=UTC), "eu-west-1")
    assert role.tags == (Tag("team", "orders"), Tag("env", "prod"))
    assert role.instance_profile_arns == (f"arn:aws:iam::{A}:instance-profile/app-profile",)
    assert role.boundary_arn == f"arn:aws:iam::{A}:policy/dev-boundary"


def test_the_default_version_is_the_one_used(edge: AccountSnapshot) -> None:
    policy = edge.managed_policy(f"arn:aws:iam::{A}:policy/dev-tools")
    assert policy is not None
    assert policy.default_version_id == "v2"
    assert policy.version_ids == ("v1", "v2", "v3")
    assert policy.document.statements[0].action == ActionList(
        ("codebuild:StartBuild", "codebuild:BatchGetBuilds")
    )


def test_users_get_their_groups_policies_and_boundary(edge: AccountSnapshot) -> None:
    effective = edge.effective_policies(f"arn:aws:iam::{A}:user/alice")
    assert [(a.origin.kind, a.origin.name, a.origin.group) for a in effective.identity] == [
        (PolicyOriginKind.INLINE, "alice-inline", None),
        (PolicyOriginKind.GROUP_INLINE, "dev-inline", "developers"),
        (PolicyOriginKind.GROUP_MANAGED, "dev-tools", "developers"),
        (PolicyOriginKind.GROUP_MANAGED, "SecurityAudit", "auditors"),
    ]
    assert effective.boundary is not None
    assert effective.complete


def test_missing_aws_managed_policy_and_group_are_unresolved(edge: AccountSnapshot) -> None:
    app = edge.effective_policies(f"arn:aws:iam::{A}:role/service-role/app-role")
    assert [u.describe() for u in app.unresolved] == [
        "managed policy arn:aws:iam::aws:policy/ReadOnlyAccess is not in the snapshot"
    ]
    bob = edge.effective_policies(f"arn:aws:iam::{A}:user/bob")
    assert [u.describe() for u in bob.unresolved] == ["group 'ghost-group' is not in the snapshot"]


def test_shared_managed_policy_is_not_editable_in_place(edge: AccountSnapshot) -> None:
    shared = f"arn:aws:iam::{A}:policy/shared-s3-read"
    assert edge.principals_sharing(shared) == (
        f"arn:aws:iam::{A}:role/batch-role",
        f"arn:aws:iam::{A}:role/service-role/app-role",
    )
    assert not edge.can_edit_in_place(shared, f"arn:aws:iam::{A}:role/batch-role")
    solo = f"arn:aws:iam::{A}:policy/solo-policy"
    assert edge.can_edit_in_place(solo, f"arn:aws:iam::{A}:role/solo-role")


def test_a_list_of_raw_api_pages_equals_the_cli_output(edge: AccountSnapshot) -> None:
    assert read_authorization_details(EDGE_CASES_PAGES) == edge


def test_a_plain_json_string_document_keeps_its_percent_signs() -> None:
    doc = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/100%25-done"}
        ],
    }
    data = {"RoleDetailList": [_role(RolePolicyList=[_inline(json.dumps(doc))])]}
    snapshot = parse_authorization_details(data, "account.json")
    resource = snapshot.roles[0].inline_policies[0].document.statements[0].resource
    assert resource is not None
    assert resource.patterns == ("arn:aws:s3:::b/100%25-done",)


def test_file_state_implements_the_port_and_reads_once(tmp_path: Path) -> None:
    path = tmp_path / "account.json"
    path.write_text(EDGE_CASES_ACCOUNT.read_text())
    state: AccountState = AuthorizationDetailsFile(path)
    first = state.snapshot()
    path.write_text("not json")
    assert state.snapshot() is first
    assert state.name == str(path)
    assert state.principal(f"arn:aws:iam::{A}:role/solo-role").name == "solo-role"
    assert state.effective_policies(f"arn:aws:iam::{A}:role/solo-role").complete


def test_file_errors_name_the_file(tmp_path: Path) -> None:
    path = tmp_path / "account.json"
    path.write_text('{"RoleDetailList": [\n  {"Arn": }]}')
    with pytest.raises(AccountError) as caught:
        read_authorization_details(path)
    assert str(caught.value) == f"{path}: line 2 column 11: not JSON: Expecting value"
    with pytest.raises(AccountError, match=r"missing\.json: cannot read"):
        read_authorization_details(tmp_path / "missing.json")


# --- bad input: every message names the file and the JSON path ----------------------------------


def _role(name: str = "r", account: str = A, **fields: Any) -> dict[str, Any]:
    role: dict[str, Any] = {
        "RoleName": name,
        "Arn": f"arn:aws:iam::{account}:role/{name}",
        "AssumeRolePolicyDocument": {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "lambda.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                }
            ],
        },
    }
    role.update(fields)
    return role


def _doc(effect: str = "Allow") -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [{"Effect": effect, "Action": "s3:GetObject", "Resource": "*"}],
    }


def _inline(document: object, name: str = "p") -> dict[str, Any]:
    return {"PolicyName": name, "PolicyDocument": document}


def _policy(**fields: Any) -> dict[str, Any]:
    policy: dict[str, Any] = {
        "PolicyName": "m",
        "Arn": f"arn:aws:iam::{A}:policy/m",
        "DefaultVersionId": "v1",
        "AttachmentCount": 1,
        "PolicyVersionList": [{"VersionId": "v1", "IsDefaultVersion": True, "Document": _doc()}],
    }
    policy.update(fields)
    return policy


def _four_good_roles_then(bad: dict[str, Any]) -> dict[str, Any]:
    return {"RoleDetailList": [_role(f"r{i}") for i in range(3)] + [bad]}


PERMIT = "Statement[0].Effect: must be 'Allow' or 'Deny', not 'Permit'"

BAD_INPUT = [
    pytest.param(
        [],
        "account.json: an empty list: expected the output of get-account-authorization-details",
        id="empty-list",
    ),
    pytest.param([1], "account.json: [0]: must be an object, not a number", id="page-not-object"),
    pytest.param(
        {"Records": []},
        "account.json: not the output of `aws iam get-account-authorization-details`: "
        "none of UserDetailList, GroupDetailList, RoleDetailList, Policies",
        id="cloudtrail-instead",
    ),
    pytest.param(
        {"RoleDetailList": {}},
        "account.json: RoleDetailList: must be a list, not an object",
        id="list-is-object",
    ),
    pytest.param(
        {"RoleDetailList": ["r"]},
        "account.json: RoleDetailList[0]: must be an object, not a string",
        id="role-not-object",
    ),
    pytest.param(
        {"RoleDetailList": [{"Arn": f"arn:aws:iam::{A}:role/r"}]},
        "account.json: RoleDetailList[0].RoleName: missing",
        id="role-name-missing",
    ),
    pytest.param(
        {"RoleDetailList": [_role(RoleName=7)]},
        "account.json: RoleDetailList[0].RoleName: must be a string, not a number",
        id="role-name-number",
    ),
    pytest.param(
        {"RoleDetailList": [_role(Arn=f"arn:aws:iam::{A}:user/r")]},
        f"account.json: RoleDetailList[0].Arn: 'arn:aws:iam::{A}:user/r' is not an IAM role ARN",
        id="role-arn-of-user",
    ),
    pytest.param(
        {"RoleDetailList": [_role(Arn="arn:aws:iam::aws:role/r")]},
        "account.json: RoleDetailList[0].Arn: 'arn:aws:iam::aws:role/r' is not an IAM role ARN",
        id="role-arn-aws",
    ),
    pytest.param(
        _four_good_roles_then(_role("bad", RolePolicyList=[_inline(_doc("Permit"))])),
        f"account.json: RoleDetailList[3].RolePolicyList[0].PolicyDocument: {PERMIT}",
        id="inline-effect",
    ),
    pytest.param(
        _four_good_roles_then(
            _role("bad", RolePolicyList=[_inline(quote(json.dumps(_doc("Permit")), safe=""))])
        ),
        f"account.json: RoleDetailList[3].RolePolicyList[0].PolicyDocument: {PERMIT}",
        id="url-encoded-inline-effect",
    ),
    pytest.param(
        {"RoleDetailList": [_role(RolePolicyList=[_inline("%7Bnope")])]},
        "account.json: RoleDetailList[0].RolePolicyList[0].PolicyDocument: a string that is "
        "neither JSON nor URL-encoded JSON",
        id="document-not-json",
    ),
    pytest.param(
        {"RoleDetailList": [_role(RolePolicyList=[{"PolicyName": "p"}])]},
        "account.json: RoleDetailList[0].RolePolicyList[0].PolicyDocument: missing",
        id="document-missing",
    ),
    pytest.param(
        {"RoleDetailList": [_role(RolePolicyList=[_inline(_doc()), _inline(_doc())])]},
        "account.json: RoleDetailList[0].RolePolicyList[1].PolicyName: inline policy 'p' "
        "appears twice",
        id="inline-twice",
    ),
    pytest.param(
        {"RoleDetailList": [_role(AssumeRolePolicyDocument={"Statement": "x"})]},
        "account.json: RoleDetailList[0].AssumeRolePolicyDocument: Statement: must be an object "
        "or a list of objects, not a string",
        id="trust-empty",
    ),
    pytest.param(
        {"RoleDetailList": [_role(AttachedManagedPolicies=[{"PolicyName": "m"}])]},
        "account.json: RoleDetailList[0].AttachedManagedPolicies[0].PolicyArn: missing",
        id="attached-arn-missing",
    ),
    pytest.param(
        {
            "RoleDetailList": [
                _role(
                    PermissionsBoundary={
                        "PermissionsBoundaryType": "Policy",
                        "PermissionsBoundaryArn": "nope",
                    }
                )
            ]
        },
        "account.json: RoleDetailList[0].PermissionsBoundary.PermissionsBoundaryArn: 'nope' is "
        "not an IAM policy ARN",
        id="boundary-arn",
    ),
    pytest.param(
        {"RoleDetailList": [_role(CreateDate="yesterday")]},
        "account.json: RoleDetailList[0].CreateDate: 'yesterday' is not an ISO 8601 date",
        id="bad-date",
    ),
    pytest.param(
        {"RoleDetailList": [_role(Tags=[{"Key": "k"}])]},
        "account.json: RoleDetailList[0].Tags[0].Value: missing",
        id="tag-value",
    ),
    pytest.param(
        {"RoleDetailList": [_role("a"), _role("b", account="444455556666")]},
        "account.json: RoleDetailList[1].Arn: account 444455556666 differs from 111122223333 "
        "(RoleDetailList[0].Arn); one file, one account",
        id="two-accounts",
    ),
    pytest.param(
        {"RoleDetailList": [_role("a"), _role("a")]},
        f"account.json: RoleDetailList[1].Arn: arn:aws:iam::{A}:role/a appears twice "
        "(first at RoleDetailList[0])",
        id="duplicate-role",
    ),
    pytest.param(
        {
            "UserDetailList": [
                {"UserName": "u", "Arn": f"arn:aws:iam::{A}:user/u", "GroupList": ["g", 2]}
            ]
        },
        "account.json: UserDetailList[0].GroupList[1]: must be a string, not a number",
        id="group-name-number",
    ),
    pytest.param(
        {
            "GroupDetailList": [
                {
                    "GroupName": "g",
                    "Arn": f"arn:aws:iam::{A}:group/g",
                    "GroupPolicyList": [_inline(_doc("Permit"))],
                }
            ]
        },
        f"account.json: GroupDetailList[0].GroupPolicyList[0].PolicyDocument: {PERMIT}",
        id="group-inline-effect",
    ),
    pytest.param(
        {"Policies": [_policy(DefaultVersionId="v2")]},
        "account.json: Policies[0].PolicyVersionList: no version 'v2' (DefaultVersionId): "
        "the policy's document is unknown",
        id="default-version-missing",
    ),
    pytest.param(
        {
            "Policies": [
                _policy(
                    PolicyVersionList=[
                        {"VersionId": "v1", "IsDefaultVersion": True, "Document": _doc("Permit")}
                    ]
                )
            ]
        },
        f"account.json: Policies[0].PolicyVersionList[0].Document: {PERMIT}",
        id="managed-document-effect",
    ),
    pytest.param(
        {"Policies": [_policy(AttachmentCount="two")]},
        "account.json: Policies[0].AttachmentCount: must be a whole number, not 'two'",
        id="attachment-count",
    ),
    pytest.param(
        {"RoleDetailList": [], "IsTruncated": True, "Marker": "m"},
        "account.json: IsTruncated: true: this is one page of several; save every page "
        "(the AWS CLI merges them)",
        id="truncated",
    ),
    pytest.param(
        [{"RoleDetailList": [_role("a")]}, {"RoleDetailList": [{"Arn": "x"}]}],
        "account.json: [1].RoleDetailList[0].Arn: 'x' is not an IAM role ARN",
        id="second-page",
    ),
]


@pytest.mark.parametrize(("data", "message"), BAD_INPUT)
def test_bad_input_names_file_and_path(data: object, message: str) -> None:
    with pytest.raises(AccountError) as caught:
        parse_authorization_details(copy.deepcopy(data), "account.json")
    assert str(caught.value) == message


@pytest.mark.parametrize(("data", "message"), BAD_INPUT)
def test_the_file_read_an_entity_at_a_time_says_the_same(data: object, message: str) -> None:
    """The text is walked, not decoded whole (a 200,000-role file held 1.7 GB): the same
    messages at the same paths."""
    with pytest.raises(AccountError) as caught:
        parse_authorization_details_text(json.dumps(data), "account.json")
    assert str(caught.value) == message


def test_the_file_read_an_entity_at_a_time_is_the_decoded_document() -> None:
    text = GENERATED_ACCOUNT.read_text(encoding="utf-8")
    extra = '{"Marker": {"any": [1, {"thing": null}]}, "IsTruncated": false, ' + text[1:]
    expected = parse_authorization_details(json.loads(text), "a.json")
    assert parse_authorization_details_text(extra, "a.json") == expected


# --- the file as text: decoded as strictly as a policy file ---------------------------------


def _text(**role_fields: Any) -> str:
    return json.dumps({"RoleDetailList": [_role(**role_fields)]})


def _doc_text(statement: str) -> str:
    return '{"Version": "2012-10-17", "Statement": [' + statement + "]}"


STRICT_TEXT = [
    pytest.param(
        '{"RoleDetailList": [],\n "RoleDetailList": []}',
        "line 2 column 2: duplicate key 'RoleDetailList'",
        id="duplicate-key",
    ),
    pytest.param(
        '{"Policies": [{"AttachmentCount": NaN}]}',
        "line 1 column 35: not JSON: NaN is not a JSON value",
        id="nan",
    ),
    pytest.param(
        '{"Policies": [{"AttachmentCount": -Infinity}]}',
        "line 1 column 35: not JSON: -Infinity is not a JSON value",
        id="infinity",
    ),
    pytest.param(
        '{"Policies": [{"AttachmentCount": ' + "1" * 4301 + "}]}",
        "line 1 column 35: a number of more than 4,300 digits",
        id="integer-past-the-digit-limit",
    ),
    pytest.param(
        '{"Policies": [{"AttachmentCount": 1e400}]}',
        "line 1 column 35: the number 1e400 is too large",
        id="float-overflow",
    ),
    pytest.param(
        '{"RoleDetailList": ' + "[" * 50_000 + "]" * 50_000 + "}",
        "line 1 column 519: not JSON this reader can take: nested more than 500 levels deep",
        id="nested-too-deeply",
    ),
    pytest.param(
        _text(name="x").replace('"RoleName": "x"', '"RoleName": "\\udc00"'),
        "line 1 column 34: not JSON: half a UTF-16 surrogate pair (\\ud800 to \\udfff) is not a "
        "character",
        id="lone-surrogate",
    ),
    pytest.param(
        _text(RolePolicyList=[_inline(_doc_text('{"Effect": "Allow", "Effect": "Deny"}'))]),
        "RoleDetailList[0].RolePolicyList[0].PolicyDocument: line 1 column 61: "
        "duplicate key 'Effect'",
        id="duplicate-key-in-a-string-document",
    ),
    pytest.param(
        _text(RolePolicyList=[_inline(quote(_doc_text('{"Sid": NaN}')))]),
        "RoleDetailList[0].RolePolicyList[0].PolicyDocument: line 1 column 49: "
        "not JSON: NaN is not a JSON value",
        id="nan-in-a-url-encoded-document",
    ),
    pytest.param(
        _text(RoleLastUsed={"LastUsedDate": "0001-01-01T00:00:00+01:00"}),
        "RoleDetailList[0].RoleLastUsed.LastUsedDate: '0001-01-01T00:00:00+01:00' is outside "
        "the years 1 to 9999 in UTC",
        id="date-before-year-1-in-utc",
    ),
    pytest.param(
        _text(name="x\n"),
        "RoleDetailList[0].Arn: 'arn:aws:iam::111122223333:role/x\\n' is not an IAM role ARN",
        id="arn-ending-in-a-line-break",
    ),
    pytest.param(
        _text(CreateDate="9999-12-31T23:00:00-05:00"),
        "RoleDetailList[0].CreateDate: '9999-12-31T23:00:00-05:00' is outside the years 1 to "
        "9999 in UTC",
        id="date-after-9999-in-utc",
    ),
]


@pytest.mark.parametrize(("text", "message"), STRICT_TEXT)
def test_account_text_is_read_as_strictly_as_a_policy(text: str, message: str) -> None:
    with pytest.raises(AccountError) as caught:
        parse_authorization_details_text(text, "account.json")
    assert str(caught.value) == f"account.json: {message}"


def test_dates_are_kept_in_utc() -> None:
    snapshot = parse_authorization_details_text(
        _text(CreateDate="2024-01-01T01:00:00+01:00"), "account.json"
    )
    created = snapshot.roles[0].create_date
    assert created == datetime(2024, 1, 1, tzinfo=UTC)
    assert created is not None
    assert created.tzinfo is UTC


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(accounts().flatmap(damaged))
def test_any_text_is_an_account_or_one_line_error(text: str) -> None:
    value_or_one_line_error(
        lambda: parse_authorization_details_text(text, "account.json"), AccountError
    )


def test_moto_shaped_policies_without_names_or_boundary_counts_are_read() -> None:
    """moto leaves PolicyName, PolicyId and PermissionsBoundaryUsageCount out of `Policies`
    and writes dates with a space; AWS sends all of them. Both read the same."""
    real = json.loads(EDGE_CASES_ACCOUNT.read_text())
    moto_shaped = copy.deepcopy(real)
    for policy in moto_shaped["Policies"]:
        for key in ("PolicyName", "PolicyId", "PermissionsBoundaryUsageCount"):
            policy.pop(key, None)
        policy["CreateDate"] = "2024-01-10 09:00:00+00:00"
    for role in moto_shaped["RoleDetailList"]:
        if "PermissionsBoundary" in role:
            role["PermissionsBoundary"]["PermissionsBoundaryType"] = "PermissionsBoundaryPolicy"
    ours = parse_authorization_details(moto_shaped, "moto")
    theirs = parse_authorization_details(real, "aws")
    assert [(p.arn, p.name) for p in ours.policies] == [(p.arn, p.name) for p in theirs.policies]
    assert [p.name for p in ours.policies][:2] == ["shared-s3-read", "solo-policy"]
    assert ours.effective_policies(ours.roles[0].arn) == theirs.effective_policies(
        theirs.roles[0].arn
    )
