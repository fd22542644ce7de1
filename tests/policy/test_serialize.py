from __future__ import annotations

import json
from typing import Any

import pytest

from alpha.policy.model import ActionList, Effect, Policy, ResourceList, Statement
from alpha.policy.parse import parse_policy, parse_policy_text
from alpha.policy.serialize import to_document, to_json

DOCUMENTS: list[dict[str, Any]] = [
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]},
    {"Statement": []},
    {
        "Version": "2008-10-17",
        "Id": "bucket-policy",
        "Statement": [
            {
                "Sid": "Public",
                "Effect": "Allow",
                "Principal": "*",
                "Action": ["s3:GetObject", "s3:GetObjectVersion"],
                "Resource": "arn:aws:s3:::b/*",
            }
        ],
    },
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Deny",
                "NotPrincipal": {"AWS": ["arn:aws:iam::111122223333:role/admin", "444455556666"]},
                "NotAction": "iam:*",
                "NotResource": ["arn:aws:iam::*:role/x", "arn:aws:s3:::${aws:username}/*"],
                "Condition": {
                    "StringNotEquals": {"aws:RequestedRegion": ["eu-west-1", "eu-west-2"]},
                    "ForAnyValue:StringLike": {"aws:TagKeys": "team*", "aws:CalledVia": "x"},
                    "Null": {"aws:MultiFactorAuthAge": "true"},
                },
            },
            {
                "Effect": "Allow",
                "Principal": {"Service": "ec2.amazonaws.com", "AWS": "*"},
                "Action": "sts:AssumeRole",
            },
        ],
    },
]


@pytest.mark.parametrize("document", DOCUMENTS)
def test_round_trip_keeps_the_policy(document: dict[str, Any]) -> None:
    policy = parse_policy(document)
    assert parse_policy_text(to_json(policy)) == policy
    assert parse_policy(to_document(policy)) == policy


@pytest.mark.parametrize("document", DOCUMENTS)
def test_canonical_documents_are_written_back_as_they_were(document: dict[str, Any]) -> None:
    """These documents already use one-element strings and IAM's element order."""
    assert to_document(parse_policy(document)) == document


def test_one_element_lists_become_strings_and_object_statement_a_list() -> None:
    written = {
        "Version": "2012-10-17",
        "Statement": {"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": ["*"]},
    }
    assert to_document(parse_policy(written)) == {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}],
    }


def test_condition_numbers_and_booleans_are_written_as_strings() -> None:
    written = {
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "s3:ListBucket",
                "Resource": "*",
                "Condition": {"NumericLessThan": {"s3:max-keys": 10}, "Bool": {"aws:x": True}},
            }
        ]
    }
    condition = to_document(parse_policy(written))["Statement"][0]["Condition"]
    assert condition == {"NumericLessThan": {"s3:max-keys": "10"}, "Bool": {"aws:x": "true"}}


def test_missing_version_stays_missing() -> None:
    policy = Policy((Statement(Effect.ALLOW, ActionList(("s3:*",)), ResourceList(("*",))),), None)
    text = to_json(policy, indent=None)
    assert json.loads(text) == {
        "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]
    }
    assert "Version" not in text
