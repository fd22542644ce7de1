from __future__ import annotations

import pytest

from alpha.generate.scoping import container, scope_resources


@pytest.mark.parametrize(
    ("arn", "floor"),
    [
        ("arn:aws:s3:::data-lake/raw/2026/a.json", "arn:aws:s3:::data-lake/"),
        ("arn:aws:sqs:us-east-1:1:jobs", "arn:aws:sqs:us-east-1:1:"),
        ("arn:aws:lambda:us-east-1:1:function:f", "arn:aws:lambda:us-east-1:1:function:"),
        ("arn:aws:dynamodb:us-east-1:1:table/t", "arn:aws:dynamodb:us-east-1:1:table/"),
    ],
)
def test_container_is_the_floor_of_generalisation(arn: str, floor: str) -> None:
    assert container(arn) == floor


def test_at_or_below_the_threshold_arns_stay_exact() -> None:
    arns = [f"arn:aws:s3:::b/k{i}" for i in range(4)]
    assert scope_resources(arns, max_exact=4, max_patterns=1, covered=lambda _: True) == tuple(arns)


def test_above_the_threshold_the_deepest_cut_within_the_pattern_budget() -> None:
    arns = [
        f"arn:aws:s3:::b/{d}/{m}/x{i}"
        for d in ("in", "out")
        for m in ("01", "02")
        for i in range(3)
    ]
    assert scope_resources(arns, max_exact=5, max_patterns=4, covered=lambda _: True) == (
        "arn:aws:s3:::b/in/01/*",
        "arn:aws:s3:::b/in/02/*",
        "arn:aws:s3:::b/out/01/*",
        "arn:aws:s3:::b/out/02/*",
    )
    assert scope_resources(arns, max_exact=5, max_patterns=2, covered=lambda _: True) == (
        "arn:aws:s3:::b/in/*",
        "arn:aws:s3:::b/out/*",
    )
    assert scope_resources(arns, max_exact=5, max_patterns=1, covered=lambda _: True) == (
        "arn:aws:s3:::b/*",
    )


def test_never_wider_than_the_container_and_uncovered_patterns_fall_back() -> None:
    arns = [f"arn:aws:s3:::bucket-{i}/k" for i in range(9)]
    assert scope_resources(arns, max_exact=3, max_patterns=1, covered=lambda _: True) == tuple(
        sorted(arns)
    )
    deep = [f"arn:aws:s3:::b/p/k{i}" for i in range(9)]
    assert scope_resources(deep, max_exact=3, max_patterns=1, covered=lambda _: False) == tuple(
        sorted(deep)
    )


def test_names_without_separators_share_a_readable_prefix() -> None:
    queues = [f"arn:aws:sqs:eu-west-1:1:etl-{n}-prod" for n in "abcdef"]
    assert scope_resources(queues, max_exact=5, max_patterns=1, covered=lambda _: True) == (
        "arn:aws:sqs:eu-west-1:1:etl-*",
    )
