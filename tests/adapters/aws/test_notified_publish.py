"""The serverless path: `Application.publish_objects` given what S3 `ObjectCreated`
notifications say (bucket, key, size, ETag), reading the objects from moto's S3 and publishing
to a moto CloudWatch of its own, through the adapters the settings choose."""

from __future__ import annotations

import gzip
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from alpha.adapters.aws.s3_cloudtrail import make_s3_client
from alpha.app import Settings, application_for
from alpha.app.monitoring import NotifiedObject

from .cloudwatch_server import cloudwatch_client, cloudwatch_server, emptied, metric_points
from .samples import invictus_files

BERT = "arn:aws:iam::123837392027:user/bert-jan"
FOLDER = "AWSLogs/218007301253/CloudTrail/us-east-1/2023/07/10"


@pytest.fixture
def endpoints(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", moto_endpoint)
    with cloudwatch_server() as cloudwatch:
        monkeypatch.setenv("AWS_ENDPOINT_URL_CLOUDWATCH", emptied(cloudwatch))
        yield cloudwatch


def test_notified_objects_are_read_from_s3_and_published_once(
    endpoints: str, tmp_path: Path
) -> None:
    bucket = f"trail-{uuid.uuid4().hex[:12]}"
    s3 = make_s3_client(region="us-east-1")
    s3.create_bucket(Bucket=bucket)
    notices = []
    for path in invictus_files()[:4]:
        key = f"{FOLDER}/{path.name}.gz"
        body = gzip.compress(path.read_bytes())
        put = s3.put_object(Bucket=bucket, Key=key, Body=body)
        notices.append(NotifiedObject(bucket, key, len(body), put["ETag"].strip('"')))
    settings = Settings(
        store=tmp_path / "alpha.db",
        usage_store=tmp_path / "usage.duckdb",
        user="lambda",
        now=datetime(2023, 7, 10, 13, tzinfo=UTC),
    )
    app = application_for(settings, {})

    first = app.publish_objects(notices)
    again = app.publish_objects(notices[:2])

    assert (first.deliveries, again.deliveries, again.already) == (4, 0, 2)
    assert first.problems == ()
    start = datetime(2023, 7, 10, tzinfo=UTC)
    client = cloudwatch_client(endpoints)
    calls = metric_points(client, "Calls", BERT, start, start + timedelta(days=1))
    assert sum(v for _, v in calls) > 0
    assert first.covered_until is not None
