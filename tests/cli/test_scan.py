from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import pytest

from tests.cli.helpers import run_cli
from tests.fakes.cloudtrail_logs import delivery_folder, record, role_arn, write_log
from tests.sample_accounts import GENERATED_ACCOUNT

GENERATED_LOGS = (
    Path(__file__).resolve().parent.parent / "scan" / "data" / "cloudtrail-455383650158"
)


run = run_cli


def role_detail(name: str, actions: list[str]) -> dict[str, Any]:
    return {
        "RoleName": name,
        "Arn": role_arn(name),
        "Path": "/",
        "RoleId": f"AROA{name.upper()}",
        "CreateDate": "2024-01-01T00:00:00Z",
        "RolePolicyList": [
            {
                "PolicyName": f"{name}-policy",
                "PolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}],
                },
            }
        ],
        "AttachedManagedPolicies": [],
        "RoleLastUsed": {},
    }


@pytest.fixture
def account(tmp_path: Path) -> Path:
    details = {
        "RoleDetailList": [
            role_detail("app", ["s3:GetObject", "s3:PutObject"]),
            role_detail("admin", ["*"]),
            role_detail("idle", ["sqs:SendMessage"]),
        ],
        "UserDetailList": [],
        "GroupDetailList": [],
        "Policies": [],
    }
    path = tmp_path / "account.json"
    path.write_text(json.dumps(details))
    return path


@pytest.fixture
def trail(tmp_path: Path) -> Path:
    day = delivery_folder(tmp_path / "trail", "2024-03-10")
    write_log(
        day / "a.json.gz",
        [record("GetObject"), record("ListBuckets", role="admin", time="2024-03-10T08:00:00Z")],
    )
    return tmp_path / "trail"


def scan_args(account: Path, trail: Path, tmp_path: Path, *extra: str) -> list[str]:
    return [
        "scan",
        "--account",
        str(account),
        "--usage",
        str(trail),
        "--store",
        str(tmp_path / "s.duckdb"),
        *extra,
    ]


def test_json_is_a_ranked_list(
    account: Path, trail: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(scan_args(account, trail, tmp_path, "--format", "json"), capsys)
    assert code == 0
    scores = json.loads(out)
    assert [s["principal"] for s in scores] == [
        role_arn("admin"),
        role_arn("app"),
        role_arn("idle"),
    ]
    assert [s["rank"] for s in scores] == [1, 2, 3]
    for score in scores:
        assert {"principal", "score", "granted", "used", "flags"} <= score.keys()
    admin, app, idle = scores
    assert [f["code"] for f in admin["flags"]] == ["admin", "escalation"]
    assert app["used"] == 1
    assert app["flags"] == []
    assert [f["code"] for f in idle["flags"]] == ["unused"]
    assert admin["score"] > app["score"] > 0


def test_top_limits_the_output(
    account: Path, trail: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(
        scan_args(account, trail, tmp_path, "--format", "json", "--top", "1"), capsys
    )
    assert code == 0
    assert [s["principal"] for s in json.loads(out)] == [role_arn("admin")]


def test_table_shows_every_principal_and_a_summary(
    account: Path, trail: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(scan_args(account, trail, tmp_path), capsys)
    assert code == 0
    for name in ("role/admin", "role/app", "role/idle"):
        assert name in out
    assert "3 principals: 1 admin-equivalent, 1 can escalate, 1 unused in the window" in out


@pytest.mark.parametrize(
    ("fail_on", "code"),
    [("admin", 1), ("escalation,unused", 1), ("unused", 1), ("", 0)],
)
def test_fail_on_exits_1_when_a_principal_has_the_flag(
    account: Path,
    trail: Path,
    *,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    fail_on: str,
    code: int,
) -> None:
    extra = ["--fail-on", fail_on] if fail_on else []
    got, out, err = run(scan_args(account, trail, tmp_path, "--format", "json", *extra), capsys)
    assert got == code
    assert json.loads(out)  # the report is written whatever the exit code
    assert ("--fail-on" in err) == bool(code)


def test_fail_on_counts_principals_beyond_top(
    account: Path, trail: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = scan_args(
        account, trail, tmp_path, "--format", "json", "--top", "1", "--fail-on", "unused"
    )
    code, _, err = run(args, capsys)
    assert code == 1
    assert "1 principal flagged unused" in err


def test_a_clean_account_passes_fail_on(
    tmp_path: Path, trail: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "clean.json"
    path.write_text(json.dumps({"RoleDetailList": [role_detail("app", ["s3:GetObject"])]}))
    args = scan_args(path, trail, tmp_path, "--fail-on", "admin,escalation,unused")
    code, _, err = run(args, capsys)
    assert code == 0
    assert "not in the snapshot" in err  # the admin role of the logs is not in this account


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ("missing-account", "missing.json: cannot read"),
        ("bad-account", "bad.json: line 1 column 2: not JSON"),
        ("missing-usage", "nowhere: no such file or folder"),
    ],
)
def test_errors_are_one_line_and_exit_2(
    tmp_path: Path,
    account: Path,
    *,
    trail: Path,
    capsys: pytest.CaptureFixture[str],
    setup: str,
    message: str,
) -> None:
    (tmp_path / "bad.json").write_text("{nope")
    account_file = {
        "missing-account": tmp_path / "missing.json",
        "bad-account": tmp_path / "bad.json",
    }
    usage = tmp_path / "nowhere" if setup == "missing-usage" else trail
    code, out, err = run(scan_args(account_file.get(setup, account), usage, tmp_path), capsys)
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1
    assert err.startswith("alpha: error: ")
    assert message in err


def test_unknown_fail_on_flag_is_a_usage_error(
    account: Path, trail: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(scan_args(account, trail, tmp_path, "--fail-on", "admin,root"), capsys)
    assert code == 2
    assert "unknown flag root" in err


def test_generated_account_with_its_logs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The benchmark generator's 12-role account and 300 of its events (see
    tests/scan/data/README.md)."""
    code, out, err = run(
        scan_args(GENERATED_ACCOUNT, GENERATED_LOGS, tmp_path, "--format", "json"), capsys
    )
    assert code == 0
    scores = {s["principal"].rpartition("/")[2]: s for s in json.loads(out)}
    details = json.loads(GENERATED_ACCOUNT.read_text())["RoleDetailList"]
    assert len(scores) == len(details) == 12

    def inline_actions(role: dict[str, Any]) -> set[str]:
        return {
            a
            for p in role["RolePolicyList"]
            for s in p["PolicyDocument"]["Statement"]
            for a in ([s["Action"]] if isinstance(s.get("Action"), str) else s.get("Action", []))
        }

    for role in details:
        score = scores[role["RoleName"]]
        codes = [f["code"] for f in score["flags"]]
        # iam:* on * (the generator's inline policies grant whole services on `*`)
        assert ("admin" in codes) == ("iam:*" in inline_actions(role)), role["RoleName"]
        if role["AttachedManagedPolicies"]:  # the NotAction power-user policy: broad, not admin
            assert "admin" not in codes
            assert "escalation" in codes
            assert score["granted"] > 10_000
        assert score["used"] <= score["granted"]
    ranked = list(json.loads(out))
    assert all(a["score"] >= b["score"] for a, b in itertools.pairwise(ranked))
    assert "arn:aws:iam::455383650158:root" in err  # a caller the snapshot does not hold
