from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings

from alpha.catalog import Catalog
from alpha.policy.errors import PolicyError, PolicyParseError
from alpha.policy.model import (
    ActionList,
    Condition,
    Effect,
    NotActionList,
    NotPrincipalMap,
    NotResourceList,
    Policy,
    PrincipalMap,
    ResourceList,
    Statement,
)
from alpha.policy.parse import parse_policy, parse_policy_text, read_policy_file
from alpha.policy.validate import validate
from tests.hostile_documents import damaged, policies, value_or_one_line_error

V = "2012-10-17"


def allow(action: Any = "s3:GetObject", **elements: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": "*", **elements}


def doc(*statements: object, **top: Any) -> dict[str, Any]:
    return {"Version": V, "Statement": list(statements), **top}


def one(statement: Statement) -> Policy:
    return Policy((statement,), V)


GET = ActionList(("s3:GetObject",))
ALL = ResourceList(("*",))


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        pytest.param(
            {"Version": V, "Statement": allow()},
            one(Statement(Effect.ALLOW, GET, ALL)),
            id="statement-as-object",
        ),
        pytest.param(
            doc(allow(), {"Effect": "Deny", "Action": "*", "Resource": "*"}),
            Policy(
                (
                    Statement(Effect.ALLOW, GET, ALL),
                    Statement(Effect.DENY, ActionList(("*",)), ALL),
                ),
                V,
            ),
            id="statement-list",
        ),
        pytest.param({"Statement": []}, Policy((), None), id="empty-list-no-version"),
        pytest.param(
            {"Version": "2008-10-17", "Id": "p1", "Statement": [allow()]},
            Policy((Statement(Effect.ALLOW, GET, ALL),), "2008-10-17", "p1"),
            id="legacy-version-and-id",
        ),
        pytest.param(
            doc(allow(["s3:GetObject", "s3:Put*"])),
            one(Statement(Effect.ALLOW, ActionList(("s3:GetObject", "s3:Put*")), ALL)),
            id="action-list",
        ),
        pytest.param(
            doc({"Effect": "Deny", "NotAction": "iam:*", "NotResource": ["arn:aws:s3:::b"]}),
            one(
                Statement(
                    Effect.DENY,
                    NotActionList(("iam:*",)),
                    NotResourceList(("arn:aws:s3:::b",)),
                )
            ),
            id="not-action-not-resource",
        ),
        pytest.param(
            doc({"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": "*"}),
            one(
                Statement(
                    Effect.ALLOW,
                    ActionList(("sts:AssumeRole",)),
                    principal=PrincipalMap((("*", ("*",)),)),
                )
            ),
            id="principal-star-no-resource",
        ),
        pytest.param(
            doc(
                allow(
                    Principal={
                        "AWS": ["arn:aws:iam::111122223333:root", "444455556666"],
                        "Service": "lambda.amazonaws.com",
                    }
                )
            ),
            one(
                Statement(
                    Effect.ALLOW,
                    GET,
                    ALL,
                    principal=PrincipalMap(
                        (
                            ("AWS", ("arn:aws:iam::111122223333:root", "444455556666")),
                            ("Service", ("lambda.amazonaws.com",)),
                        )
                    ),
                )
            ),
            id="principal-map",
        ),
        pytest.param(
            doc(allow(NotPrincipal={"Federated": "cognito-identity.amazonaws.com"})),
            one(
                Statement(
                    Effect.ALLOW,
                    GET,
                    ALL,
                    principal=NotPrincipalMap(
                        (("Federated", ("cognito-identity.amazonaws.com",)),)
                    ),
                )
            ),
            id="not-principal",
        ),
        pytest.param(
            doc(
                allow(
                    Sid="Read",
                    Condition={
                        "StringEquals": {"aws:PrincipalTag/team": ["a", "b"], "s3:prefix": "x/"},
                        "NumericLessThan": {"s3:max-keys": 10},
                        "NumericGreaterThan": {"aws:MultiFactorAuthAge": 1.5},
                        "Bool": {"aws:SecureTransport": True},
                        "ForAnyValue:StringLikeIfExists": {"aws:TagKeys": ["env", 7, False]},
                    },
                )
            ),
            one(
                Statement(
                    Effect.ALLOW,
                    GET,
                    ALL,
                    (
                        Condition("StringEquals", "aws:PrincipalTag/team", ("a", "b")),
                        Condition("StringEquals", "s3:prefix", ("x/",)),
                        Condition("NumericLessThan", "s3:max-keys", ("10",)),
                        Condition("NumericGreaterThan", "aws:MultiFactorAuthAge", ("1.5",)),
                        Condition("Bool", "aws:SecureTransport", ("true",)),
                        Condition(
                            "ForAnyValue:StringLikeIfExists", "aws:TagKeys", ("env", "7", "false")
                        ),
                    ),
                    sid="Read",
                )
            ),
            id="condition-value-types",
        ),
        pytest.param(
            doc(allow(Condition={"Null": {"aws:TokenIssueTime": "true"}})),
            one(
                Statement(
                    Effect.ALLOW, GET, ALL, (Condition("Null", "aws:TokenIssueTime", ("true",)),)
                )
            ),
            id="null-operator",
        ),
    ],
)
def test_accepts(document: dict[str, Any], expected: Policy) -> None:
    assert parse_policy(document) == expected
    assert parse_policy_text(json.dumps(document)) == expected


def problems_of(document: Any) -> list[tuple[str, str]]:
    text = document if isinstance(document, str) else json.dumps(document)
    with pytest.raises(PolicyParseError) as caught:
        parse_policy_text(text, "p.json")
    return [(p.path, p.code) for p in caught.value.problems]


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        pytest.param('{"Statement": [', [("line 1 column 16", "NOT_JSON")], id="truncated"),
        pytest.param(
            '{\n  "Version": "2012-10-17",\n  "Statement": [}\n',
            [("line 3 column 17", "NOT_JSON")],
            id="not-json-line-column",
        ),
        pytest.param('{"Statement": NaN}', [("line 1 column 15", "NOT_JSON")], id="nan"),
        pytest.param('{"a": "NaN",\n "b": -Infinity}', [("line 2 column 7", "NOT_JSON")], id="inf"),
        pytest.param("[" * 100_000, [("line 1 column 501", "NOT_JSON")], id="nested-too-deeply"),
        pytest.param(
            '{"Statement": [], "Statement": []}',
            [("line 1 column 19", "DUPLICATE_KEY")],
            id="duplicate-key",
        ),
        pytest.param(
            '{"a": {"k": 1}, "b": {"k": 1, "\\u006b": 2}}',
            [("line 1 column 31", "DUPLICATE_KEY")],
            id="duplicate-key-escaped-in-an-inner-object",
        ),
        pytest.param(
            '{"Statement": [],\n "n": 1.5, "x": ' + "9" * 4301 + "}",
            [("line 2 column 17", "NOT_JSON")],
            id="integer-past-python-digit-limit",
        ),
        pytest.param('{"n": [1, 1e999]}', [("line 1 column 11", "NOT_JSON")], id="float-overflow"),
        pytest.param('{"Sid": "\\ud800"}', [("line 1 column 9", "NOT_JSON")], id="lone-surrogate"),
        pytest.param([], [("", "INVALID_TYPE")], id="top-level-list"),
        pytest.param(
            {"Statment": []},
            [("Statment", "UNKNOWN_ELEMENT"), ("Statement", "MISSING_ELEMENT")],
            id="misspelt-statement",
        ),
        pytest.param(
            {"Version": "2024-01-01", "Statement": []},
            [("Version", "INVALID_VERSION")],
            id="version-is-not-a-date",
        ),
        pytest.param({"Id": 5, "Statement": []}, [("Id", "INVALID_TYPE")], id="id-number"),
        pytest.param({"Statement": "x"}, [("Statement", "INVALID_TYPE")], id="statement-string"),
        pytest.param(
            doc(allow(), ["x"]), [("Statement[1]", "INVALID_TYPE")], id="statement-not-object"
        ),
        pytest.param(
            doc({"Effect": "Allow", "Actions": "s3:*", "Resource": "*"}),
            [
                ("Statement[0].Actions", "UNKNOWN_ELEMENT"),
                ("Statement[0].Action", "MISSING_ELEMENT"),
            ],
            id="misspelt-action",
        ),
        pytest.param(
            doc({"Action": "s3:*", "Resource": "*"}),
            [("Statement[0].Effect", "MISSING_ELEMENT")],
            id="missing-effect",
        ),
        pytest.param(
            doc(allow(), {"Effect": "allow", "Action": "s3:*", "Resource": "*"}),
            [("Statement[1].Effect", "UNKNOWN_EFFECT")],
            id="effect-is-case-sensitive",
        ),
        pytest.param(
            doc(allow(NotAction="s3:*")),
            [("Statement[0].NotAction", "ACTION_AND_NOTACTION")],
            id="action-and-notaction",
        ),
        pytest.param(
            doc(allow(NotResource="*")),
            [("Statement[0].NotResource", "RESOURCE_AND_NOTRESOURCE")],
            id="resource-and-notresource",
        ),
        pytest.param(
            doc(allow(Principal="*", NotPrincipal="*")),
            [("Statement[0].NotPrincipal", "PRINCIPAL_AND_NOTPRINCIPAL")],
            id="principal-and-notprincipal",
        ),
        pytest.param(
            doc(allow(["s3:GetObject", 5, None])),
            [
                ("Statement[0].Action[1]", "INVALID_TYPE"),
                ("Statement[0].Action[2]", "INVALID_TYPE"),
            ],
            id="action-list-items",
        ),
        pytest.param(doc(allow([])), [("Statement[0].Action", "EMPTY_VALUE")], id="empty-action"),
        pytest.param(
            doc(allow(Resource={"arn": "x"})),
            [("Statement[0].Resource", "INVALID_TYPE")],
            id="resource-object",
        ),
        pytest.param(doc(allow(Sid=1)), [("Statement[0].Sid", "INVALID_TYPE")], id="sid-number"),
        pytest.param(
            doc(allow(Principal="arn:aws:iam::111122223333:root")),
            [("Statement[0].Principal", "INVALID_TYPE")],
            id="principal-string-not-star",
        ),
        pytest.param(
            doc(allow(Principal={"AWS": 1})),
            [("Statement[0].Principal.AWS", "INVALID_TYPE")],
            id="principal-id-number",
        ),
        pytest.param(
            doc(allow(Condition=["x"])),
            [("Statement[0].Condition", "INVALID_TYPE")],
            id="condition-list",
        ),
        pytest.param(
            doc(allow(Condition={"StringEqual": {"aws:username": "a"}})),
            [("Statement[0].Condition.StringEqual", "UNKNOWN_OPERATOR")],
            id="unknown-operator",
        ),
        pytest.param(
            doc(allow(Condition={"ForAnyValue:Null": {"aws:TagKeys": "true"}})),
            [("Statement[0].Condition.ForAnyValue:Null", "UNKNOWN_OPERATOR")],
            id="set-qualified-null",
        ),
        pytest.param(
            doc(allow(Condition={"stringequals": {"aws:username": "a"}})),
            [("Statement[0].Condition.stringequals", "UNKNOWN_OPERATOR")],
            id="operator-is-case-sensitive",
        ),
        pytest.param(
            doc(allow(Condition={"StringEquals": "a"})),
            [("Statement[0].Condition.StringEquals", "INVALID_TYPE")],
            id="condition-block-string",
        ),
        pytest.param(
            doc(allow(Condition={"StringEquals": {"aws:username": None}})),
            [("Statement[0].Condition.StringEquals.aws:username", "INVALID_TYPE")],
            id="condition-value-null",
        ),
        pytest.param(
            doc(allow(Condition={"StringEquals": {"aws:username": ["a", {"b": 1}]}})),
            [("Statement[0].Condition.StringEquals.aws:username[1]", "INVALID_TYPE")],
            id="condition-value-object-in-list",
        ),
        pytest.param(
            doc(allow(Condition={"StringEquals": {"aws:username": []}})),
            [("Statement[0].Condition.StringEquals.aws:username", "EMPTY_VALUE")],
            id="condition-values-empty",
        ),
        pytest.param(
            doc({"Effect": "Maybe", "Action": 1}, allow(Extra=1)),
            [
                ("Statement[0].Effect", "UNKNOWN_EFFECT"),
                ("Statement[0].Action", "INVALID_TYPE"),
                ("Statement[1].Extra", "UNKNOWN_ELEMENT"),
            ],
            id="collects-every-problem",
        ),
    ],
)
def test_rejects_with_the_exact_place(document: Any, expected: list[tuple[str, str]]) -> None:
    assert problems_of(document) == expected


@pytest.mark.parametrize(
    ("sid", "expected"),
    [
        ('"\\ud83d\\ude00"', "\U0001f600"),  # a pair is one character
        ('"\\\\ud800"', "\\ud800"),  # a backslash, then text
    ],
)
def test_surrogate_pairs_and_escaped_backslashes_are_read(sid: str, expected: str) -> None:
    body = {"Version": "2012-10-17", "Statement": [allow(Sid="x")]}
    text = json.dumps(body).replace('"x"', sid)
    assert parse_policy_text(text).statements[0].sid == expected


def test_a_raw_lone_surrogate_is_refused() -> None:
    text = json.dumps({"Version": "2012-10-17", "Statement": [allow(Sid="x")]}, ensure_ascii=False)
    with pytest.raises(PolicyParseError, match="surrogate pair"):
        parse_policy_text(text.replace('"x"', '"\ud800"'))


def test_error_message_names_source_place_and_count() -> None:
    with pytest.raises(PolicyParseError) as caught:
        parse_policy_text(json.dumps(doc({"Effect": "Maybe", "Action": 1})), "role.json")
    assert str(caught.value) == (
        "role.json: Statement[0].Effect: must be 'Allow' or 'Deny', not 'Maybe' (and 1 more)"
    )


def test_not_json_message_names_line_and_column() -> None:
    with pytest.raises(PolicyParseError) as caught:
        parse_policy_text('{\n"Statement": [}', "p.json")
    assert str(caught.value).startswith("p.json: line 2 column 15: not JSON")


def test_read_policy_file_accepts_a_byte_order_mark(tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(doc(allow())).encode())
    assert read_policy_file(path).statements[0].action == GET


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("missing.json", r"missing\.json: cannot read: No such file or directory$"),
        (".", r": cannot read: Is a directory$"),
        ("a\0b.json", r"a\\x00b\.json: cannot read: embedded null byte$"),
    ],
)
def test_read_policy_file_names_an_unreadable_file(tmp_path: Path, name: str, message: str) -> None:
    with pytest.raises(PolicyError, match=message):
        read_policy_file(tmp_path / name)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(policies().flatmap(damaged))
@example("1e+311e999")  # a too-large number followed by junk: the locator read it as one number
def test_any_text_is_a_policy_or_one_line_error(text: str) -> None:
    value_or_one_line_error(lambda: parse_policy_text(text, "p.json"), PolicyParseError)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(policies().flatmap(damaged))
def test_lint_reports_any_text_as_one_line_findings(catalog: Catalog, text: str) -> None:
    for finding in validate(text, catalog):
        for part in (finding.path, finding.message):
            assert all(ch.isprintable() for ch in part), repr(part)
