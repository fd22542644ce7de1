"""`alpha scan --org ... --save`: the report kept for the console, and kept when a new scan
covers no account."""

from __future__ import annotations

from pathlib import Path

import pytest

from alpha.app.org_report_file import load_org_report
from tests.cli.helpers import run_cli
from tests.org import sample_folder
from tests.org.sample_folder import GENERATED, GENERATED_LOGS, NO_FILE
from tests.sample_accounts import GENERATED_ACCOUNT


def _scan(org: Path, tmp_path: Path, *extra: str) -> list[str]:
    usage = ["--usage", str(GENERATED_LOGS), "--store", str(tmp_path / "u.duckdb")]
    return [
        "scan",
        "--org",
        str(org),
        *usage,
        "--save",
        "--org-report",
        str(tmp_path / "r.json"),
        *extra,
    ]


def test_save_keeps_the_report_and_a_scan_covering_nothing_does_not_replace_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    org = sample_folder.write_sample_folder(tmp_path / "org")
    code, _, err = run_cli(_scan(org, tmp_path, "--format", "json"), capsys)
    assert code == 0, err
    assert f"saved the organisation report to {tmp_path / 'r.json'}" in err
    saved = load_org_report(tmp_path / "r.json")
    assert saved is not None
    assert saved.report["accounts"][0]["account"] == GENERATED
    before = (tmp_path / "r.json").read_bytes()

    code, _, err = run_cli(_scan(org, tmp_path, "--org-account", NO_FILE), capsys)
    assert code == 2
    assert "covers no account" in err
    assert (tmp_path / "r.json").read_bytes() == before


def test_save_needs_an_organisation(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["scan", "--account", str(GENERATED_ACCOUNT), "--usage", str(GENERATED_LOGS)]
    code, _, err = run_cli([*argv, "--store", str(tmp_path / "u.duckdb"), "--save"], capsys)
    assert code == 2
    assert "give --org too" in err
    assert not (tmp_path / "r.json").exists()
