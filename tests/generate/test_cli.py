"""`alpha generate` on the Invictus sample logs: JSON shape, --all, exit codes, errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from alpha.cli.main import cli

DATA = Path(__file__).parents[1] / "data"
LOGS = DATA / "cloudtrail" / "invictus_aws_dataset"
ACCOUNT = Path(__file__).parent / "data" / "invictus-account.json"
BERT = "arn:aws:iam::123837392027:user/bert-jan"
KEYS = [
    "principal",
    "proposed_policy",
    "rationale",
    "risk_signal",
    "guardrail_violations",
    "remediation_notes",
    "diff",
    "evidence",
    "inferred",
    "replay",
    "plan",
    "guardrail_fixes",
    "blocked",
    "size",
    "notes",
]


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("store") / "usage.duckdb"


def run(store: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(
        cli,
        ["generate", "--usage", str(LOGS), "--account", str(ACCOUNT), "--store", str(store), *args],
    )
    return result.exit_code, result.stdout, result.stderr


def test_json_for_one_principal_is_exactly_the_proposal_object(store: Path) -> None:
    code, out, err = run(store, "--principal", BERT, "--format", "json")
    proposal = json.loads(out)
    assert list(proposal) == KEYS
    assert proposal["principal"] == BERT
    assert proposal["replay"]["observed"] == proposal["replay"]["allowed"] > 800
    assert {"window", "events", "principals", "sessions"} <= set(proposal["evidence"])
    assert proposal["diff"]["privilege_reduction"] > 0.9
    detach = next(s for s in proposal["plan"] if s["action"] == "detach")
    assert detach["arn"] == "arn:aws:iam::aws:policy/AdministratorAccess"
    assert detach["shared_with"] == ["arn:aws:iam::123837392027:user/benjamin"]
    sids = [s["Sid"] for s in proposal["proposed_policy"]["Statement"]]
    assert "DenyOutsideUsEast1" in sids  # the region Deny is kept
    assert all(set(v) >= {"code", "message", "path"} for v in proposal["guardrail_violations"])
    # blocking guardrail violations (privilege escalation in this attack sample) exit 1
    assert code == (1 if proposal["blocked"] else 0)
    assert "proposals" in err


def test_all_gives_a_list_of_every_principal_with_usage(store: Path) -> None:
    _, out, _ = run(store, "--all", "--format", "json")
    proposals = json.loads(out)
    assert [p["principal"] for p in proposals] == [
        "arn:aws:iam::123837392027:user/benjamin",
        BERT,
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--principal", "arn:aws:iam::123837392027:user/nobody"], "no role or user"),
        (["--principal", BERT, "--all"], "either --principal ARN or --all"),
        ([], "either --principal ARN or --all"),
    ],
)
def test_errors_are_one_line_and_exit_2(
    store: Path, args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from alpha.cli.main import main

    with pytest.raises(SystemExit) as exit_info:
        main(
            [
                "generate",
                "--usage",
                str(LOGS),
                "--account",
                str(ACCOUNT),
                "--store",
                str(store),
                *args,
            ]
        )
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_an_unreadable_account_file_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from alpha.cli.main import main

    with pytest.raises(SystemExit) as exit_info:
        main(["generate", "--all", "--usage", str(LOGS), "--account", str(tmp_path / "x.json")])
    assert exit_info.value.code == 2
    assert capsys.readouterr().err.count("\n") == 1
