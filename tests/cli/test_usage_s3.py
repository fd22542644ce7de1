"""`alpha usage s3://...` end to end, against a moto server over real HTTP."""

from __future__ import annotations

import gzip
import json
import uuid
from pathlib import Path

import pytest

from alpha.cli.main import main
from tests.fakes.cloudtrail_logs import SAMPLES

boto3 = pytest.importorskip("boto3")


@pytest.fixture
def endpoint(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)  # how the CLI's own client finds it
    return moto_endpoint


def test_usage_over_an_s3_trail_is_incremental(
    endpoint: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    s3 = boto3.client("s3", endpoint_url=endpoint)
    bucket = f"trail-{uuid.uuid4().hex[:12]}"  # the moto server lives for the whole session
    s3.create_bucket(Bucket=bucket)
    folder = "AWSLogs/218007301253/CloudTrail/us-east-1/2023/07/10"
    files = sorted((SAMPLES / "invictus_aws_dataset").glob("*.json"))[:6]
    expected = 0
    for path in files:
        expected += len(json.loads(path.read_bytes())["Records"])
        body = gzip.compress(path.read_bytes())
        s3.put_object(Bucket=bucket, Key=f"logs/{folder}/{path.name}.gz", Body=body)
    argv = [
        "usage",
        f"s3://{bucket}/logs",
        "--store",
        str(tmp_path / "s.duckdb"),
        "--format",
        "json",
    ]
    counts = []
    for _ in range(2):
        main(argv)  # returns on success; an error would exit 2
        document = json.loads(capsys.readouterr().out)
        counts.append((document["summary"]["files"], document["summary"]["events_read"]))
        assert document["summary"]["events"] == expected
        assert document["usage"]
    assert counts == [(6, expected), (6, 0)]
