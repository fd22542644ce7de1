"""The organisation's settings: where it is read from, the role assumed in each account, which
accounts are covered, and how many are read at once.

    [org]
    source = "aws"                        # or "aws://PROFILE", or an organization folder
    role = "OrganizationAccountAccessRole"  # the role ALPHA assumes in each account
    external_id = "..."                   # when the role's trust requires one
    units = ["ou-ab12-xxxxxxxx"]          # only accounts under these OUs (nested ones too)
    tags = ["env=prod"]                   # only accounts carrying every one of these tags
    accounts = ["222222222222"]           # only these accounts
    max_parallel = 8                      # accounts read at once

Flags win (`--org`, `--ou`, `--org-tag`, `--org-account`), then ALPHA_ORG, ALPHA_ORG_ROLE,
ALPHA_ORG_EXTERNAL_ID, then the file, then the defaults. Filters given as flags replace the
file's filters (all three): a command line says which accounts it means.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from alpha.account.model import Tag
from alpha.app.errors import SettingsError
from alpha.app.values import first_given
from alpha.org.model import AccountFilter

if TYPE_CHECKING:
    from alpha.app.config_file import OrgTable

__all__ = [
    "DEFAULT_MAX_PARALLEL",
    "DEFAULT_ROLE",
    "OrgFlags",
    "OrgSettings",
    "org_settings",
    "parse_org_tag",
    "read_org_settings",
]

DEFAULT_ROLE = "OrganizationAccountAccessRole"
DEFAULT_MAX_PARALLEL = 8
_ACCOUNT = re.compile(r"\d{12}")
_UNIT = re.compile(r"(r-[0-9a-z]{4,32}|ou-[0-9a-z]{4,32}-[a-z0-9]{8,32})")
_ROLE = re.compile(r"[\w+=,.@/-]{1,512}")


@dataclass(frozen=True, slots=True)
class OrgFlags:
    """What the command line said about the organisation (raw text)."""

    source: str | None = None
    units: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    accounts: tuple[str, ...] = ()

    @property
    def filters(self) -> bool:
        return bool(self.units or self.tags or self.accounts)


@dataclass(frozen=True, slots=True)
class OrgSettings:
    source: str | None = None
    role: str = DEFAULT_ROLE
    external_id: str | None = field(default=None, repr=False)
    wanted: AccountFilter = field(default_factory=AccountFilter)
    max_parallel: int = DEFAULT_MAX_PARALLEL


def parse_org_tag(text: str) -> Tag:
    key, equals, value = text.partition("=")
    if not equals or not key.strip():
        raise ValueError(f"{text!r}: a tag filter is KEY=VALUE")
    return Tag(key.strip(), value.strip())


def org_settings(
    flags: OrgFlags,
    env: Mapping[str, str],
    table: OrgTable | None = None,
    config_file: Path | None = None,
) -> OrgSettings:
    """Each setting by the one precedence rule; filters as a whole from flags or the file."""
    from alpha.app.config_file import OrgTable

    table = table or OrgTable()
    role = first_given(_variable(env, "ALPHA_ORG_ROLE"), table.role, default=DEFAULT_ROLE)
    if not _ROLE.fullmatch(role):
        where = "ALPHA_ORG_ROLE" if _variable(env, "ALPHA_ORG_ROLE") else f"{config_file}: org.role"
        raise SettingsError(f"{where}: {role!r} is not a role name (or path/name)")
    return OrgSettings(
        source=first_given(
            flags.source or None,
            _variable(env, "ALPHA_ORG"),
            _file_source(table.source, config_file),
            default=None,
        ),
        role=role,
        external_id=first_given(
            _variable(env, "ALPHA_ORG_EXTERNAL_ID"), table.external_id, default=None
        ),
        wanted=_filter(flags) if flags.filters else _table_filter(table, config_file),
        max_parallel=first_given(table.max_parallel, default=DEFAULT_MAX_PARALLEL),
    )


def read_org_settings(flags: OrgFlags, env: Mapping[str, str], cwd: Path) -> OrgSettings:
    """For the commands without the workflow's settings (`scan`, `generate`, `org`): the
    `[org]` table of ALPHA_CONFIG or ./alpha.toml, when there is one."""
    from alpha.app.config_file import read_file_settings
    from alpha.app.settings import CONFIG_NAME

    named = env.get("ALPHA_CONFIG", "").strip()
    path = cwd / (named or CONFIG_NAME)
    if named and not path.is_file():
        raise SettingsError(f"{named}: no such settings file (ALPHA_CONFIG)")
    if not path.is_file():
        return org_settings(flags, env)
    return org_settings(flags, env, read_file_settings(path).org, path)


def _file_source(text: str | None, config_file: Path | None) -> str | None:
    """A folder named in alpha.toml is relative to it; `aws` and `aws://PROFILE` as they are."""
    if text is None or text == "aws" or text.startswith("aws://") or config_file is None:
        return text
    return str(config_file.parent / text)


def _variable(env: Mapping[str, str], name: str) -> str | None:
    return env.get(name, "").strip() or None


def _filter(flags: OrgFlags) -> AccountFilter:
    for unit in flags.units:
        _check(_UNIT, unit, "--ou", "an OU or root id (ou-ab12-xxxxxxxx, r-ab12)")
    for account in flags.accounts:
        _check(_ACCOUNT, account, "--org-account", "a 12-digit account id")
    try:
        tags = tuple(parse_org_tag(text) for text in flags.tags)
    except ValueError as exc:
        raise SettingsError(f"--org-tag: {exc}") from exc
    return AccountFilter(tuple(flags.accounts), tuple(flags.units), tags)


def _check(pattern: re.Pattern[str], text: str, where: str, what: str) -> None:
    if not pattern.fullmatch(text):
        raise SettingsError(f"{where}: {text!r} is not {what}")


def _table_filter(table: OrgTable, config_file: Path | None) -> AccountFilter:
    tags = tuple(parse_org_tag(text) for text in table.tags or [])  # checked by the table
    return AccountFilter(tuple(table.accounts or []), tuple(table.units or []), tags)
