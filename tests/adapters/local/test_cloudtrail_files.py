from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from alpha.adapters.local.cloudtrail_files import LocalCloudTrailFiles
from alpha.usage.errors import UsageError
from alpha.usage.ports import TimeWindow


def touch(root: Path, relative: str) -> Path:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("{}")
    return path


def names(root: Path, window: TimeWindow | None = None) -> list[str]:
    window = window or TimeWindow()
    source = LocalCloudTrailFiles(root)
    return [Path(b.key).relative_to(root.resolve()).as_posix() for b in source.batches(window)]


TRAIL = "AWSLogs/111122223333/CloudTrail/eu-west-1"
ORG = "AWSLogs/o-abc123/444455556666/CloudTrail/us-east-1"


@pytest.fixture
def bucket(tmp_path: Path) -> Path:
    for day in ("2024/02/28", "2024/03/01", "2024/03/02", "2024/03/05", "2023/12/31"):
        touch(tmp_path, f"{TRAIL}/{day}/log_{day.replace('/', '')}.json.gz")
    touch(tmp_path, f"{ORG}/2024/03/02/org.json.gz")
    touch(tmp_path, "AWSLogs/111122223333/CloudTrail-Digest/eu-west-1/2024/03/02/d.json.gz")
    touch(tmp_path, "manifest.json")  # beside AWSLogs/: not a log
    return tmp_path


def test_every_log_file_without_a_window(bucket: Path) -> None:
    assert names(bucket) == sorted(
        [
            "AWSLogs/o-abc123/444455556666/CloudTrail/us-east-1/2024/03/02/org.json.gz",
            *(
                f"{TRAIL}/{d}/log_{d.replace('/', '')}.json.gz"
                for d in ("2023/12/31", "2024/02/28", "2024/03/01", "2024/03/02", "2024/03/05")
            ),
        ]
    )


def test_only_date_folders_near_the_window_are_walked(bucket: Path) -> None:
    window = TimeWindow(datetime(2024, 3, 2, tzinfo=UTC), datetime(2024, 3, 3, tzinfo=UTC))
    assert names(bucket, window) == [
        f"{TRAIL}/2024/03/01/log_20240301.json.gz",  # a day of slack for late delivery
        f"{TRAIL}/2024/03/02/log_20240302.json.gz",
        f"{ORG}/2024/03/02/org.json.gz",
    ]


def test_an_open_window_end(bucket: Path) -> None:
    window = TimeWindow(since=datetime(2024, 3, 4, tzinfo=UTC))
    assert names(bucket, window) == [f"{TRAIL}/2024/03/05/log_20240305.json.gz"]


def test_any_folder_of_logs(tmp_path: Path) -> None:
    for name in ("a.json", "b.json.gz", "c.jsonl", "d.ndjson", "notes.txt", ".hidden.json"):
        touch(tmp_path, f"x/{name}")
    assert names(tmp_path / "x") == ["a.json", "b.json.gz", "c.jsonl", "d.ndjson"]


def test_a_single_file_whatever_its_name(tmp_path: Path) -> None:
    path = touch(tmp_path, "export.log")
    [batch] = LocalCloudTrailFiles(path).batches(TimeWindow())
    assert batch.key == str(path.resolve())
    assert LocalCloudTrailFiles(path).read(batch) == b"{}"


def test_the_version_follows_size_and_mtime(tmp_path: Path) -> None:
    path = touch(tmp_path, "a.json")
    source = LocalCloudTrailFiles(tmp_path)
    [before] = source.batches(TimeWindow())
    os.utime(path, ns=(1, path.stat().st_mtime_ns + 5))
    [after] = source.batches(TimeWindow())
    assert before.key == after.key
    assert before.version != after.version


def test_a_missing_path_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="nowhere"):
        list(LocalCloudTrailFiles(tmp_path / "nowhere").batches(TimeWindow()))
