"""The S3 source against moto in server mode, over real HTTP."""

from __future__ import annotations

import gzip
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest

from alpha.adapters.aws.errors import AwsSourceError
from alpha.adapters.aws.s3_cloudtrail import S3CloudTrailSource, S3Location, delivered_at
from alpha.usage.ports import TimeWindow

from .conftest import CallRecorder
from .samples import invictus_files, records_of

NOW = datetime(2023, 8, 1, tzinfo=UTC)
ORG = "o-abc123defg"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def log_name(account: str, region: str, stamp: str, tag: str) -> str:
    return f"{account}_CloudTrail_{region}_{stamp}Z_{tag}.json.gz"


def layout() -> dict[str, str]:
    """Key (below `logs/`) to the sample file whose gzipped bytes it holds. Several accounts,
    regions and days, an organisation trail, a digest folder and a folder outside the prefix."""
    owner_a, owner_b, org_member = "111111111111", "222222222222", "333333333333"
    samples = [path.name for path in invictus_files()]
    trail_a = f"AWSLogs/{owner_a}/CloudTrail"

    def day(folder: str, account: str, region: str, stamp: str, index: int) -> tuple[str, str]:
        key = f"{folder}/{region}/{stamp[:4]}/{stamp[4:6]}/{stamp[6:8]}/"
        return key + log_name(account, region, stamp, f"t{index}"), samples[index]

    entries = [
        day(trail_a, owner_a, "us-east-1", "20221231T2355", 0),
        day(trail_a, owner_a, "us-east-1", "20230709T2350", 1),
        day(trail_a, owner_a, "us-east-1", "20230710T1145", 2),
        day(trail_a, owner_a, "us-east-1", "20230710T1150", 3),
        day(trail_a, owner_a, "us-east-1", "20230710T1205", 4),
        day(trail_a, owner_a, "us-east-1", "20230711T0005", 5),
        day(trail_a, owner_a, "us-east-1", "20230712T0900", 6),
        day(trail_a, owner_a, "eu-west-1", "20230710T0800", 7),
        day(f"AWSLogs/{owner_b}/CloudTrail", owner_b, "us-east-1", "20230710T1000", 8),
        day(f"AWSLogs/{ORG}/{org_member}/CloudTrail", org_member, "us-west-2", "20230710T1300", 9),
    ]
    digest = f"AWSLogs/{owner_a}/CloudTrail-Digest/us-east-1/2023/07/10/digest.json.gz"
    return dict(entries) | {digest: samples[10]}


@dataclass(frozen=True)
class Bucket:
    name: str
    contents: dict[str, bytes]  # full key -> uploaded bytes


@pytest.fixture(scope="module")
def bucket(moto_endpoint: str) -> Bucket:
    from alpha.adapters.aws.s3_cloudtrail import make_s3_client

    client = make_s3_client(region="us-east-1", endpoint_url=moto_endpoint)
    name = f"trail-{uuid.uuid4().hex[:12]}"
    client.create_bucket(Bucket=name)
    by_name = {path.name: path for path in invictus_files()}
    contents = {}
    for key, sample in layout().items():
        body = gzip.compress(by_name[sample].read_bytes())
        contents[f"logs/{key}"] = body
        client.put_object(Bucket=name, Key=f"logs/{key}", Body=body)
    # Outside the prefix: must never be listed.
    outside = f"other/AWSLogs/111111111111/CloudTrail/us-east-1/2023/07/10/{by_name.popitem()[0]}"
    client.put_object(Bucket=name, Key=outside, Body=b"{}")
    return Bucket(name, contents)


def source(client: Any, bucket: Bucket, prefix: str = "logs", **options: Any) -> S3CloudTrailSource:
    location = S3Location.parse(f"s3://{bucket.name}/{prefix}")
    return S3CloudTrailSource(client, location, clock=lambda: NOW, **options)


def keys_of(batches: Any, bucket: Bucket) -> set[str]:
    return {batch.key.removeprefix(f"s3://{bucket.name}/") for batch in batches}


def test_lists_only_the_window_days_and_finds_every_account_region_and_org(
    s3_client: Any, bucket: Bucket
) -> None:
    listings = CallRecorder(s3_client, "ListObjectsV2")
    window = TimeWindow(at("2023-07-10T00:00:00"), at("2023-07-11T00:00:00"))

    found = keys_of(source(s3_client, bucket).batches(window), bucket)

    trail_a = "logs/AWSLogs/111111111111/CloudTrail"
    regions = [
        f"{trail_a}/us-east-1/",
        f"{trail_a}/eu-west-1/",
        "logs/AWSLogs/222222222222/CloudTrail/us-east-1/",
        f"logs/AWSLogs/{ORG}/333333333333/CloudTrail/us-west-2/",
    ]
    # The last day is there because a file delivered up to an hour after `until` may hold
    # events of the window.
    days = {f"{region}{day}/" for region in regions for day in ("2023/07/10", "2023/07/11")}
    folders = {
        "logs/AWSLogs/",
        f"{trail_a}/",
        "logs/AWSLogs/222222222222/CloudTrail/",
        f"logs/AWSLogs/{ORG}/",
        f"logs/AWSLogs/{ORG}/333333333333/CloudTrail/",
    }
    delimited = [call["Prefix"] for call in listings.calls if call.get("Delimiter") == "/"]
    plain = [call["Prefix"] for call in listings.calls if "Delimiter" not in call]
    assert sorted(delimited) == sorted(folders)
    assert sorted(plain) == sorted(days)
    expected = {
        key
        for key in bucket.contents
        if "CloudTrail-Digest" not in key and any(key.startswith(day) for day in days)
    }
    assert found == expected
    assert len(found) == 7


def test_a_file_delivered_before_the_window_is_not_read(s3_client: Any, bucket: Bucket) -> None:
    window = TimeWindow(at("2023-07-10T11:50:30"), at("2023-07-10T12:30:00"))

    found = keys_of(source(s3_client, bucket, regions=["us-east-1"]).batches(window), bucket)

    stamps = sorted(key.split("_")[3] for key in found)
    # 1150Z was delivered during 11:50 and may hold events of 11:50:30; 1145Z cannot.
    assert stamps == ["20230710T1150Z", "20230710T1205Z"]


def test_an_open_start_discovers_the_date_folders_up_to_the_end(
    s3_client: Any, bucket: Bucket
) -> None:
    listings = CallRecorder(s3_client, "ListObjectsV2")
    window = TimeWindow(until=at("2023-07-11T00:00:00"))
    region = "logs/AWSLogs/111111111111/CloudTrail/us-east-1/"

    found = keys_of(source(s3_client, bucket, prefix=region).batches(window), bucket)

    assert sorted(key.removeprefix(region)[:10] for key in found) == [
        "2022/12/31",
        "2023/07/09",
        "2023/07/10",
        "2023/07/10",
        "2023/07/10",
        "2023/07/11",
    ]
    plain = sorted(call["Prefix"] for call in listings.calls if "Delimiter" not in call)
    assert plain == [
        f"{region}{day}/" for day in ("2022/12/31", "2023/07/09", "2023/07/10", "2023/07/11")
    ]
    # Years, months and days present: one delimited call per folder level visited.
    assert len(listings.calls) - len(plain) == 1 + 2 + 2


@pytest.mark.parametrize(
    ("prefix", "options", "expected_roots"),
    [
        ("logs/AWSLogs/o-abc123defg", {}, {"logs/AWSLogs/o-abc123defg/333333333333/"}),
        (
            "logs/AWSLogs/111111111111/CloudTrail/eu-west-1/",
            {},
            {"logs/AWSLogs/111111111111/CloudTrail/eu-west-1/"},
        ),
        ("logs", {"accounts": ["222222222222"]}, {"logs/AWSLogs/222222222222/"}),
        ("logs/", {"regions": ["us-west-2"]}, {"logs/AWSLogs/o-abc123defg/333333333333/"}),
    ],
)
def test_the_prefix_and_filters_narrow_discovery(
    s3_client: Any, bucket: Bucket, prefix: str, options: dict[str, Any], expected_roots: set[str]
) -> None:
    window = TimeWindow(at("2023-07-10T00:00:00"), at("2023-07-10T23:00:00"))

    found = keys_of(source(s3_client, bucket, prefix, **options).batches(window), bucket)

    assert found
    assert all(any(key.startswith(root) for root in expected_roots) for key in found)


def test_read_streams_the_listed_object(s3_client: Any, bucket: Bucket) -> None:
    window = TimeWindow(at("2023-07-10T12:00:00"), at("2023-07-10T12:10:00"))
    logs = source(s3_client, bucket, regions=["us-east-1"])

    [batch] = list(logs.batches(window))
    data = logs.read(batch)

    key = batch.key.removeprefix(f"s3://{bucket.name}/")
    assert data == bucket.contents[key]
    assert batch.size == len(data)
    sample = next(p for p in invictus_files() if p.name == layout()[key.removeprefix("logs/")])
    assert gzip.decompress(data) == sample.read_bytes()
    assert len(records_of(sample)) > 0


def test_read_refuses_an_object_changed_since_it_was_listed(
    s3_client: Any, moto_endpoint: str
) -> None:
    name = f"changing-{uuid.uuid4().hex[:12]}"
    s3_client.create_bucket(Bucket=name)
    key = "AWSLogs/111111111111/CloudTrail/us-east-1/2023/07/10/a.json.gz"
    s3_client.put_object(Bucket=name, Key=key, Body=gzip.compress(b'{"Records": []}'))
    logs = S3CloudTrailSource(s3_client, S3Location.parse(f"s3://{name}"), clock=lambda: NOW)
    [batch] = list(logs.batches(TimeWindow(at("2023-07-10T00:00:00"), at("2023-07-10T01:00:00"))))
    s3_client.put_object(Bucket=name, Key=key, Body=gzip.compress(b'{"Records": [{}]}'))

    with pytest.raises(AwsSourceError, match=r"a\.json\.gz: cannot read: PreconditionFailed"):
        logs.read(batch)


def test_a_missing_bucket_is_an_error_naming_it(s3_client: Any) -> None:
    logs = S3CloudTrailSource(s3_client, S3Location.parse("s3://no-such-bucket-here/x"))

    with pytest.raises(
        AwsSourceError, match=r"s3://no-such-bucket-here/x/AWSLogs/: .*NoSuchBucket"
    ):
        list(logs.batches(TimeWindow(at("2023-07-10T00:00:00"), at("2023-07-11T00:00:00"))))


@pytest.mark.parametrize(
    ("url", "bucket_name", "prefix"),
    [
        ("s3://b", "b", ""),
        ("s3://b/", "b", ""),
        ("s3://b/logs", "b", "logs/"),
        ("s3://b//a/b/", "b", "a/b/"),
    ],
)
def test_location_parse(url: str, bucket_name: str, prefix: str) -> None:
    assert S3Location.parse(url) == S3Location(bucket_name, prefix)


@pytest.mark.parametrize("url", ["b/logs", "s3://", "s3:///logs", "https://b.s3.amazonaws.com/x"])
def test_location_parse_rejects(url: str) -> None:
    with pytest.raises(AwsSourceError, match="s3://bucket/prefix"):
        S3Location.parse(url)


def test_a_prefix_below_the_region_is_rejected(s3_client: Any) -> None:
    location = S3Location.parse("s3://b/AWSLogs/111111111111/CloudTrail/us-east-1/2023/07")

    with pytest.raises(AwsSourceError, match="--since/--until"):
        S3CloudTrailSource(s3_client, location)


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("x/1_CloudTrail_us-east-1_20230710T1205Z_AbC.json.gz", datetime(2023, 7, 10, 12, 5)),
        ("x/1_CloudTrail_us-east-1_20231310T1205Z_AbC.json.gz", None),
        ("x/custom-name.json.gz", None),
    ],
)
def test_delivered_at(key: str, expected: datetime | None) -> None:
    assert delivered_at(key) == (expected.replace(tzinfo=UTC) if expected else None)
