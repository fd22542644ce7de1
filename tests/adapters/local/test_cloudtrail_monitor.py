from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from alpha.adapters.local.cloudtrail_files import LocalCloudTrailFiles
from alpha.adapters.local.cloudtrail_monitor import CloudTrailMonitor
from alpha.adapters.local.duckdb_usage import DuckDBUsageStore
from tests.fakes.cloudtrail_logs import delivery_folder, record, role_arn, write_log


def at(hour: int, minute: int = 0) -> datetime:
    return datetime(2024, 3, 10, hour, minute, tzinfo=UTC)


def test_error_rate_over_new_logs(tmp_path: Path) -> None:
    folder = delivery_folder(tmp_path / "logs", "2024-03-10")
    write_log(folder / "a.json", [record(time="2024-03-10T10:10:00Z")])
    with DuckDBUsageStore(tmp_path / "usage.duckdb") as usage:
        monitor = CloudTrailMonitor([LocalCloudTrailFiles(tmp_path / "logs")], usage)
        before = monitor.error_rate(role_arn(), at(11), at(12))
        assert (before.calls, before.denied) == (0, 0)
        assert before.covered_until == at(10, 10)
        assert not before.covers(at(12))
        write_log(
            folder / "b.json",
            [
                record(time="2024-03-10T11:05:00Z"),
                record("PutObject", time="2024-03-10T11:06:00Z", error="AccessDenied"),
                record(time="2024-03-10T12:30:00Z", role="other"),
            ],
        )
        after = monitor.error_rate(role_arn(), at(11), at(12))
        assert (after.calls, after.denied) == (2, 1)
        assert after.rate == 0.5
        assert after.covers(at(12))
        calls = monitor.calls(role_arn(), at(10), at(12))
        assert {(c.action, c.count) for c in calls} == {("s3:GetObject", 2)}


def test_a_truncated_log_in_the_window_fails_closed(tmp_path: Path) -> None:
    import gzip

    import pytest

    from alpha.rollout.errors import UnreadableLogsError

    day = delivery_folder(tmp_path / "logs", "2024-03-10")
    write_log(day / "a.json", [record(time="2024-03-10T11:05:00Z")])
    denied = [record("PutObject", time="2024-03-10T11:06:00Z", error="AccessDenied")]
    whole = gzip.compress(json.dumps({"Records": denied}).encode())
    (day / "b.json.gz").write_bytes(whole[: len(whole) // 2])  # delivery cut short
    other_day = delivery_folder(tmp_path / "logs", "2024-03-01")
    with DuckDBUsageStore(tmp_path / "usage.duckdb") as usage:
        monitor = CloudTrailMonitor([LocalCloudTrailFiles(tmp_path / "logs")], usage)
        with pytest.raises(UnreadableLogsError, match=r"1 file\(s\) unreadable .*b\.json\.gz"):
            monitor.error_rate(role_arn(), at(11), at(12))
        with pytest.raises(UnreadableLogsError):
            monitor.calls(role_arn(), at(11), at(12))
        (day / "b.json.gz").write_bytes(whole)  # delivered again, whole
        after = monitor.error_rate(role_arn(), at(11), at(12))
        assert (after.calls, after.denied) == (2, 1)
        (other_day / "old.json").write_text("{not json")  # another day: not this window's
        assert monitor.error_rate(role_arn(), at(11), at(12)).denied == 1


def test_records_skipped_when_stored_keep_failing_the_window(tmp_path: Path) -> None:
    import pytest

    from alpha.rollout.errors import UnreadableLogsError

    day = delivery_folder(tmp_path / "logs", "2024-03-10")
    write_log(day / "a.json", [record(time="2024-03-10T11:05:00Z"), record(time=12345)])
    with DuckDBUsageStore(tmp_path / "usage.duckdb") as usage:
        monitor = CloudTrailMonitor([LocalCloudTrailFiles(tmp_path / "logs")], usage)
        for _ in range(2):  # the second time, the file is not read again: still refused
            with pytest.raises(UnreadableLogsError, match="records skipped"):
                monitor.error_rate(role_arn(), at(11), at(12))


def test_a_record_padded_past_the_size_limit_fails_closed(tmp_path: Path) -> None:
    import pytest

    from alpha.rollout.errors import UnreadableLogsError

    day = delivery_folder(tmp_path / "logs", "2024-03-10")
    padded = record("PutObject", time="2024-03-10T11:06:00Z", error="AccessDenied")
    padded["requestParameters"] = {"bucketName": "data", "key": "k", "pad": "x" * (3 << 20)}
    write_log(day / "a.json", [record(time="2024-03-10T11:05:00Z"), padded])
    with DuckDBUsageStore(tmp_path / "usage.duckdb") as usage:
        monitor = CloudTrailMonitor([LocalCloudTrailFiles(tmp_path / "logs")], usage)
        with pytest.raises(UnreadableLogsError, match="record too large"):
            monitor.error_rate(role_arn(), at(11), at(12))
