"""Condition operators. Cases cite the IAM User Guide pages they come from:
[ops] reference_policies_elements_condition_operators.html (Condition operators)
[multi] reference_policies_condition_examples-multi-valued-context-keys.html
[logic] reference_policies_multi-value-conditions.html (multiple keys or values)
"""

from __future__ import annotations

import pytest

from alpha.policy.conditions import compile_condition, compile_conditions
from alpha.policy.model import Condition

Values = str | tuple[str, ...]
Ctx = dict[str, Values]


def holds(operator: str, key: str, values: Values, context: Ctx, variables: bool = True) -> bool:
    wanted = values if isinstance(values, tuple) else (values,)
    test = compile_condition(Condition(operator, key, wanted), variables)
    folded = {k.lower(): v if isinstance(v, tuple) else (v,) for k, v in context.items()}
    return test(folded)


TAG = "aws:PrincipalTag/job-category"
TAGS = "aws:TagKeys"


@pytest.mark.parametrize(
    ("operator", "key", "values", "context", "expected"),
    [
        # [ops] String example: the tag must be present and equal
        ("StringEquals", TAG, "iamuser-admin", {TAG: "iamuser-admin"}, True),
        ("StringEquals", TAG, "iamuser-admin", {TAG: "IAMuser-admin"}, False),
        ("StringEquals", TAG, "iamuser-admin", {}, False),
        ("StringEquals", TAG, "iam*", {TAG: "iamuser-admin"}, False),  # no wildcards
        ("StringEqualsIfExists", TAG, "x", {}, True),
        ("StringEqualsIfExists", TAG, "x", {TAG: "y"}, False),
        ("StringNotEquals", TAG, ("a", "b"), {TAG: "a"}, False),  # [logic] NOR
        ("StringNotEquals", TAG, ("a", "b"), {TAG: "c"}, True),
        ("StringNotEquals", TAG, ("a", "b"), {}, True),  # [ops] negated + missing key
        ("StringNotEqualsIfExists", TAG, "a", {}, True),
        ("StringEqualsIgnoreCase", TAG, "Admin", {TAG: "aDMIN"}, True),
        ("StringNotEqualsIgnoreCase", TAG, "Admin", {TAG: "aDMIN"}, False),
        ("StringNotEqualsIgnoreCase", TAG, "Admin", {TAG: "user"}, True),
        ("StringLike", "s3:prefix", ("home/*", "shared/?"), {"s3:prefix": "home/a/b"}, True),
        ("StringLike", "s3:prefix", ("home/*", "shared/?"), {"s3:prefix": "shared/ab"}, False),
        ("StringLike", "s3:prefix", "home/*", {"s3:prefix": "Home/a"}, False),
        ("StringNotLike", "s3:prefix", "home/*", {"s3:prefix": "tmp/a"}, True),
        ("StringNotLike", "s3:prefix", "home/*", {}, True),
        ("StringLikeIfExists", "s3:prefix", "home/*", {}, True),
        # condition keys are case-insensitive
        ("StringEquals", "AWS:PRINCIPALTAG/JOB-CATEGORY", "x", {TAG: "x"}, True),
        # Numeric
        ("NumericLessThan", "s3:max-keys", "10", {"s3:max-keys": "5"}, True),
        ("NumericLessThan", "s3:max-keys", "10", {"s3:max-keys": "10"}, False),
        ("NumericLessThanEquals", "s3:max-keys", "10", {"s3:max-keys": "10"}, True),
        ("NumericGreaterThan", "s3:max-keys", "10", {"s3:max-keys": "10.5"}, True),
        ("NumericGreaterThanEquals", "s3:max-keys", "10", {"s3:max-keys": "9"}, False),
        ("NumericEquals", "s3:max-keys", "1.0", {"s3:max-keys": "1"}, True),
        ("NumericNotEquals", "s3:max-keys", ("1", "2"), {"s3:max-keys": "3"}, True),
        ("NumericNotEquals", "s3:max-keys", ("1", "2"), {"s3:max-keys": "2"}, False),
        ("NumericEquals", "s3:max-keys", "10", {"s3:max-keys": "ten"}, False),
        ("NumericLessThan", "s3:max-keys", "10", {}, False),
        ("NumericLessThanIfExists", "s3:max-keys", "10", {}, True),
        # Date: ISO 8601 dates and times, epoch seconds, zones
        (
            "DateGreaterThan",
            "aws:CurrentTime",
            "2020-01-01T00:00:00Z",
            {"aws:CurrentTime": "2020-06-01T00:00:00Z"},
            True,
        ),
        (
            "DateGreaterThan",
            "aws:CurrentTime",
            "2020-01-01T00:00:00Z",
            {"aws:CurrentTime": "1577836801"},
            True,
        ),
        (
            "DateGreaterThan",
            "aws:CurrentTime",
            "2020-01-01T00:00:00Z",
            {"aws:CurrentTime": "2019-12-31"},
            False,
        ),
        (
            "DateLessThan",
            "aws:CurrentTime",
            "2020-01-01",
            {"aws:CurrentTime": "2020-01-01T01:00:00+02:00"},
            True,
        ),
        (
            "DateEquals",
            "aws:CurrentTime",
            "1577836800",
            {"aws:CurrentTime": "2020-01-01T00:00:00Z"},
            True,
        ),
        ("DateNotEquals", "aws:CurrentTime", "2020-01-01", {"aws:CurrentTime": "2020-01-02"}, True),
        (
            "DateLessThanEquals",
            "aws:CurrentTime",
            "2020-01-01",
            {"aws:CurrentTime": "2020-01-01"},
            True,
        ),
        (
            "DateGreaterThanEquals",
            "aws:CurrentTime",
            "2020-01-01",
            {"aws:CurrentTime": "not a date"},
            False,
        ),
        ("DateLessThan", "aws:TokenIssueTime", "2020-01-01", {}, False),
        ("DateLessThanIfExists", "aws:TokenIssueTime", "2020-01-01", {}, True),
        # Bool
        ("Bool", "aws:SecureTransport", "true", {"aws:SecureTransport": "true"}, True),
        ("Bool", "aws:SecureTransport", "true", {"aws:SecureTransport": "True"}, True),
        ("Bool", "aws:SecureTransport", "false", {"aws:SecureTransport": "true"}, False),
        ("Bool", "aws:MultiFactorAuthPresent", "false", {}, False),
        ("BoolIfExists", "aws:MultiFactorAuthPresent", "false", {}, True),
        # BinaryEquals compares base64 values
        (
            "BinaryEquals",
            "key",
            "QmluYXJ5VmFsdWVJbkJhc2U2NA==",
            {"key": "QmluYXJ5VmFsdWVJbkJhc2U2NA=="},
            True,
        ),
        ("BinaryEquals", "key", "QmluYXJ5VmFsdWVJbkJhc2U2NA==", {"key": "QmluYXJ5"}, False),
        ("BinaryEqualsIfExists", "key", "QmluYXJ5", {}, True),
        # IP addresses, IPv4 and IPv6
        ("IpAddress", "aws:SourceIp", "203.0.113.0/24", {"aws:SourceIp": "203.0.113.7"}, True),
        ("IpAddress", "aws:SourceIp", "203.0.113.0/24", {"aws:SourceIp": "203.0.114.7"}, False),
        ("IpAddress", "aws:SourceIp", "203.0.113.5", {"aws:SourceIp": "203.0.113.5"}, True),
        (
            "IpAddress",
            "aws:SourceIp",
            "2001:DB8:1234:5678::/64",
            {"aws:SourceIp": "2001:db8:1234:5678::1"},
            True,
        ),
        (
            "IpAddress",
            "aws:SourceIp",
            "2001:DB8:1234:5678::/64",
            {"aws:SourceIp": "2001:db8:1234:5679::1"},
            False,
        ),
        ("IpAddress", "aws:SourceIp", "0.0.0.0/0", {"aws:SourceIp": "2001:db8::1"}, False),
        ("IpAddress", "aws:SourceIp", "203.0.113.0/24", {"aws:SourceIp": "garbage"}, False),
        ("IpAddress", "aws:SourceIp", "203.0.113.0/24", {}, False),
        (
            "NotIpAddress",
            "aws:SourceIp",
            ("10.0.0.0/8", "2001:db8::/32"),
            {"aws:SourceIp": "10.1.1.1"},
            False,
        ),
        (
            "NotIpAddress",
            "aws:SourceIp",
            ("10.0.0.0/8", "2001:db8::/32"),
            {"aws:SourceIp": "2001:db8::9"},
            False,
        ),
        (
            "NotIpAddress",
            "aws:SourceIp",
            ("10.0.0.0/8", "2001:db8::/32"),
            {"aws:SourceIp": "11.1.1.1"},
            True,
        ),
        ("NotIpAddress", "aws:SourceIp", "10.0.0.0/8", {}, True),
        ("IpAddressIfExists", "aws:SourceIp", "10.0.0.0/8", {}, True),
        # ARNs: six fields compared separately, wildcards per field
        (
            "ArnLike",
            "aws:SourceArn",
            "arn:aws:iam::*:role/app-*",
            {"aws:SourceArn": "arn:aws:iam::123456789012:role/app-web"},
            True,
        ),
        (
            "ArnEquals",
            "aws:SourceArn",
            "arn:aws:sns:*:123456789012:topic",
            {"aws:SourceArn": "arn:aws:sns:us-east-1:123456789012:topic"},
            True,
        ),
        (
            "ArnLike",
            "aws:SourceArn",
            "arn:aws:*:us-east-1:123:x",
            {"aws:SourceArn": "arn:aws:s3:extra:us-east-1:123:x"},
            False,
        ),
        (
            "ArnLike",
            "aws:SourceArn",
            "arn:aws:s3:::bucket/*",
            {"aws:SourceArn": "arn:aws:s3:::bucket/a:b/c"},
            True,
        ),
        (
            "ArnLike",
            "aws:SourceArn",
            "arn:aws:s3:::bucket",
            {"aws:SourceArn": "arn:aws:s3:::Bucket"},
            False,
        ),
        ("ArnLike", "aws:SourceArn", "arn:aws:s3:::*", {"aws:SourceArn": "not-an-arn"}, False),
        (
            "ArnNotLike",
            "aws:SourceArn",
            "arn:aws:s3:::b",
            {"aws:SourceArn": "arn:aws:s3:::c"},
            True,
        ),
        (
            "ArnNotEquals",
            "aws:SourceArn",
            "arn:aws:s3:::b",
            {"aws:SourceArn": "arn:aws:s3:::b"},
            False,
        ),
        ("ArnNotLike", "aws:SourceArn", "arn:aws:s3:::b", {}, True),
        ("ArnLike", "aws:SourceArn", "arn:aws:s3:::b", {}, False),
        ("ArnLikeIfExists", "aws:SourceArn", "arn:aws:s3:::b", {}, True),
        # Null tests presence
        ("Null", "aws:TokenIssueTime", "true", {}, True),
        ("Null", "aws:TokenIssueTime", "true", {"aws:TokenIssueTime": "2020-01-01"}, False),
        ("Null", "aws:TokenIssueTime", "false", {"aws:TokenIssueTime": "2020-01-01"}, True),
        ("Null", "aws:TokenIssueTime", "false", {}, False),
        # [multi] Deny with ForAllValues:StringNotLike, one value ...
        ("ForAllValues:StringNotLike", TAGS, "key1*", {TAGS: "key1:legal"}, False),
        ("ForAllValues:StringNotLike", TAGS, "key1*", {TAGS: ("key1:hr", "key1:personnel")}, False),
        ("ForAllValues:StringNotLike", TAGS, "key1*", {TAGS: "key2:audit"}, True),
        ("ForAllValues:StringNotLike", TAGS, "key1*", {}, True),
        # ... and several values
        (
            "ForAllValues:StringNotLike",
            TAGS,
            ("key1*", "key2*"),
            {TAGS: ("key1:hr", "key1:personnel")},
            False,
        ),
        (
            "ForAllValues:StringNotLike",
            TAGS,
            ("key1*", "key2*"),
            {TAGS: ("key1:hr", "key2:audit")},
            False,
        ),
        ("ForAllValues:StringNotLike", TAGS, ("key1*", "key2*"), {TAGS: "key3:legal"}, True),
        ("ForAllValues:StringNotLike", TAGS, ("key1*", "key2*"), {}, True),
        # ForAllValues: every request value is in the policy set (a missing key is true)
        ("ForAllValues:StringEquals", TAGS, ("a", "b"), {TAGS: ("a", "b")}, True),
        ("ForAllValues:StringEquals", TAGS, ("a", "b"), {TAGS: ("a", "c")}, False),
        ("ForAllValues:StringEquals", TAGS, ("a", "b"), {TAGS: ()}, True),
        ("ForAllValues:StringEquals", TAGS, ("a", "b"), {}, True),
        # ForAnyValue: at least one request value (a missing key is false)
        ("ForAnyValue:StringEquals", TAGS, ("a", "b"), {TAGS: ("c", "b")}, True),
        ("ForAnyValue:StringEquals", TAGS, ("a", "b"), {TAGS: ("c", "d")}, False),
        ("ForAnyValue:StringEquals", TAGS, ("a", "b"), {}, False),
        ("ForAnyValue:StringEqualsIfExists", TAGS, ("a", "b"), {}, True),
        ("ForAnyValue:StringNotEquals", TAGS, "a", {TAGS: ("a", "b")}, True),
        ("ForAnyValue:StringNotEquals", TAGS, "a", {TAGS: ("a",)}, False),
        ("ForAnyValue:StringNotEquals", TAGS, "a", {}, False),
        ("ForAllValues:StringLike", TAGS, "Created*", {TAGS: ("CreatedBy", "CreatedAt")}, True),
        ("ForAnyValue:IpAddress", "k", "10.0.0.0/8", {"k": ("1.1.1.1", "10.0.0.1")}, True),
        # without a set qualifier a multivalued key passes when any value does
        ("StringEquals", TAGS, "a", {TAGS: ("x", "a")}, True),
        ("StringNotEquals", TAGS, "a", {TAGS: ("x", "a")}, False),
    ],
)
def test_operator(operator: str, key: str, values: Values, context: Ctx, expected: bool) -> None:
    assert holds(operator, key, values, context) is expected


OWNER = "aws:ResourceTag/team"


@pytest.mark.parametrize(
    ("operator", "values", "context", "expected"),
    [
        (
            "StringEquals",
            "${aws:PrincipalTag/team}",
            {OWNER: "red", "aws:PrincipalTag/team": "red"},
            True,
        ),
        (
            "StringEquals",
            "${aws:PrincipalTag/team}",
            {OWNER: "red", "aws:PrincipalTag/team": "blue"},
            False,
        ),
        ("StringEquals", "${aws:PrincipalTag/team}", {OWNER: "red"}, False),  # no value: no match
        ("StringNotEquals", "${aws:PrincipalTag/team}", {OWNER: "red"}, True),
        ("StringEquals", "${aws:PrincipalTag/team, 'red'}", {OWNER: "red"}, True),
        (
            "StringEqualsIgnoreCase",
            "${aws:PrincipalTag/team}",
            {OWNER: "RED", "aws:PrincipalTag/team": "red"},
            True,
        ),
        ("StringLike", "team-${aws:username}-*", {OWNER: "team-al-1", "aws:username": "al"}, True),
        ("StringLike", "team-${aws:username}", {OWNER: "team-alice", "aws:username": "a*"}, False),
        (
            "ArnLike",
            "arn:aws:iam::*:user/${aws:username}",
            {OWNER: "arn:aws:iam::1:user/al", "aws:username": "al"},
            True,
        ),
        ("Bool", "${aws:username}", {OWNER: "TRUE", "aws:username": "true"}, True),
    ],
)
def test_variables_in_condition_values(
    operator: str, values: Values, context: Ctx, expected: bool
) -> None:
    assert holds(operator, OWNER, values, context) is expected


def test_version_2008_compares_variables_literally() -> None:
    literal: Ctx = {OWNER: "${aws:username}", "aws:username": "al"}
    assert holds("StringEquals", OWNER, "${aws:username}", literal, variables=False)
    assert not holds("StringEquals", OWNER, "${aws:username}", literal, variables=True)


def test_conditions_of_a_statement_are_anded() -> None:
    tests = compile_conditions(
        [
            Condition("StringEquals", "aws:RequestedRegion", ("us-east-1", "eu-west-1")),
            Condition("Bool", "aws:SecureTransport", ("true",)),
        ],
        variables=True,
    )
    both = {"aws:requestedregion": ("eu-west-1",), "aws:securetransport": ("true",)}
    one = {"aws:requestedregion": ("eu-west-1",), "aws:securetransport": ("false",)}
    assert all(t(both) for t in tests)
    assert not all(t(one) for t in tests)
