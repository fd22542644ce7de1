"""`alpha usage --people`: the people behind shared roles, as a table, JSON, JSON lines, CSV."""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import pytest

from tests.cli.helpers import run_cli

DATA = Path(__file__).resolve().parent.parent / "data"
SSO = "AWSReservedSSO_PowerUserAccess_e80e5005a16af40e"
SIX = ["walter", "ivan", "sybil", "heidi", "yvonne", "dave"]  # most calls first


@pytest.fixture
def logs(tmp_path: Path) -> Path:
    folder = tmp_path / "logs"
    folder.mkdir()
    shutil.copy(DATA / "people" / "shared_roles.json.gz", folder)
    shutil.copy(
        DATA / "cloudtrail" / "panther_cloudtrail_test_events" / "aws_overwrite_lambda_code.json",
        folder,
    )
    return folder


def people(logs: Path, tmp_path: Path, *extra: str) -> list[str]:
    return ["usage", str(logs), "--people", "--store", str(tmp_path / "s.duckdb"), *extra]


def test_json_lists_each_shared_roles_people(
    logs: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run_cli(people(logs, tmp_path, "--format", "json"), capsys)
    assert code == 0
    document = json.loads(out)
    assert document["summary"]["events"] == 213 + 6  # the panther file holds 6 records
    by_role = {p["principal"].rpartition("/")[2]: p for p in document["people"]}
    assert set(by_role) == {SSO, "AWSReservedSSO_DevAdmin_abc123", "sre-automation-dev-ops-role"}
    sso = by_role[SSO]
    assert [p["person"] for p in sso["people"]] == [f"{n}@acme-corp.com" for n in SIX]
    assert sso["split"] is False
    walter = sso["people"][0]
    # 50 authorisations: some of the 45 calls are SSE-KMS uploads, which need the key too
    assert (walter["calls"], len(walter["actions"])) == (50, 16)
    assert walter["last_seen"] == "2024-03-30T15:47:22Z"
    (bob,) = by_role["AWSReservedSSO_DevAdmin_abc123"]["people"]
    assert bob["person"] == "bob.ross"


def test_jsonl_csv_and_the_table(
    logs: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _, out, err = run_cli(people(logs, tmp_path, "--format", "jsonl"), capsys)
    assert len(out.splitlines()) == 3
    assert "219 events" in err
    _, out, _ = run_cli(people(logs, tmp_path, "--format", "csv"), capsys)
    rows = list(csv.DictReader(io.StringIO(out)))
    assert len(rows) == 1 + 6 + 3
    assert rows[0]["person"] == "bob.ross"
    assert rows[0]["actions"] == "lambda:UpdateFunctionCode"
    monkeypatch.setenv("COLUMNS", "250")
    code, out, _ = run_cli(people(logs, tmp_path), capsys)
    assert code == 0
    assert "walter@acme-corp.com" in out
    assert "identitystore:94482488-3041-7026-18f3-be45837cd0e4" in out


def test_one_principal(logs: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    role = f"arn:aws:iam::726589425873:role/aws-reserved/sso.amazonaws.com/{SSO}"
    _, out, _ = run_cli(people(logs, tmp_path, "--format", "json", "--principal", role), capsys)
    assert [p["principal"] for p in json.loads(out)["people"]] == [role]
