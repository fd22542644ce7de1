"""Requests AWS could receive: resources from the catalog's ARN formats, and check-access
counterexamples built from them and checked again."""

from __future__ import annotations

from typing import Any

import pytest

from alpha.catalog import Catalog
from alpha.policy.compare import (
    InternalFinding,
    NewAccess,
    NoNewAccess,
    PossibleNewAccess,
    check_again,
    no_new_access,
)
from alpha.policy.counterexample import Counterexample, Proof
from alpha.policy.evaluate import PolicySet, Request, compile_policy_set
from alpha.policy.model import Policy
from alpha.policy.parse import parse_policy
from alpha.policy.request_shapes import (
    ResourceShape,
    arn_formats,
    field_choices,
    request_problem,
    request_shapes,
)
from alpha.policy.symbolic import Side, index_statements


def doc(*statements: dict[str, Any]) -> Policy:
    return parse_policy({"Version": "2012-10-17", "Statement": list(statements)})


def allow(action: Any, resource: Any = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


@pytest.mark.parametrize(
    ("action", "formats"),
    [
        ("a4b:CompleteRegistration", ["*"]),  # takes no resource type
        (
            "s3:GetObject",  # both types optional in the reference: `*` too
            [
                "arn:${Partition}:s3:${Region}:${Account}:accesspoint/${AccessPointName}/object/${ObjectName}",
                "arn:${Partition}:s3:::${BucketName}/${ObjectName}",
                "*",
            ],
        ),
        ("sqs:SendMessage", ["arn:${Partition}:sqs:${Region}:${Account}:${QueueName}"]),
        ("s3:Zzzfuture", None),  # not in the catalog: any s3 format, or `*`
    ],
)
def test_request_shapes(catalog: Catalog, action: str, formats: list[str] | None) -> None:
    found = [s.arn_format for s in request_shapes(catalog, action)]
    if formats is None:
        assert "*" in found
        assert "arn:${Partition}:s3:::${BucketName}" in found
    else:
        assert found == formats


def test_optional_resource_types_allow_star(catalog: Catalog) -> None:
    found = [s.arn_format for s in request_shapes(catalog, "cloudwatch:PutMetricData")]
    assert found[-1] == "*"
    assert len(found) > 1


def test_formats_joined_by_a_comma_are_two_shapes(catalog: Catalog) -> None:
    authorizer = catalog.resource_type("apigateway", "Authorizer")
    assert authorizer is not None
    formats = arn_formats(authorizer)
    assert len(formats) == 2
    assert all(", " not in f and f.startswith("arn:${Partition}:apigateway:") for f in formats)


@pytest.mark.parametrize(
    ("action", "resource", "problem"),
    [
        ("a4b:CompleteRegistration", "*", None),
        ("a4b:CompleteRegistration", "arn:aws:a4b:us-east-1:123456789012:example", "expected '*'"),
        ("s3:GetObject", "arn:aws:s3:::b/k", None),
        ("s3:GetObject", "arn:aws:s3:::b/", "is not a resource"),  # no key
        ("sqs:SendMessage", "*", "is not a resource"),  # the queue is required
        ("sqs:SendMessage", "arn:aws:sqs:us-east-1:111122223333:q", None),
        ("sqs:SendMessage", "arn:aws:sqs:::q", "is not a resource"),  # empty region, account
        ("sqs:SendMessage", "arn:aws:sqs:us-east-1:1234:q", "is not a resource"),
        ("iam:GetPolicy", "arn:aws:iam::aws:policy/ReadOnlyAccess", None),
        ("cloudwatch:PutMetricData", "*", None),
        ("nosuchservice:Do", "*", "no service in the IAM catalog"),
    ],
)
def test_request_problem(catalog: Catalog, action: str, resource: str, problem: str | None) -> None:
    found = request_problem(catalog, action, resource)
    if problem is None:
        assert found is None
    else:
        assert found is not None
        assert problem in found


def test_apigateway_resources_are_one_format_each(catalog: Catalog) -> None:
    arn = "arn:aws:apigateway:us-east-1::/restapis/a1/authorizers/b2"
    assert request_problem(catalog, "apigateway:GET", arn) is None
    joined = f"{arn}, arn:aws:apigateway:us-east-1::/apis/a1/authorizers/b2"
    assert request_problem(catalog, "apigateway:GET", joined) is not None


def test_field_choices_take_the_policies_own_values() -> None:
    texts = ["*", "arn:aws:sqs:eu-west-1:444455556666:q", "arn:aws:sqs:*:*:*", "arn:aws:s3:::b"]
    assert field_choices(texts) == [
        ("aws", "us-east-1", "123456789012"),
        ("aws", "eu-west-1", "444455556666"),
    ]


CASES = [
    # (name, existing statements, proposed statements, what the resource must look like)
    ("action takes only *", [], [allow("a4b:CompleteRegistration")], "*"),
    ("region and account filled", [], [allow("sqs:SendMessage")], "arn:aws:sqs:us-east-1:"),
    (
        "the policy's own region",
        [],
        [allow("sqs:SendMessage", "arn:aws:sqs:eu-west-1:444455556666:*")],
        "arn:aws:sqs:eu-west-1:444455556666:",
    ),
    (
        "one of two joined formats",
        [],
        [allow("apigateway:GET", "arn:aws:apigateway:*::/restapis/*")],
        "arn:aws:apigateway:us-east-1::/restapis/",
    ),
    (
        "an object has a key",
        [allow("s3:GetObject", "arn:aws:s3:::b")],
        [allow("s3:GetObject", "arn:aws:s3:::b*")],
        "arn:aws:s3:::b",
    ),
]


@pytest.mark.parametrize(
    ("existing", "proposed", "prefix"),
    [pytest.param(e, p, x, id=name) for name, e, p, x in CASES],
)
def test_counterexamples_are_requests_aws_could_receive(
    catalog: Catalog, existing: list[dict[str, Any]], proposed: list[dict[str, Any]], prefix: str
) -> None:
    before, after = ([doc(*existing)] if existing else []), [doc(*proposed)]
    result = no_new_access(before, after, catalog)
    assert isinstance(result, NewAccess), result
    example = result.counterexample
    assert example.resource.startswith(prefix), example
    assert request_problem(catalog, example.action, example.resource) is None
    request = Request(example.action, example.resource, example.context)
    assert compile_policy_set(PolicySet(identity=tuple(after))).evaluate(request).allowed


def test_a_future_action_is_marked(catalog: Catalog) -> None:
    every = sorted(a.key for a in catalog.actions("sqs"))
    result = no_new_access([doc(allow(every))], [doc(allow("sqs:*"))], catalog)
    assert isinstance(result, NewAccess), result
    assert result.counterexample.future_action
    assert (
        request_problem(catalog, result.counterexample.action, result.counterexample.resource)
        is None
    )


@pytest.mark.parametrize(
    ("existing", "proposed"),
    [
        ([], [allow("sts:GetCallerIdentity")]),
        ([{"Effect": "Deny", "Action": "*", "Resource": "*"}], [allow("sts:GetCallerIdentity")]),
        ([allow("sts:AssumeRole")], [allow(["sts:AssumeRole", "sts:GetCallerIdentity"])]),
    ],
)
def test_get_caller_identity_is_never_new_access(
    catalog: Catalog, existing: list[dict[str, Any]], proposed: list[dict[str, Any]]
) -> None:
    before = [doc(*existing)] if existing else []
    assert isinstance(no_new_access(before, [doc(*proposed)], catalog), NoNewAccess)


def test_get_caller_identity_does_not_hide_other_sts_actions(catalog: Catalog) -> None:
    result = no_new_access([], [doc(allow("sts:*"))], catalog)
    assert isinstance(result, NewAccess), result
    assert result.counterexample.action.lower() != "sts:getcalleridentity"


def proof(action: str, resource: str, proposed: list[Policy]) -> Proof:
    grant = index_statements(Side.PROPOSED, proposed)[0]
    return Proof(Counterexample(action, resource, {}), grant)


@pytest.mark.parametrize(
    ("action", "resource", "problem"),
    [
        (
            "sqs:SendMessage",
            "arn:aws:sqs:us-east-1:111122223333:q",
            "does not allow it under the proposed",
        ),
        ("s3:GetObject", "arn:aws:s3:::b/k", "allows it under the existing"),
        ("s3:PutObject", "arn:aws:s3:::b", "no request AWS could receive"),
    ],
)
def test_a_counterexample_that_fails_its_recheck_is_an_internal_finding(
    catalog: Catalog, action: str, resource: str, problem: str
) -> None:
    existing = [doc(allow("s3:GetObject"))]
    proposed = [doc(allow(["s3:GetObject", "s3:PutObject"]))]
    found = check_again(proof(action, resource, proposed), existing, proposed, catalog)
    assert isinstance(found, InternalFinding), found
    assert problem in found.reason


def test_a_counterexample_that_holds_is_new_access(catalog: Catalog) -> None:
    existing = [doc(allow("s3:GetObject"))]
    proposed = [doc(allow(["s3:GetObject", "s3:PutObject"]))]
    found = check_again(
        proof("s3:PutObject", "arn:aws:s3:::b/k", proposed), existing, proposed, catalog
    )
    assert isinstance(found, NewAccess)


# Two tests no one request meets (one user name twice): never confirmed, always "possible".
NEVER = {"StringEquals": {"aws:username": "a"}, "StringLike": {"aws:username": "b*"}}


@pytest.mark.parametrize(
    ("existing", "proposed", "words"),
    [
        (
            [
                allow(
                    "s3:GetObject",
                    "arn:aws:s3:::b/*",
                    Condition={"StringEquals": {"aws:SourceVpc": "vpc-1"}},
                )
            ],
            [
                allow(
                    "s3:GetObject",
                    "arn:aws:s3:::b/*",
                    Condition=NEVER,
                )
            ],
            [
                "existing[0].Statement[0] allows it only under StringEquals aws:sourcevpc "
                "['vpc-1'], which the proposal drops"
            ],
        ),
        (
            [],
            [
                allow(
                    "s3:Get*",
                    Condition=NEVER,
                )
            ],
            ["no existing Allow names s3:", "the action pattern 's3:Get*' widened"],
        ),
        (
            [allow("s3:GetObject", "arn:aws:s3:::b/x*")],
            [
                allow(
                    "s3:GetObject",
                    "arn:aws:s3:::b/*",
                    Condition=NEVER,
                )
            ],
            ["the resource pattern 'arn:aws:s3:::b/*' widened", "they name 'arn:aws:s3:::b/x*'"],
        ),
        (
            [
                allow("s3:*"),
                {
                    "Effect": "Deny",
                    "Action": "s3:Delete*",
                    "Resource": "*",
                    "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "false"}},
                },
            ],
            [
                allow(
                    "s3:DeleteObject",
                    Condition=NEVER,
                )
            ],
            [
                "existing[0].Statement[1] denies it today under Bool "
                "aws:multifactorauthpresent ['false'] and no proposed Deny does"
            ],
        ),
    ],
)
def test_possible_new_access_names_the_reason(
    catalog: Catalog,
    existing: list[dict[str, Any]],
    proposed: list[dict[str, Any]],
    words: list[str],
) -> None:
    before = [doc(*existing)] if existing else []
    result = no_new_access(before, [doc(*proposed)], catalog)
    assert isinstance(result, PossibleNewAccess), result
    assert result.reason.startswith("proposed[0].Statement[0] allows s3:")
    assert "its conditions could not all be met at once" in result.reason
    for word in words:
        assert word in result.reason


def test_every_catalog_format_gives_requests_it_admits(catalog: Catalog) -> None:
    """The globs a counterexample is searched in and the test it must pass agree, for every
    resource type of the catalog: the shortest member of each glob is admitted."""
    defaults = field_choices([])
    refused = []
    for service in catalog.services:
        for resource_type in catalog.resource_types(service):
            for arn_format in arn_formats(resource_type):
                shape = ResourceShape(arn_format)
                for shaped in shape.globs(defaults):
                    sample = shaped.sample("x")
                    if not shape.admits(sample) or ", " in sample:
                        refused.append((arn_format, sample))
    assert refused == []


@pytest.mark.parametrize(
    ("proposed", "words"),
    [
        (allow("nosuchservice:*"), "'nosuchservice' is not a service in the IAM catalog"),
        (  # an action that takes only `*`, scoped to an ARN: no request matches it
            allow("logs:CreateLogDelivery", "arn:aws:logs:*:*:log-group:/aws/x/*"),
            "only resources no request for logs:CreateLogDelivery can name",
        ),
    ],
)
def test_access_no_request_can_have_is_possible_and_says_why(
    catalog: Catalog, proposed: dict[str, Any], words: str
) -> None:
    result = no_new_access([], [doc(proposed)], catalog)
    assert isinstance(result, PossibleNewAccess), result
    assert words in result.reason
