from __future__ import annotations

import gzip
import json
from collections.abc import Sequence
from pathlib import Path

import pytest

from alpha.usage.errors import UsageError
from alpha.usage.reader import (
    MAX_FILE_BYTES,
    MAX_RECORD_BYTES,
    LazyLogReader,
    LogFormat,
    LogReader,
    ReadLimits,
    SkipReason,
)
from tests.fakes.cloudtrail_logs import SAMPLE_RECORDS, SAMPLES, record
from tests.usage.hostile import MIB, gzip_bomb, with_field

SAMPLE_FOLDERS = {
    "invictus_aws_dataset": (LogFormat.RECORDS, 2900),
    "stratus_detonation_logs": (LogFormat.ARRAY, 310),
    "panther_cloudtrail_test_events": (LogFormat.RECORDS, 453),
}


def test_every_sample_record_is_read() -> None:
    reader = LogReader()
    total = 0
    for path in sorted(SAMPLES.rglob("*.json")):
        decoded = reader.decode(path.read_bytes(), str(path))
        assert decoded.format is not None, decoded.problems
        total += decoded.records
    assert total == SAMPLE_RECORDS


@pytest.mark.parametrize(("folder", "expected"), SAMPLE_FOLDERS.items())
def test_each_sample_folder_has_its_format(folder: str, expected: tuple[LogFormat, int]) -> None:
    reader = LogReader()
    fmt, count = expected
    files = sorted((SAMPLES / folder).glob("*.json"))
    decoded = [reader.decode(p.read_bytes(), str(p)) for p in files]
    assert {d.format for d in decoded} == {fmt}
    assert sum(d.records for d in decoded) == count


def test_gzipped_samples_read_the_same() -> None:
    reader = LogReader()
    for path in sorted((SAMPLES / "invictus_aws_dataset").glob("*.json"))[:5]:
        plain = reader.decode(path.read_bytes(), str(path))
        packed = reader.decode(gzip.compress(path.read_bytes()), str(path) + ".gz")
        assert packed.compressed
        assert not plain.compressed
        assert packed.events == plain.events


def test_json_lines_of_a_sample_read_the_same() -> None:
    reader = LogReader()
    path = sorted((SAMPLES / "invictus_aws_dataset").glob("*.json"))[0]
    records = json.loads(path.read_bytes())["Records"]
    lines = "\n".join(json.dumps(r) for r in records).encode()
    decoded = reader.decode(lines, "x.jsonl")
    assert decoded.format is LogFormat.JSON_LINES
    assert decoded.events == reader.decode(path.read_bytes(), str(path)).events


@pytest.mark.parametrize(
    ("data", "fmt", "count"),
    [
        (json.dumps({"Records": [record(), record()]}), LogFormat.RECORDS, 2),
        (json.dumps({"Records": []}), LogFormat.RECORDS, 0),
        (json.dumps({"other": 1, "Records": [record()]}), LogFormat.RECORDS, 1),
        ("  \n" + json.dumps([record()], indent=2), LogFormat.ARRAY, 1),
        ("[]", LogFormat.ARRAY, 0),
        (json.dumps(record()) + "\n\n" + json.dumps(record()) + "\n", LogFormat.JSON_LINES, 2),
        (json.dumps(record(), indent=2), LogFormat.JSON_LINES, 1),
        ("\ufeff" + json.dumps({"Records": [record()]}), LogFormat.RECORDS, 1),
    ],
    ids=[
        "records",
        "empty-records",
        "records-not-first",
        "array",
        "empty-array",
        "lines",
        "one-object",
        "bom",
    ],
)
def test_formats_are_detected(data: str, fmt: LogFormat, count: int) -> None:
    for raw in (data.encode(), gzip.compress(data.encode())):
        decoded = LogReader().decode(raw, "f")
        assert decoded.format is fmt
        assert len(decoded.events) == count
        assert decoded.problems == ()


BAD_FILES = {
    "corrupt-gzip": (gzip.compress(b'{"Records": []}')[:12] + b"garbage", SkipReason.CORRUPT_GZIP),
    "empty": (b"", SkipReason.EMPTY_FILE),
    "blank": (b"  \n ", SkipReason.EMPTY_FILE),
    "binary": (bytes(range(256)) * 4, SkipReason.NOT_JSON),
    "text": (b"hello, world", SkipReason.NOT_JSON),
    "truncated": (json.dumps({"Records": [record()]}).encode()[:-30], SkipReason.TRUNCATED),
    "truncated-array": (json.dumps([record()]).encode()[:-5], SkipReason.TRUNCATED),
    "bad-utf8": (b'{"Records": [{"eventName": "\xff"}]}', SkipReason.NOT_JSON),
    "not-cloudtrail-object": (b'{"hello": "world"}', SkipReason.NOT_CLOUDTRAIL),
    "records-not-a-list": (b'{"Records": 5}', SkipReason.NOT_CLOUDTRAIL),
    "array-of-numbers": (b"[1, 2, 3]", SkipReason.NOT_CLOUDTRAIL),
    "array-of-other-objects": (b'[{"a": 1}, {"b": 2}]', SkipReason.NOT_CLOUDTRAIL),
    "digest-file": (
        json.dumps({"awsAccountId": "1", "digestStartTime": "x", "logFiles": []}).encode(),
        SkipReason.NOT_CLOUDTRAIL,
    ),
}


@pytest.mark.parametrize(("data", "reason"), BAD_FILES.values(), ids=BAD_FILES.keys())
def test_a_bad_file_is_skipped_with_its_reason(data: bytes, reason: SkipReason) -> None:
    decoded = LogReader().decode(data, "logs/bad.json")
    assert decoded.format is None
    assert decoded.events == []
    [problem] = decoded.problems
    assert (problem.file, problem.reason, problem.record) == ("logs/bad.json", reason, None)
    with pytest.raises(UsageError, match=r"logs/bad\.json"):
        LogReader(strict=True).decode(data, "logs/bad.json")


BAD_RECORDS = {
    "wrong-type": (record(eventName=5), SkipReason.WRONG_TYPE, "eventName"),
    "nested-wrong-type": (record(resources=["arn"]), SkipReason.WRONG_TYPE, "resources"),
    "identity-not-object": (record(userIdentity="root"), SkipReason.WRONG_TYPE, "userIdentity"),
    "missing-name": ({"eventSource": "s3.amazonaws.com"}, SkipReason.MISSING_FIELD, "eventName"),
    "missing-source": ({"eventName": "GetObject"}, SkipReason.MISSING_FIELD, "eventSource"),
    "not-an-object": ("a string", SkipReason.NOT_A_RECORD, "object"),
    "too-large": (with_field(MAX_RECORD_BYTES), SkipReason.RECORD_TOO_LARGE, "over the limit"),
}


@pytest.mark.parametrize("fmt", ["records", "array", "lines"])
@pytest.mark.parametrize(("bad", "reason", "detail"), BAD_RECORDS.values(), ids=BAD_RECORDS.keys())
def test_a_bad_record_is_skipped_and_the_good_ones_kept(
    fmt: str, bad: object, reason: SkipReason, detail: str
) -> None:
    records = [record(name="GetObject"), bad, record(name="PutObject")]
    if fmt == "records":
        data = json.dumps({"Records": records})
    elif fmt == "array":
        data = json.dumps(records)
    else:
        data = "\n".join(json.dumps(r) for r in records)
    decoded = LogReader().decode(data.encode(), "f.json")
    assert [e.eventName for e in decoded.events] == ["GetObject", "PutObject"]
    [problem] = decoded.problems
    assert (problem.reason, problem.record) == (reason, 1)
    assert detail in problem.detail
    assert decoded.records == 3
    with pytest.raises(UsageError, match=r"f\.json: record 1"):
        LogReader(strict=True).decode(data.encode(), "f.json")


def test_a_broken_line_in_json_lines_is_skipped() -> None:
    data = f"{json.dumps(record())}\n{{not json\n{json.dumps(record())}\n".encode()
    decoded = LogReader().decode(data, "f.jsonl")
    assert len(decoded.events) == 2
    [problem] = decoded.problems
    assert (problem.reason, problem.record) == (SkipReason.NOT_JSON, 1)


def test_missing_event_time_is_left_to_the_interpretation() -> None:
    event = record()
    del event["eventTime"]
    decoded = LogReader().decode(json.dumps([event]).encode(), "f")
    assert decoded.problems == ()
    assert decoded.events[0].eventTime is None


def test_a_multi_member_gzip_is_read_whole(tmp_path: Path) -> None:
    first = gzip.compress(json.dumps(record()).encode() + b"\n")
    second = gzip.compress(json.dumps(record(name="PutObject")).encode() + b"\n")
    decoded = LogReader().decode(first + second, "f.jsonl.gz")
    assert [e.eventName for e in decoded.events] == ["GetObject", "PutObject"]


def formatted(records: Sequence[object], fmt: str, indent: int | None = None) -> bytes:
    if fmt == "records":
        return json.dumps({"Records": records}, indent=indent).encode()
    if fmt == "array":
        return json.dumps(records, indent=indent).encode()
    return "\n".join(f"  {json.dumps(r)}  " for r in records).encode()


@pytest.mark.parametrize("reader", [LogReader, LazyLogReader])
@pytest.mark.parametrize("fmt", ["records", "array", "lines", "lone"])
def test_a_record_may_hold_up_to_the_limit_its_whitespace_aside(
    reader: type[LogReader | LazyLogReader], fmt: str
) -> None:
    """A record's size is its JSON's, from its first byte to its last, on every reader path:
    the typed decoding of a whole file, and record by record (a bad record elsewhere). A file
    whose only record is too large holds no CloudTrail record, and says why."""
    big = with_field(1000)
    size = len(json.dumps(big))
    for bad in ([], ["a string"]):
        for limit, kept in ((size, True), (size - 1, False)):
            records = [big, *bad] if fmt == "lone" else [record(), big, *bad]
            data = formatted(records, "lines" if fmt == "lone" else fmt)
            decoded = reader(limits=ReadLimits(record_bytes=limit)).decode(data + b" \n", "f")
            found = [
                (p.record, p.detail.endswith(f"over the limit of {limit:,}"))
                for p in decoded.problems
            ]
            if fmt == "lone" and not kept:
                assert found == [(None, True)]  # not one CloudTrail record in the file
            else:
                too_large = [] if kept else [(len(records) - 1 - len(bad), True)]
                assert found == too_large + [(len(records) - 1, False)] * len(bad), (limit, bad)


@pytest.mark.parametrize("where", ["requestParameters", "eventName", "userIdentity", "fields"])
@pytest.mark.parametrize("fmt", ["records", "array", "lines"])
def test_a_record_over_the_limit_is_skipped_wherever_its_bytes_are(where: str, fmt: str) -> None:
    records = [record(), with_field(MAX_RECORD_BYTES, where), record(name="PutObject")]
    decoded = LazyLogReader().decode(formatted(records, fmt, indent=1), "f.json")
    assert [e.eventName for e in decoded.events] == ["GetObject", "PutObject"]
    [problem] = decoded.problems
    assert (problem.reason, problem.record) == (SkipReason.RECORD_TOO_LARGE, 1)
    assert f"over the limit of {MAX_RECORD_BYTES:,}" in problem.detail


GOOD = json.dumps({"Records": [record()]}).encode()
TOO_LARGE = {
    # (data, limits, what the problem says)
    "plain": (GOOD + b" " * 100, ReadLimits(file_bytes=len(GOOD) + 99), f"{len(GOOD) + 100:,}"),
    "gzipped": (gzip.compress(GOOD + b" " * 1000), ReadLimits(file_bytes=1000), "gunzipped"),
    "bomb-of-6-gb": (gzip_bomb(6 * 1024), ReadLimits(), f"{MAX_FILE_BYTES:,} bytes once"),
    "bomb-that-claims-1-kb": (gzip_bomb(64, claimed=1000), ReadLimits(file_bytes=MIB), "once"),
    "bomb-that-claims-its-size": (gzip_bomb(64), ReadLimits(file_bytes=MIB), "once"),
}


@pytest.mark.parametrize("reader", [LogReader, LazyLogReader])
@pytest.mark.parametrize(("data", "limits", "detail"), TOO_LARGE.values(), ids=TOO_LARGE.keys())
def test_a_file_over_the_size_limit_is_refused(
    reader: type[LogReader | LazyLogReader], data: bytes, limits: ReadLimits, detail: str
) -> None:
    """Gunzipping stops at the limit: a 6 MB bomb of 6 GB costs 256 MB here, not 6 GB."""
    decoded = reader(limits=limits).decode(data, "big.json")
    assert (decoded.format, decoded.events) == (None, [])
    [problem] = decoded.problems
    assert (problem.reason, problem.record) == (SkipReason.TOO_LARGE, None)
    assert detail in problem.detail
    with pytest.raises(UsageError, match="file too large"):
        reader(strict=True, limits=limits).decode(data, "big.json")


def test_a_file_at_the_size_limit_is_read() -> None:
    limits = ReadLimits(file_bytes=len(GOOD))
    for data in (GOOD, gzip.compress(GOOD)):
        assert LogReader(limits=limits).decode(data, "f").events


@pytest.mark.parametrize(
    "text",
    [
        "[" * 100_000 + "]" * 100_000,
        '{"Records": [' + "[" * 100_000 + "]" * 100_000 + "]}",
        '{"Records": [{"eventVersion": ' + "[" * 100_000 + "]" * 100_000 + "}]}",
    ],
)
def test_json_nested_too_deeply_is_skipped_with_a_reason(text: str) -> None:
    from alpha.usage.reader import LogReader

    decoded = LogReader().decode(text.encode(), "deep.json")
    assert decoded.events == []
    assert [p.reason for p in decoded.problems] == [SkipReason.NOT_JSON]
    assert "nested too deeply" in decoded.problems[0].detail
