"""The data-plane classification, checked against the catalog."""

from __future__ import annotations

import pytest

from alpha.catalog import Catalog
from alpha.reasoning.data_plane import DATA_PLANE_NAMES, DATA_PLANE_SERVICES, is_data_plane


@pytest.mark.parametrize(
    ("action", "expected"),
    [
        ("s3:GetObject", True),
        ("S3:PUTOBJECT", True),
        ("s3:DeleteObjectVersion", True),
        ("s3:ListBucket", True),
        ("s3:AbortMultipartUpload", True),
        ("s3:CreateBucket", False),
        ("s3:GetBucketPolicy", False),
        ("s3:ListAllMyBuckets", False),
        ("dynamodb:Query", True),
        ("dynamodb:BatchWriteItem", True),
        ("dynamodb:DescribeTable", False),
        ("lambda:InvokeFunction", True),
        ("lambda:GetFunction", False),
        ("sqs:SendMessage", True),
        ("sqs:CreateQueue", False),
        ("kinesis:PutRecords", True),
        ("kms:Decrypt", True),
        ("kms:GenerateDataKey", True),
        ("kms:CreateKey", False),
        ("sns:Publish", True),
        ("iam:PassRole", False),
        ("ec2:RunInstances", False),
        ("nope:Whatever", False),
    ],
)
def test_classification(catalog: Catalog, action: str, expected: bool) -> None:
    assert is_data_plane(action, catalog) is expected


@pytest.mark.parametrize("service", DATA_PLANE_SERVICES)
def test_every_named_action_exists_in_the_catalog(catalog: Catalog, service: str) -> None:
    known = {a.name.lower() for a in catalog.actions(service)}
    assert sorted(DATA_PLANE_NAMES[service] - known) == []
