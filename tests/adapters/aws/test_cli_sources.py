"""`alpha usage` with AWS sources, end to end: the CLI's dispatch, the adapters, the reader and
the store, with the endpoints routed to moto and the LookupEvents fake by environment."""

from __future__ import annotations

import gzip
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from alpha.adapters.aws.errors import AwsSourceError
from alpha.adapters.aws.lookup_events import LookupEventsSource, LookupTarget
from alpha.adapters.aws.s3_cloudtrail import make_s3_client
from alpha.app.backends import usage_source_for
from alpha.cli.main import main
from tests.fakes.cloudtrail_lookup import FakeCloudTrail, running_fake

from .samples import invictus_files

ACCOUNT = "123837392027"


@pytest.fixture
def endpoints(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeCloudTrail]:
    with running_fake([]) as fake:
        monkeypatch.setenv("AWS_ENDPOINT_URL_S3", moto_endpoint)
        monkeypatch.setenv("AWS_ENDPOINT_URL_STS", moto_endpoint)
        monkeypatch.setenv("AWS_ENDPOINT_URL_CLOUDTRAIL", fake.endpoint_url)
        yield fake


def run(capsys: pytest.CaptureFixture[str], *arguments: str) -> tuple[int, str, str]:
    """`alpha ARGUMENTS`: exit code, stdout, stderr."""
    capsys.readouterr()
    try:
        main(list(arguments))
        code = 0
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def usage_json(capsys: pytest.CaptureFixture[str], *arguments: str) -> dict[str, Any]:
    code, out, err = run(capsys, "usage", *arguments, "--format", "json")
    assert code == 0, err
    parsed: dict[str, Any] = json.loads(out)
    return parsed


def test_an_s3_bucket_reads_like_the_same_files_on_disk(
    endpoints: FakeCloudTrail, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bucket = f"cli-{uuid.uuid4().hex[:12]}"
    s3 = make_s3_client(region="us-east-1")
    s3.create_bucket(Bucket=bucket)
    folder = f"trail/AWSLogs/{ACCOUNT}/CloudTrail/us-east-1/2023/07/10"
    for path in invictus_files():
        body = gzip.compress(path.read_bytes())
        s3.put_object(Bucket=bucket, Key=f"{folder}/{path.name}.gz", Body=body)
    window = ["--since", "2023-07-10", "--until", "2023-07-10"]
    store = ["--store", str(tmp_path / "s3.duckdb")]

    first = usage_json(capsys, f"s3://{bucket}/trail", *window, *store)
    again = usage_json(capsys, f"s3://{bucket}/trail", *window, *store)
    local = usage_json(
        capsys, str(invictus_files()[0].parent), *window, "--store", str(tmp_path / "local.duckdb")
    )

    assert first["summary"]["files"] == len(invictus_files())
    assert first["summary"]["events"] == first["summary"]["events_read"] == 2900
    assert first["usage"] == local["usage"]
    assert again["summary"]["events_read"] == 0  # the ETags are the same: nothing re-read
    assert again["usage"] == first["usage"]


def test_lookup_sources_are_labelled_with_the_callers_account(endpoints: FakeCloudTrail) -> None:
    source = usage_source_for("lookup://eu-west-1")

    assert isinstance(source, LookupEventsSource)
    assert source.name == "lookup:123456789012:eu-west-1"  # moto's account, from STS


def test_an_unknown_profile_is_an_error_not_a_traceback(
    endpoints: FakeCloudTrail, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    store = str(tmp_path / "usage.duckdb")
    code, _, err = run(capsys, "usage", "lookup://nobody@us-east-1", "--store", store)

    assert code == 2
    assert err.startswith("alpha: error: ")
    assert "profile 'nobody' not found" in err


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("lookup://us-east-1", LookupTarget("us-east-1")),
        ("lookup://dev@eu-west-1", LookupTarget("eu-west-1", "dev")),
        ("lookup://a@b@sagov-westsouth-1r", LookupTarget("sagov-westsouth-1r", "a@b")),
    ],
)
def test_lookup_target_parse(text: str, expected: LookupTarget) -> None:
    assert LookupTarget.parse(text) == expected


@pytest.mark.parametrize("text", ["lookup://", "lookup://dev@", "lookup://US EAST", "s3://x"])
def test_lookup_target_parse_rejects(text: str) -> None:
    with pytest.raises(AwsSourceError, match=r"lookup://\[PROFILE@\]REGION"):
        LookupTarget.parse(text)
