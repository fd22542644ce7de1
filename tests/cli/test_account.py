from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.helpers import run_cli
from tests.sample_accounts import EDGE_CASES_ACCOUNT

EDGE = str(EDGE_CASES_ACCOUNT)
A = "111122223333"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    return run_cli([*args], capsys)


def test_show_json_lists_principals_and_gaps(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "account", "show", EDGE, "--format", "json")
    summary = json.loads(out)
    assert code == 0
    assert summary["account_id"] == A
    assert len(summary["principals"]) == 6
    assert summary["unresolved_policies"] == [
        "arn:aws:iam::aws:policy/ReadOnlyAccess",
        f"arn:aws:iam::{A}:policy/missing-boundary",
    ]


def test_show_principal_json_labels_every_policy(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys,
        "account",
        "show",
        EDGE,
        "--principal",
        f"arn:aws:iam::{A}:user/alice",
        "--format",
        "json",
    )
    shown = json.loads(out)
    assert code == 0
    assert [(p["kind"], p["name"]) for p in shown["policies"]] == [
        ("inline", "alice-inline"),
        ("group-inline", "dev-inline"),
        ("group-managed", "dev-tools"),
        ("group-managed", "SecurityAudit"),
    ]
    assert shown["boundary"]["arn"] == f"arn:aws:iam::{A}:policy/dev-boundary"
    assert shown["complete"] is True


def test_show_table_names_unresolved(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "account", "show", EDGE, "--principal", f"arn:aws:iam::{A}:user/bob")
    assert code == 0
    assert "group 'ghost-group' is not in the snapshot" in out


def test_unknown_principal_is_one_error_line(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(
        capsys, "account", "show", EDGE, "--principal", f"arn:aws:iam::{A}:role/nobody"
    )
    assert code == 2
    assert out == ""
    assert err == f"alpha: error: {EDGE}: no role or user arn:aws:iam::{A}:role/nobody\n"


MARKUP_ROLE = f"arn:aws:iam::{A}:role/[/]/:smile:/app"
MARKUP_BOUNDARY = f"arn:aws:iam::{A}:policy/[bold]/b"


@pytest.mark.parametrize(
    ("extra", "shown"),
    [
        ((), "role/[/]/:smile:/app"),
        (("--principal", MARKUP_ROLE), f"Permissions boundary: {MARKUP_BOUNDARY}"),
        (("--principal", MARKUP_ROLE), f"managed policy {MARKUP_BOUNDARY}"),
    ],
)
def test_names_are_shown_as_written_never_as_markup(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    extra: tuple[str, ...],
    shown: str,
) -> None:
    # IAM paths may hold `[`, `]` and `:`; Rich read `[/]` as a closing tag and failed
    monkeypatch.setenv("COLUMNS", "200")  # wide enough that no name is folded
    role = {
        "RoleName": "app",
        "Path": "/[/]/:smile:/",
        "Arn": MARKUP_ROLE,
        "AttachedManagedPolicies": [{"PolicyName": "b", "PolicyArn": MARKUP_BOUNDARY}],
        "PermissionsBoundary": {"PermissionsBoundaryArn": MARKUP_BOUNDARY},
    }
    account = tmp_path / "account.json"
    account.write_text(json.dumps({"RoleDetailList": [role]}))
    code, out, err = run(capsys, "account", "show", str(account), *extra)
    assert (code, err) == (0, "")
    assert shown in out
