"""The GitHub settings: where the API is, the token, who is who, and which policy files stand
for which principals. Same precedence as every setting (`first_given`): a variable, then the
`[github]` table of alpha.toml, then the default.

    [github]
    api_url = "https://ghe.example.com/api/v3"   # ALPHA_GITHUB_API_URL; default api.github.com
    remote = "origin"                            # the clone's remote `alpha pr` pushes to
    base = "main"                                # the branch pull requests go into
    users = { octocat = "sam", hubot = "lee" }   # ALPHA_GITHUB_USERS="octocat=sam,hubot=lee"
    files = { "orders-api" = "policies/orders.json" }   # principal (name or ARN) -> policy file

The token (`GITHUB_TOKEN`) and the webhook secret (`ALPHA_GITHUB_WEBHOOK_SECRET`) are only ever
variables, never in alpha.toml.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from alpha.app.errors import SettingsError
from alpha.app.values import parse_names
from alpha.rollout.identity import IdentityError, check_name

if TYPE_CHECKING:
    from alpha.app.config_file import GithubTable

__all__ = ["DEFAULT_API_URL", "GithubSettings", "github_settings", "parse_users"]

DEFAULT_API_URL = "https://api.github.com"
_LOGIN = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})(?:\[bot\])?")


@dataclass(frozen=True, slots=True)
class GithubSettings:
    api_url: str = DEFAULT_API_URL
    remote: str = "origin"
    base: str = "main"
    users: dict[str, str] = field(default_factory=dict)
    """GitHub login -> approver name. An unmapped reviewer approves nothing."""
    files: dict[str, str] = field(default_factory=dict)
    token: str | None = field(default=None, repr=False)
    webhook_secret: str | None = field(default=None, repr=False)


def github_settings(
    table: GithubTable, env: Mapping[str, str], config_file: Path | None
) -> GithubSettings:
    where = f"{config_file}: github" if config_file else "[github]"
    variable = env.get("ALPHA_GITHUB_USERS", "").strip()
    users = (
        parse_users(variable, "ALPHA_GITHUB_USERS")
        if variable
        else _checked_users(table.users, f"{where}.users")
    )
    return GithubSettings(
        api_url=(env.get("ALPHA_GITHUB_API_URL", "").strip() or table.api_url or DEFAULT_API_URL),
        remote=table.remote or "origin",
        base=table.base or "main",
        users=users,
        files=dict(table.files),
        token=env.get("GITHUB_TOKEN", "").strip() or None,
        webhook_secret=env.get("ALPHA_GITHUB_WEBHOOK_SECRET", "").strip() or None,
    )


def parse_users(text: str, where: str) -> dict[str, str]:
    """`login=name,login=name`; `SettingsError` naming `where` for anything else."""
    pairs: dict[str, str] = {}
    for part in parse_names(text):
        login, equals, name = part.partition("=")
        if not equals:
            raise SettingsError(f"{where}: {part!r} is not login=name")
        pairs[login.strip()] = name.strip()
    return _checked_users(pairs, where)


def _checked_users(users: Mapping[str, str], where: str) -> dict[str, str]:
    checked: dict[str, str] = {}
    for login, name in users.items():
        if not _LOGIN.fullmatch(login):
            raise SettingsError(f"{where}: {login!r} is not a GitHub login")
        try:
            checked[login] = check_name(name, f"approver name of {login}")
        except IdentityError as exc:
            raise SettingsError(f"{where}: {exc}") from exc
    return checked
