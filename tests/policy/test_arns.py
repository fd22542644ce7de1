from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alpha.catalog import Catalog, ResourceType, load_catalog
from alpha.policy.arns import arn_problem, could_be_of_type


@pytest.mark.parametrize(
    "pattern",
    [
        "*",
        "arn:aws:s3:::b",
        "arn:aws:s3:::b/*",
        "arn:aws:iam::aws:policy/ReadOnlyAccess",
        "arn:aws:iam::111122223333:role/app",
        "arn:aws-us-gov:ec2:us-gov-west-1:111122223333:instance/*",
        "arn:*:s3:::b",
        "arn:aws:logs:*:*:log-group:/aws/lambda/*:*",
        "arn:${aws:partition}:s3:::b/${aws:username}",
    ],
)
def test_well_formed(pattern: str) -> None:
    assert arn_problem(pattern) is None


@pytest.mark.parametrize(
    ("pattern", "problem"),
    [
        ("bucket", "must be '*' or an ARN"),
        ("s3:::b", "must be '*' or an ARN"),
        ("arn:aws:s3:b", "has 4 of the 6"),
        ("arn:AWS:s3:::b", "the partition field 'AWS'"),
        ("arn::s3:::b", "the partition field ''"),
        ("arn:aws::::b", "the service field ''"),
        ("arn:aws:s3:EU WEST:::b", "the region field"),
        ("arn:aws:s3:::", "the resource part"),
    ],
)
def test_malformed(pattern: str, problem: str) -> None:
    found = arn_problem(pattern)
    assert found is not None
    assert problem in found


@pytest.mark.parametrize(
    ("pattern", "service", "name", "expected"),
    [
        ("arn:aws:s3:::b", "s3", "bucket", True),
        ("arn:aws:s3:::b", "s3", "object", False),
        ("arn:aws:s3:::b/*", "s3", "bucket", False),
        ("arn:aws:s3:::b/*", "s3", "object", True),
        ("arn:aws:s3:::b*", "s3", "bucket", True),
        ("arn:aws:s3:::b*", "s3", "object", True),
        ("arn:aws:s3:::*/k", "s3", "object", True),
        ("arn:aws:s3:::b/${aws:username}", "s3", "object", True),
        ("arn:aws:iam::111122223333:role/a", "s3", "bucket", False),
        ("arn:aws:iam::111122223333:role/a", "iam", "role", True),
        ("arn:aws:iam::111122223333:role/*", "iam", "user", False),
        ("*", "iam", "user", True),
    ],
)
def test_could_be_of_type(
    catalog: Catalog, pattern: str, service: str, name: str, expected: bool
) -> None:
    resource_type = catalog.resource_type(service, name)
    assert resource_type is not None
    assert could_be_of_type(pattern, resource_type) is expected


ARNS = st.sampled_from(
    [
        "arn:aws:s3:::b",
        "arn:aws:s3:::b/k/x",
        "arn:aws:iam::111122223333:role/a/b",
        "arn:aws:iam::111122223333:user/u",
        "arn:aws:ec2:us-east-1:111122223333:instance/i-1",
        "arn:aws:dynamodb:us-east-1:111122223333:table/t/index/i",
        "arn:aws:lambda:us-east-1:111122223333:function:f:1",
        "arn:aws:sqs:us-east-1:111122223333:q",
        "arn:aws:kms:eu-west-1:111122223333:key/k",
        "arn:aws:logs:eu-west-1:111122223333:log-group:g:log-stream:s",
    ]
)


@settings(max_examples=300, deadline=None)
@given(data=st.data(), arn=ARNS)
def test_agrees_with_the_catalog_pattern_on_concrete_arns(data: st.DataObject, arn: str) -> None:
    catalog = load_catalog()
    service = arn.split(":")[2]
    resource_type: ResourceType = data.draw(st.sampled_from(catalog.resource_types(service)))
    expected = resource_type.arn_pattern().fullmatch(arn) is not None
    assert could_be_of_type(arn, resource_type) is expected


@settings(max_examples=300, deadline=None)
@given(data=st.data(), arn=ARNS, cut=st.integers(0, 60), width=st.integers(0, 30))
def test_never_rules_out_a_pattern_that_matches(
    data: st.DataObject, arn: str, cut: int, width: int
) -> None:
    """Replace a slice of a concrete ARN with `*`: if the type matches the ARN, the pattern
    could be of that type."""
    catalog = load_catalog()
    service = arn.split(":")[2]
    resource_type: ResourceType = data.draw(st.sampled_from(catalog.resource_types(service)))
    pattern = arn[:cut] + "*" + arn[cut + width :]
    if resource_type.arn_pattern().fullmatch(arn):
        assert could_be_of_type(pattern, resource_type)
