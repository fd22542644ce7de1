"""`[org]`, ALPHA_ORG*, and the organisation's flags, by the one precedence rule."""

from __future__ import annotations

from pathlib import Path

import pytest

from alpha.account import Tag
from alpha.app.errors import SettingsError
from alpha.app.org_settings import DEFAULT_MAX_PARALLEL, DEFAULT_ROLE, OrgFlags, read_org_settings
from alpha.app.settings import Flags, load_settings
from alpha.org import AccountFilter

TABLE = """
[org]
source = "org-folder"
role = "alpha/reader"
external_id = "from-the-file"
units = ["ou-ab12-prod0001"]
tags = ["env=prod"]
accounts = ["222222222222"]
max_parallel = 3
"""


def _write(tmp_path: Path, text: str) -> Path:
    (tmp_path / "alpha.toml").write_text(text)
    return tmp_path


def test_defaults_without_file_flags_or_variables(tmp_path: Path) -> None:
    settings = read_org_settings(OrgFlags(), {}, tmp_path)
    assert settings.source is None
    assert settings.role == DEFAULT_ROLE
    assert settings.external_id is None
    assert settings.wanted == AccountFilter()
    assert settings.max_parallel == DEFAULT_MAX_PARALLEL


def test_the_file_gives_everything_and_a_folder_is_relative_to_it(tmp_path: Path) -> None:
    settings = read_org_settings(OrgFlags(), {}, _write(tmp_path, TABLE))
    assert settings.source == str(tmp_path / "org-folder")
    assert settings.role == "alpha/reader"
    assert settings.external_id == "from-the-file"
    assert settings.wanted == AccountFilter(
        ("222222222222",), ("ou-ab12-prod0001",), (Tag("env", "prod"),)
    )
    assert settings.max_parallel == 3


def test_variables_beat_the_file_and_flags_beat_variables(tmp_path: Path) -> None:
    env = {"ALPHA_ORG": "aws://audit", "ALPHA_ORG_ROLE": "Reader", "ALPHA_ORG_EXTERNAL_ID": "x1"}
    settings = read_org_settings(OrgFlags(), env, _write(tmp_path, TABLE))
    assert (settings.source, settings.role, settings.external_id) == ("aws://audit", "Reader", "x1")
    flagged = read_org_settings(OrgFlags(source="aws"), env, tmp_path)
    assert flagged.source == "aws"


def test_filters_given_as_flags_replace_the_files_filters(tmp_path: Path) -> None:
    flags = OrgFlags(tags=("team=pay",))
    settings = read_org_settings(flags, {}, _write(tmp_path, TABLE))
    assert settings.wanted == AccountFilter((), (), (Tag("team", "pay"),))


def test_the_workflow_settings_carry_the_org_table(tmp_path: Path) -> None:
    settings = load_settings(
        Flags(org=OrgFlags(accounts=("333333333333",))), {}, _write(tmp_path, TABLE)
    )
    assert settings.org.role == "alpha/reader"
    assert settings.org.wanted.ids == ("333333333333",)


@pytest.mark.parametrize(
    ("flags", "says"),
    [
        (OrgFlags(units=("prod",)), "--ou: 'prod' is not an OU or root id"),
        (OrgFlags(accounts=("12",)), "--org-account: '12' is not a 12-digit account id"),
        (OrgFlags(tags=("env",)), "--org-tag: 'env': a tag filter is KEY=VALUE"),
    ],
)
def test_bad_flags_are_named(tmp_path: Path, flags: OrgFlags, says: str) -> None:
    with pytest.raises(SettingsError, match=says):
        read_org_settings(flags, {}, tmp_path)


@pytest.mark.parametrize(
    ("line", "field"),
    [
        ('tags = ["env"]', "org.tags.0"),
        ("max_parallel = 0", "org.max_parallel"),
        ('units = ["prod"]', "org.units.0"),
        ('role = "bad role"', "org.role"),
        ('accounts = ["1"]', "org.accounts.0"),
        ("surprise = 1", "org.surprise"),
    ],
)
def test_a_bad_org_table_names_file_line_and_field(tmp_path: Path, line: str, field: str) -> None:
    _write(tmp_path, f"[store]\npath = 'x.db'\n\n[org]\nsource = 'aws'\n{line}\n")
    with pytest.raises(SettingsError) as caught:
        read_org_settings(OrgFlags(), {}, tmp_path)
    assert f"alpha.toml: line 6: {field}:" in str(caught.value)


def test_a_bad_role_variable_is_named(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="ALPHA_ORG_ROLE: 'no way' is not a role name"):
        read_org_settings(OrgFlags(), {"ALPHA_ORG_ROLE": "no way"}, tmp_path)
