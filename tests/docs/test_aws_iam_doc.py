"""docs/aws/iam.md: the least-privilege policies it gives for ALPHA itself pass ALPHA's own
checks (`alpha lint --guardrails`), and say what the live adapters call."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.cli.workflow_helpers import alpha

DOC = Path(__file__).resolve().parents[2] / "docs" / "aws" / "iam.md"
ADAPTERS = Path(__file__).resolve().parents[2] / "src" / "alpha" / "adapters" / "aws"


def policies() -> dict[str, str]:
    text = DOC.read_text(encoding="utf-8")
    found = re.findall(r"<!-- policy: (\w+) -->\n```json\n(.*?)\n```", text, flags=re.S)
    return dict(found)


def lint(tmp_path: Path, name: str, *config: str) -> tuple[int, list[dict[str, object]]]:
    path = tmp_path / f"{name}.json"
    path.write_text(policies()[name], encoding="utf-8")
    ran = alpha("lint", "--guardrails", "--kind", "managed", *config, "--format", "json", str(path))
    assert ran.code in (0, 1), ran.err
    findings: list[dict[str, object]] = ran.json()  # one object a finding
    return ran.code, findings


def test_the_page_gives_both_policies() -> None:
    assert set(policies()) == {"read", "rollout"}
    for text in policies().values():
        json.loads(text)


def test_the_read_policy_passes_the_default_guardrails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    code, findings = lint(tmp_path, "read")
    assert (code, findings) == (0, [])


def test_the_rollout_policy_passes_with_only_escalation_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    blocking, found = lint(tmp_path, "rollout")
    assert blocking == 1  # the default guardrails block it: the page says why
    assert {f["code"] for f in found} == {"PRIVILEGE_ESCALATION"}
    assert len(found) == 9  # the nine IAM writes a rollout is made of, and nothing else
    config = tmp_path / "alpha-deployer.toml"
    config.write_text('[guardrails.rules.PRIVILEGE_ESCALATION]\nseverity = "warning"\n')
    code, findings = lint(tmp_path, "rollout", "--config", str(config))
    assert code == 0
    assert {f["code"] for f in findings} == {"PRIVILEGE_ESCALATION"}
    assert {f["severity"] for f in findings} == {"warning"}


def test_the_rollout_policy_allows_every_iam_call_the_adapters_make() -> None:
    """Each boto3 IAM operation the live adapters call is in one of the two policies."""
    granted = {a for text in policies().values() for a in _actions(json.loads(text))}
    source = (ADAPTERS / "iam_changer.py").read_text() + (ADAPTERS / "iam_account.py").read_text()
    called = set(
        re.findall(
            r'"((?:get|list|put|delete|attach|detach|add|remove|create|set)_[a-z_]+)"', source
        )
    )
    called |= {
        f"{verb}_{kind}_permissions_boundary"
        for verb in ("put", "delete")
        for kind in ("role", "user")
    }
    called |= {"get_role", "get_user"}
    wanted = {"iam:" + "".join(part.capitalize() for part in op.split("_")) for op in called}
    assert wanted - granted == set()


def _actions(policy: dict[str, object]) -> set[str]:
    found: set[str] = set()
    statements = policy["Statement"]
    assert isinstance(statements, list)
    for statement in statements:
        if statement["Effect"] == "Allow":
            actions = statement["Action"]
            found.update([actions] if isinstance(actions, str) else actions)
    return found
