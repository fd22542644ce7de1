"""docs/org.md: its folder example reads as an organisation, its policies are policies, and its
`[org]` table is valid settings."""

from __future__ import annotations

import json
import re
from pathlib import Path

from alpha.adapters.local.org_folder import OrgFolder
from alpha.app.org_settings import OrgFlags, read_org_settings
from alpha.policy.parse import parse_policy

DOC = Path(__file__).resolve().parents[2] / "docs" / "org.md"


def _blocks(kind: str) -> list[str]:
    return re.findall(rf"```{kind}\n(.*?)```", DOC.read_text(), flags=re.DOTALL)


def test_the_folder_example_reads(tmp_path: Path) -> None:
    example = next(b for b in _blocks("json") if "ManagementAccountId" in b)
    (tmp_path / "organization.json").write_text(example)
    organization = OrgFolder(tmp_path).organization()
    account = organization.account("222222222222")
    assert account is not None
    assert [u.name for u in account.path] == ["Root", "Prod"]
    assert len(account.guardrails.scps) == 3


def test_the_policies_are_policies() -> None:
    policies = [b for b in _blocks("json") if "ManagementAccountId" not in b]
    assert len(policies) == 3
    for text in policies:
        parse_policy(json.loads(text))


def test_the_settings_table_is_valid(tmp_path: Path) -> None:
    (tmp_path / "alpha.toml").write_text(_blocks("toml")[0])
    settings = read_org_settings(OrgFlags(), {}, tmp_path)
    assert settings.external_id == "alpha-org-read"
    assert settings.max_parallel == 8
