"""Access Analyzer's placeholders filled from observed usage: one value, a few resources
listed, many generalised to `*`, none left out and reported."""

from __future__ import annotations

from typing import Any

import pytest

from alpha.app.placeholders import MAX_LISTED, fill_placeholders

OBJECT = "arn:${Partition}:s3:::${BucketName}/${ObjectName}"
TABLE = "arn:${Partition}:dynamodb:${Region}:${Account}:table/${TableName}"


def document(action: str, resource: Any) -> dict[str, Any]:
    statement = {"Effect": "Allow", "Action": action, "Resource": resource}
    return {"Version": "2012-10-17", "Statement": [statement]}


def keys(n: int) -> list[tuple[str, str]]:
    return [("s3:GetObject", f"arn:aws:s3:::data/in/{i}.csv") for i in range(n)]


CASES: dict[str, tuple[str, str, list[tuple[str, str]], list[str], str | None]] = {
    "one table": (
        "dynamodb:GetItem", TABLE,
        [("dynamodb:GetItem", "arn:aws:dynamodb:eu-west-1:111122223333:table/orders")],
        ["arn:aws:dynamodb:eu-west-1:111122223333:table/orders"], "filled",
    ),
    "a few objects listed": (
        "s3:GetObject", OBJECT, keys(2),
        ["arn:aws:s3:::data/in/0.csv", "arn:aws:s3:::data/in/1.csv"], "filled",
    ),
    "many objects of one bucket": (
        "s3:GetObject", OBJECT, keys(MAX_LISTED + 1), ["arn:aws:s3:::data/*"], "generalised",
    ),
    "an object key with a line break": (
        "s3:GetObject", OBJECT, [("s3:GetObject", "arn:aws:s3:::data/a\nb")],
        ["arn:aws:s3:::data/a\nb"], "filled",
    ),
    "calls of another action do not fill": (
        "s3:PutObject", OBJECT, keys(1), [], "left out",
    ),
    "a wildcard action takes its service's calls": (
        "s3:Get*", OBJECT, keys(1), ["arn:aws:s3:::data/in/0.csv"], "filled",
    ),
    "no placeholder": ("ec2:DescribeInstances", "*", [], ["*"], None),
    "the partition alone": (
        "s3:ListAllMyBuckets", "arn:${Partition}:s3:::*", [], ["arn:aws:s3:::*"], None,
    ),
}  # fmt: skip


@pytest.mark.parametrize(
    ("action", "template", "observed", "expected", "outcome"), CASES.values(), ids=CASES.keys()
)
def test_filling(
    action: str,
    template: str,
    observed: list[tuple[str, str]],
    expected: list[str],
    outcome: str | None,
) -> None:
    filled = fill_placeholders(document(action, template), observed, "aws")
    statements = filled.document["Statement"]
    assert [r for s in statements for r in s["Resource"]] == expected
    assert [f.outcome for f in filled.findings] == ([outcome] if outcome else [])


def test_a_statement_whose_every_resource_is_left_out_is_dropped_and_said() -> None:
    filled = fill_placeholders(document("s3:PutObject", [OBJECT]), keys(3), "aws")
    assert filled.document["Statement"] == []
    (finding,) = filled.findings
    assert "no observed call determines ${BucketName}, ${ObjectName}" in finding.message
    assert finding.to_dict()["statement"] == 0
