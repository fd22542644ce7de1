from __future__ import annotations

import csv
import io
import json
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.cli.helpers import run_cli
from tests.fakes.cloudtrail_logs import (
    SAMPLE_RECORDS,
    SAMPLES,
    delivery_folder,
    record,
    role_arn,
    write_log,
)

run = run_cli


@pytest.fixture
def trail(tmp_path: Path) -> Path:
    day1 = delivery_folder(tmp_path / "trail", "2024-03-10")
    day2 = delivery_folder(tmp_path / "trail", "2024-03-12")
    write_log(day1 / "a.json.gz", [record("GetObject"), record("PutObject", error="AccessDenied")])
    write_log(day2 / "b.json", [record("ListBuckets", role="admin", time="2024-03-12T08:00:00Z")])
    return tmp_path / "trail"


def usage(trail: Path, tmp_path: Path, *extra: str) -> list[str]:
    return ["usage", str(trail), "--store", str(tmp_path / "s.duckdb"), *extra]


def test_json_is_one_object_with_summary_and_usage(
    trail: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(usage(trail, tmp_path, "--format", "json"), capsys)
    assert code == 0
    document = json.loads(out)
    summary = document["summary"]
    assert (summary["files"], summary["events"], summary["events_read"]) == (2, 3, 3)
    assert summary["skipped"] == {}
    assert summary["unmapped"] == []
    assert document["usage"][0] == {
        "principal": role_arn("admin"),
        "action": "s3:ListAllMyBuckets",
        "resource": "*",
        "count": 1,
        "denied": 0,
        "first_seen": "2024-03-12T08:00:00Z",
        "last_seen": "2024-03-12T08:00:00Z",
        "sessions": [],
        "regions": ["eu-west-1"],
    }
    code, out, _ = run(usage(trail, tmp_path, "--format", "json"), capsys)
    again = json.loads(out)
    assert again["summary"]["events_read"] == 0
    assert again["usage"] == document["usage"]


def test_the_real_samples(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(usage(SAMPLES, tmp_path, "--format", "json"), capsys)
    assert code == 0
    summary = json.loads(out)["summary"]
    assert summary["events"] == summary["events_read"] == SAMPLE_RECORDS
    assert summary["unmapped"]
    assert all(u["count"] > 0 for u in summary["unmapped"])


def test_jsonl_and_csv_print_only_rows(
    trail: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, out, err = run(usage(trail, tmp_path, "--format", "jsonl"), capsys)
    lines = [json.loads(line) for line in out.splitlines()]
    assert [(r["action"], r["count"], r["denied"]) for r in lines] == [
        ("s3:ListAllMyBuckets", 1, 0),
        ("s3:GetObject", 1, 0),
        ("s3:PutObject", 0, 1),
    ]
    assert "3 events" in err
    _, out, _ = run(usage(trail, tmp_path, "--format", "csv"), capsys)
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [(r["action"], r["count"], r["denied"]) for r in rows] == [
        ("s3:ListAllMyBuckets", "1", "0"),
        ("s3:GetObject", "1", "0"),
        ("s3:PutObject", "0", "1"),
    ]
    assert rows[0]["first_seen"] == "2024-03-12T08:00:00Z"
    assert rows[0]["regions"] == "eu-west-1"


def test_table(
    trail: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "250")
    code, out, _ = run(usage(trail, tmp_path), capsys)
    assert code == 0
    assert "s3:PutObject" in out
    assert "3 events" in out


@pytest.mark.parametrize(
    ("options", "actions"),
    [
        (["--principal", role_arn("admin")], ["s3:ListAllMyBuckets"]),
        (["--since", "2024-03-11"], ["s3:ListAllMyBuckets"]),
        (["--until", "2024-03-10"], ["s3:GetObject", "s3:PutObject"]),
        (["--since", "2024-03-12T09:00:00"], []),
        (
            ["--since", "2024-03-10", "--until", "2024-03-12T07:59:00Z"],
            ["s3:GetObject", "s3:PutObject"],
        ),
    ],
)
def test_filters(
    trail: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    options: list[str],
    actions: list[str],
) -> None:
    _, out, _ = run(usage(trail, tmp_path, "--format", "json", *options), capsys)
    assert [r["action"] for r in json.loads(out)["usage"]] == actions


def test_a_bad_file_is_a_warning_or_with_strict_an_error(
    trail: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (delivery_folder(trail, "2024-03-10") / "junk.json").write_bytes(b"\x00\x01binary")
    code, out, err = run(usage(trail, tmp_path, "--format", "jsonl"), capsys)
    assert code == 0
    assert "warning: skipped" in err
    assert "junk.json" in err
    assert "not JSON" in err
    assert len(out.splitlines()) == 3
    code, out, err = run(usage(trail, tmp_path, "--format", "json"), capsys)
    summary = json.loads(out)["summary"]
    assert summary["skipped"] == {"not JSON": 1}
    assert summary["problems"][0]["file"].endswith("junk.json")
    code, out, err = run(usage(trail, tmp_path, "--strict"), capsys)
    assert code == 2
    assert err.startswith("alpha: error: ")
    assert "junk.json" in err
    assert len(err.strip().splitlines()) == 1


def test_records_past_those_described_are_counted_in_the_summary(
    trail: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    not_records: list[Any] = [1] * 130
    write_log(delivery_folder(trail, "2024-03-10") / "bad.json", [record(), *not_records])
    code, out, _ = run(usage(trail, tmp_path, "--format", "json"), capsys)
    summary = json.loads(out)["summary"]
    assert (code, summary["skipped"]) == (0, {"record is not an object": 130})
    assert (len(summary["problems"]), summary["problems_unlisted"]) == (100, 30)
    fresh = ["--store", str(tmp_path / "fresh.duckdb")]
    _, _, err = run(usage(trail, tmp_path, "--format", "jsonl", *fresh), capsys)
    assert "... and 110 more skipped" in err  # 20 warnings shown of 130


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["usage", "/no/such/folder"], "/no/such/folder: no such file or folder"),
        (["usage", ".", "--since", "yesterday"], "not a date"),
        (
            ["usage", ".", "--since", "2024-03-02", "--until", "2024-03-01"],
            "--since must be before",
        ),
    ],
)
def test_bad_arguments_exit_2(
    argv: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run([*argv, "--store", str(tmp_path / "s.duckdb")], capsys)
    assert code == 2
    assert message in err


def test_a_corrupt_store_exits_2(
    trail: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "s.duckdb").write_bytes(b"garbage" * 1000)
    code, _, err = run(usage(trail, tmp_path), capsys)
    assert code == 2
    assert "s.duckdb" in err
    assert len(err.strip().splitlines()) == 1


def test_a_progress_bar_on_a_terminal_leaves_stdout_clean(
    trail: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import alpha.cli.usage as usage_command

    monkeypatch.setattr(usage_command, "_PROGRESS_MIN_BYTES", 0)
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    code, out, err = run(usage(trail, tmp_path, "--format", "json"), capsys)
    assert code == 0
    assert json.loads(out)["summary"]["events_read"] == 3
    assert "reading logs" in err
