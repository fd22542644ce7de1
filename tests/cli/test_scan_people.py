"""`alpha scan` over the benchmark generator's Identity Center role: each shared role's line
lists its people, in the table and the JSON, read through the DuckDB store."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.cli.helpers import run_cli

DATA = Path(__file__).resolve().parent.parent / "data" / "people"
ACCOUNT = "726589425873"
SSO = "AWSReservedSSO_PowerUserAccess_e80e5005a16af40e"
SRE = "sre-automation-dev-ops-role"


def role(name: str, path: str) -> dict[str, Any]:
    return {
        "RoleName": name,
        "Arn": f"arn:aws:iam::{ACCOUNT}:role{path}{name}",
        "Path": path,
        "RoleId": "AROA" + name.upper()[:17],
        "CreateDate": "2024-01-01T00:00:00Z",
        "RolePolicyList": [
            {
                "PolicyName": "all",
                "PolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
                },
            }
        ],
        "AttachedManagedPolicies": [],
        "RoleLastUsed": {},
    }


@pytest.fixture
def scan_args(tmp_path: Path) -> list[str]:
    details = {
        "RoleDetailList": [role(SSO, "/aws-reserved/sso.amazonaws.com/"), role(SRE, "/")],
        "UserDetailList": [],
        "GroupDetailList": [],
        "Policies": [],
    }
    account = tmp_path / "account.json"
    account.write_text(json.dumps(details))
    logs = tmp_path / "logs"
    logs.mkdir()
    shutil.copy(DATA / "shared_roles.json.gz", logs)
    store = tmp_path / "usage.duckdb"
    return ["scan", "--account", str(account), "--usage", str(logs), "--store", str(store)]


def test_json_lists_each_shared_roles_people(
    scan_args: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run_cli([*scan_args, "--format", "json"], capsys)
    assert code == 0
    lines = {line["principal"].rpartition("/")[2]: line for line in json.loads(out)}
    sso = [p["person"] for p in lines[SSO]["people"]]
    assert sso[0] == "walter@acme-corp.com"
    assert len(sso) == 6
    assert {p["person"] for p in lines[SRE]["people"]} == {
        "walter@acme-corp.com",
        "mallory@acme-corp.com",
        "identitystore:94482488-3041-7026-18f3-be45837cd0e4",
    }
    assert all(flag["code"] != "split" for flag in lines[SSO]["flags"])


def test_the_table_names_the_people(
    scan_args: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "400")  # wide enough that no cell wraps
    code, out, _ = run_cli(scan_args, capsys)
    assert code == 0
    # 50 authorisations: some of the 45 calls are SSE-KMS uploads, which need the key too
    assert "people: walter@acme-corp.com 50 calls 16 actions last 2024-03-30" in out
    assert "(+3 more)" in out
