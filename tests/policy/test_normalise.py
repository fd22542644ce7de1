from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alpha.catalog import Catalog, load_catalog
from alpha.policy.evaluate import PolicySet, Request, compile_policy_set
from alpha.policy.model import CURRENT_VERSION, Policy, ResourceList
from alpha.policy.normalise import canonical_action, normalise
from alpha.policy.parse import parse_policy, parse_policy_text
from alpha.policy.serialize import to_document, to_json

V = CURRENT_VERSION


def policy(*statements: dict[str, Any], version: str | None = V) -> Policy:
    document: dict[str, Any] = {"Statement": list(statements)}
    if version is not None:
        document["Version"] = version
    return parse_policy(document)


def allow(action: Any, resource: Any = "*", **more: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **more}


def normalised_document(p: Policy, catalog: Catalog | None) -> dict[str, Any]:
    return to_document(normalise(p, catalog))


# Examples -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "canonical"),
    [
        ("S3:getobject", "s3:GetObject"),
        ("EC2:describeinstances", "ec2:DescribeInstances"),
        ("S3:get*", "s3:get*"),
        ("s3:NoSuchAction", "s3:NoSuchAction"),
        ("*", "*"),
        ("malformed", "malformed"),
    ],
)
def test_canonical_action(catalog: Catalog, written: str, canonical: str) -> None:
    assert canonical_action(written, catalog) == canonical


def test_without_catalog_action_names_keep_their_case() -> None:
    assert canonical_action("S3:getobject") == "s3:getobject"


def test_drops_duplicates_and_covered_actions_and_sorts(catalog: Catalog) -> None:
    written = policy(
        allow(["s3:PutObject", "S3:GETOBJECT", "s3:Get*", "s3:getobject", "ec2:DescribeInstances"])
    )
    assert normalised_document(written, catalog)["Statement"][0]["Action"] == [
        "ec2:DescribeInstances",
        "s3:Get*",
        "s3:PutObject",
    ]


def test_star_action_swallows_the_list(catalog: Catalog) -> None:
    written = policy(allow(["s3:GetObject", "*", "iam:PassRole"]))
    assert normalised_document(written, catalog)["Statement"][0]["Action"] == "*"


def test_not_action_drops_covered_patterns_too(catalog: Catalog) -> None:
    written = policy({"Effect": "Deny", "NotAction": ["iam:*", "iam:PassRole"], "Resource": "*"})
    assert normalised_document(written, catalog)["Statement"][0]["NotAction"] == "iam:*"


def test_resources_are_case_sensitive_and_covered_ones_dropped() -> None:
    written = policy(
        allow(
            "s3:GetObject",
            [
                "arn:aws:s3:::b/Logs/x",
                "arn:aws:s3:::b/logs/*",
                "arn:aws:s3:::b/logs/a",
                "arn:aws:s3:::b/logs/${aws:username}/*",
            ],
        )
    )
    assert normalised_document(written, None)["Statement"][0]["Resource"] == [
        "arn:aws:s3:::b/Logs/x",
        "arn:aws:s3:::b/logs/*",
    ]


def test_a_variable_pattern_never_covers_another() -> None:
    written = policy(allow("s3:GetObject", ["arn:aws:s3:::b/${aws:username}*", "arn:aws:s3:::b/x"]))
    resource = normalise(written).statements[0].resource
    assert isinstance(resource, ResourceList)
    assert len(resource.patterns) == 2


def test_condition_values_deduplicated_sorted_and_grouped() -> None:
    written = policy(
        allow(
            "s3:ListBucket",
            Condition={
                "StringLike": {"s3:prefix": ["b/*", "a/*", "b/*"]},
                "Bool": {"aws:SecureTransport": "true"},
                "StringEquals": {"aws:PrincipalTag/team": "x", "AWS:PrincipalTag/Team": "y"},
            },
        )
    )
    assert normalised_document(written, None)["Statement"][0]["Condition"] == {
        "Bool": {"aws:SecureTransport": "true"},
        "StringEquals": {"AWS:PrincipalTag/Team": "y", "aws:PrincipalTag/team": "x"},
        "StringLike": {"s3:prefix": ["a/*", "b/*"]},
    }


def test_drops_repeated_statements_but_never_merges_different_ones() -> None:
    first = allow("s3:GetObject", "arn:aws:s3:::a/*", Sid="One")
    again = allow("S3:GetObject", ["arn:aws:s3:::a/*"], Sid="Two")
    other_resource = allow("s3:GetObject", "arn:aws:s3:::b/*")
    with_condition = allow(
        "s3:GetObject", "arn:aws:s3:::a/*", Condition={"Bool": {"aws:SecureTransport": "true"}}
    )
    written = policy(first, again, other_resource, with_condition)
    statements = normalise(written).statements
    assert len(statements) == 3
    assert statements[0].sid == "One"


def test_principals_sorted_and_deduplicated() -> None:
    written = policy(
        allow(
            "s3:GetObject",
            Principal={"Service": "b.amazonaws.com", "AWS": ["2", "1", "2"]},
        )
    )
    assert normalised_document(written, None)["Statement"][0]["Principal"] == {
        "AWS": ["1", "2"],
        "Service": "b.amazonaws.com",
    }


@pytest.mark.parametrize(
    ("version", "resource", "expected"),
    [
        (None, "arn:aws:s3:::b/*", V),
        (None, "arn:aws:s3:::b/${aws:username}/*", None),
        ("2008-10-17", "arn:aws:s3:::b/*", "2008-10-17"),
        (V, "arn:aws:s3:::b/${aws:username}/*", V),
    ],
)
def test_version_added_only_when_it_cannot_change_meaning(
    version: str | None, resource: str, expected: str | None
) -> None:
    written = policy(allow("s3:GetObject", resource), version=version)
    assert normalise(written).version == expected


def test_variable_in_a_condition_value_also_keeps_version_missing() -> None:
    written = policy(
        allow("s3:ListBucket", Condition={"StringLike": {"s3:prefix": "${aws:username}/*"}}),
        version=None,
    )
    assert normalise(written).version is None


# Properties ---------------------------------------------------------------------------------

ACTIONS = [
    "*",
    "s3:*",
    "s3:Get*",
    "s3:GetObject",
    "S3:getobject",
    "s3:Get?bject",
    "s3:List*",
    "s3:ListBucket",
    "s3:PutObject",
    "ec2:Describe*",
    "ec2:DescribeInstances",
    "iam:PassRole",
]
RESOURCES = [
    "*",
    "arn:aws:s3:::b",
    "arn:aws:s3:::b*",
    "arn:aws:s3:::b/*",
    "arn:aws:s3:::b/a/*",
    "arn:aws:s3:::b/a/x",
    "arn:aws:s3:::b/?/x",
    "arn:aws:s3:::b/?",
    "arn:aws:s3:::B/*",
    "arn:aws:s3:::b/${aws:username}/*",
    "arn:aws:s3:::b/${aws:username}",
    "arn:aws:s3:::b/${*}",
    "arn:aws:iam::111122223333:role/*",
    "arn:aws:iam::111122223333:role/app",
]
CONDITIONS: list[tuple[str, str, list[str]]] = [
    ("StringEquals", "aws:PrincipalTag/team", ["data", "ops"]),
    ("StringEquals", "aws:PrincipalTag/team", ["ops", "data", "ops"]),
    ("StringLike", "s3:prefix", ["home/${aws:username}/*", "public/*"]),
    ("StringNotEquals", "aws:RequestedRegion", ["eu-west-1"]),
    ("Bool", "aws:SecureTransport", ["true"]),
    ("NumericLessThan", "s3:max-keys", ["100"]),
    ("IpAddress", "aws:SourceIp", ["10.0.0.0/8", "10.0.0.0/8"]),
    ("ForAnyValue:StringEquals", "aws:TagKeys", ["team", "env"]),
    ("Null", "aws:PrincipalTag/team", ["false"]),
]


@st.composite
def statements(draw: st.DrawFn) -> dict[str, Any]:
    element = draw(st.sampled_from(["Action", "NotAction"]))
    resource_element = draw(st.sampled_from(["Resource", "Resource", "NotResource"]))
    statement: dict[str, Any] = {
        "Effect": draw(st.sampled_from(["Allow", "Allow", "Deny"])),
        element: draw(st.lists(st.sampled_from(ACTIONS), min_size=1, max_size=5)),
        resource_element: draw(st.lists(st.sampled_from(RESOURCES), min_size=1, max_size=4)),
    }
    chosen = draw(st.lists(st.sampled_from(CONDITIONS), max_size=3, unique_by=lambda c: c[:2]))
    if chosen:
        block: dict[str, dict[str, list[str]]] = {}
        for operator, key, values in chosen:
            block.setdefault(operator, {})[key] = values
        statement["Condition"] = block
    if draw(st.booleans()):
        statement["Sid"] = draw(st.sampled_from(["A", "B"]))
    return statement


@st.composite
def policies(draw: st.DrawFn) -> Policy:
    chosen = draw(st.lists(statements(), min_size=0, max_size=5))
    if len(chosen) > 0 and draw(st.booleans()):  # exact repeats, which normalise drops
        chosen.append(draw(st.sampled_from(chosen)))
    version = draw(st.sampled_from([V, V, None, "2008-10-17"]))
    return policy(*chosen, version=version)


@st.composite
def requests(draw: st.DrawFn) -> Request:
    context: dict[str, tuple[str, ...]] = {}
    for key, values in [
        ("aws:username", ["a", "alice", "*"]),
        ("aws:PrincipalTag/team", ["data", "ops", "x"]),
        ("s3:prefix", ["home/alice/x", "public/y", "other"]),
        ("aws:RequestedRegion", ["eu-west-1", "us-east-1"]),
        ("aws:SecureTransport", ["true", "false"]),
        ("s3:max-keys", ["10", "1000"]),
        ("aws:SourceIp", ["10.1.2.3", "192.0.2.1"]),
    ]:
        if draw(st.booleans()):
            context[key] = (draw(st.sampled_from(values)),)
    if draw(st.booleans()):
        context["aws:TagKeys"] = tuple(
            draw(st.lists(st.sampled_from(["team", "env", "x"]), min_size=1))
        )
    action = draw(
        st.sampled_from(
            [
                "s3:GetObject",
                "s3:getobject",
                "s3:ListBucket",
                "s3:PutObject",
                "s3:GetBucketAcl",
                "ec2:DescribeInstances",
                "iam:PassRole",
                "sts:AssumeRole",
            ]
        )
    )
    resource = draw(
        st.sampled_from(
            [
                "arn:aws:s3:::b",
                "arn:aws:s3:::bx",
                "arn:aws:s3:::b/a/x",
                "arn:aws:s3:::b/a/y",
                "arn:aws:s3:::b/alice",
                "arn:aws:s3:::b/alice/k",
                "arn:aws:s3:::b/*",
                "arn:aws:s3:::b/${aws:username}",
                "arn:aws:s3:::b/q/x",
                "arn:aws:s3:::b/a",
                "arn:aws:s3:::B/a/x",
                "arn:aws:iam::111122223333:role/app",
                "*",
            ]
        )
    )
    return Request(action, resource, context)


@settings(max_examples=150, deadline=None)
@given(policies())
def test_normalise_is_idempotent(p: Policy) -> None:
    catalog = load_catalog()
    once = normalise(p, catalog)
    assert normalise(once, catalog) == once


@settings(max_examples=150, deadline=None)
@given(policies())
def test_normalised_policy_survives_serialisation(p: Policy) -> None:
    normal = normalise(p, load_catalog())
    assert parse_policy_text(to_json(normal)) == normal


@settings(max_examples=250, deadline=None)
@given(policies(), st.lists(requests(), min_size=1, max_size=8))
def test_normalising_never_changes_a_decision(p: Policy, batch: list[Request]) -> None:
    before = compile_policy_set(PolicySet(identity=(p,)))
    after = compile_policy_set(PolicySet(identity=(normalise(p, load_catalog()),)))
    for request in batch:
        assert after.evaluate(request).decision == before.evaluate(request).decision, request


@settings(max_examples=100, deadline=None)
@given(policies(), policies(), requests())
def test_normalising_a_boundary_never_changes_a_decision(
    identity: Policy, boundary: Policy, request: Request
) -> None:
    catalog = load_catalog()
    before = compile_policy_set(PolicySet(identity=(identity,), boundary=boundary))
    after = compile_policy_set(
        PolicySet(identity=(normalise(identity, catalog),), boundary=normalise(boundary, catalog))
    )
    assert after.evaluate(request).decision == before.evaluate(request).decision
