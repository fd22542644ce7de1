"""`alpha lint --guardrails`: the organisation's rules on top of the policy checks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.test_lint import GOOD, policy, run, write

PASSROLE_ANY = policy({"Effect": "Allow", "Action": "iam:PassRole", "Resource": "*"})
SCOPED_READ = policy(
    {
        "Effect": "Allow",
        "Action": "s3:GetObject",
        "Resource": "arn:aws:s3:::reports/*",
        "Condition": {"StringEquals": {"aws:RequestedRegion": "eu-west-1"}},
    }
)


def test_without_the_flag_guardrails_are_not_checked(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, out, _ = run(capsys, "lint", write(tmp_path, "p.json", PASSROLE_ANY))
    assert code == 0
    assert "PASSROLE_UNSCOPED" not in out


def test_unscoped_passrole_blocks_by_default(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, out, _ = run(capsys, "lint", "--guardrails", write(tmp_path, "p.json", PASSROLE_ANY))
    assert code == 1
    assert "Statement[0].Action: error PASSROLE_UNSCOPED" in out or "PASSROLE_UNSCOPED" in out


def test_clean_policy_passes_guardrails(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, _ = run(capsys, "lint", "--guardrails", write(tmp_path, "p.json", GOOD))
    assert code == 0


def test_config_file_requires_a_condition(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    config = tmp_path / "alpha.toml"
    config.write_text('[guardrails]\nrequired_conditions = ["aws:RequestedRegion"]\n')
    good = write(tmp_path, "good.json", GOOD)
    scoped = write(tmp_path, "scoped.json", SCOPED_READ)
    code, out, _ = run(capsys, "lint", "--guardrails", "--config", str(config), good)
    assert code == 1
    assert "MISSING_REQUIRED_CONDITION" in out
    code, _, _ = run(capsys, "lint", "--guardrails", "--config", str(config), scoped)
    assert code == 0


def test_environment_overrides_blocked_actions(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ALPHA_BLOCKED_ACTIONS", "s3:GetObject")
    code, out, _ = run(capsys, "lint", "--guardrails", write(tmp_path, "p.json", GOOD))
    assert code == 1
    assert "BLOCKED_ACTION" in out


def test_bad_environment_value_is_one_line_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ALPHA_BLOCKED_ACTIONS", "not an action")
    code, _, err = run(capsys, "lint", "--guardrails", write(tmp_path, "p.json", GOOD))
    assert code == 2
    assert err.startswith("alpha: error: ALPHA_BLOCKED_ACTIONS[0]")
    assert len(err.strip().splitlines()) == 1


def test_json_output_carries_guardrail_titles(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, out, _ = run(
        capsys, "lint", "--guardrails", "--format", "json", write(tmp_path, "p.json", PASSROLE_ANY)
    )
    assert code == 1
    items = json.loads(out)
    passrole = [i for i in items if i["code"] == "PASSROLE_UNSCOPED"]
    assert passrole
    assert passrole[0]["title"]


def test_sarif_output(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = write(tmp_path, "p.json", PASSROLE_ANY)
    code, out, _ = run(capsys, "lint", "--guardrails", "--format", "sarif", path)
    assert code == 1
    log = json.loads(out)
    assert log["version"] == "2.1.0"
    results = log["runs"][0]["results"]
    rule_ids = {r["ruleId"] for r in results}
    assert "PASSROLE_UNSCOPED" in rule_ids
    located = results[0]["locations"][0]["physicalLocation"]
    assert located["artifactLocation"]["uri"] == path
    # Each result appears once, even though guardrail violations also feed the text report.
    assert len(results) == len(
        {(r["ruleId"], json.dumps(r["locations"]), r["message"]["text"]) for r in results}
    )
