"""`alpha usage s3://...` end to end, against a moto server over real HTTP."""

from __future__ import annotations

import gzip
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from alpha.cli.main import main
from tests.fakes.cloudtrail_logs import SAMPLES

boto3 = pytest.importorskip("boto3")
moto_server = pytest.importorskip("moto.server")


@pytest.fixture
def endpoint(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": "/nonexistent/aws-config",
        "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/aws-credentials",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    monkeypatch.setenv("AWS_ENDPOINT_URL", url)  # how the CLI's own client finds the server
    yield url
    server.stop()


def test_usage_over_an_s3_trail_is_incremental(
    endpoint: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    s3 = boto3.client("s3", endpoint_url=endpoint)
    s3.create_bucket(Bucket="trail")
    folder = "AWSLogs/218007301253/CloudTrail/us-east-1/2023/07/10"
    files = sorted((SAMPLES / "invictus_aws_dataset").glob("*.json"))[:6]
    expected = 0
    for path in files:
        expected += len(json.loads(path.read_bytes())["Records"])
        body = gzip.compress(path.read_bytes())
        s3.put_object(Bucket="trail", Key=f"logs/{folder}/{path.name}.gz", Body=body)
    argv = ["usage", "s3://trail/logs", "--store", str(tmp_path / "s.duckdb"), "--format", "json"]
    counts = []
    for _ in range(2):
        main(argv)  # returns on success; an error would exit 2
        document = json.loads(capsys.readouterr().out)
        counts.append((document["summary"]["files"], document["summary"]["events_read"]))
        assert document["summary"]["events"] == expected
        assert document["usage"]
    assert counts == [(6, expected), (6, 0)]
