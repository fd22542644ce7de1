"""The GitHub settings: a variable over alpha.toml's `[github]` over the default; the token
and the webhook secret only from variables; bad logins and names named with where they are."""

from __future__ import annotations

from pathlib import Path

import pytest

from alpha.app import Flags, SettingsError, load_settings
from alpha.app.github_settings import DEFAULT_API_URL

TOML = """
[github]
api_url = "https://ghe.example.com/api/v3"
base = "trunk"
users = { octocat = "sam", "dependabot[bot]" = "bots" }
files = { "orders-api" = "policies/orders.json" }
"""


def test_defaults_without_anything(tmp_path: Path) -> None:
    github = load_settings(Flags(user="dana"), {}, tmp_path).github
    assert (github.api_url, github.remote, github.base) == (DEFAULT_API_URL, "origin", "main")
    assert (github.users, github.files, github.token) == ({}, {}, None)


def test_the_file_then_the_variables(tmp_path: Path) -> None:
    (tmp_path / "alpha.toml").write_text(TOML)
    github = load_settings(Flags(user="dana"), {}, tmp_path).github
    assert github.api_url == "https://ghe.example.com/api/v3"
    assert github.base == "trunk"
    assert github.users == {"octocat": "sam", "dependabot[bot]": "bots"}
    assert github.files == {"orders-api": "policies/orders.json"}
    env = {
        "ALPHA_GITHUB_API_URL": "http://127.0.0.1:9/",
        "ALPHA_GITHUB_USERS": "hubot=lee, octocat = sam ",
        "GITHUB_TOKEN": "ghp_secret",
        "ALPHA_GITHUB_WEBHOOK_SECRET": "hook",
    }
    github = load_settings(Flags(user="dana"), env, tmp_path).github
    assert github.api_url == "http://127.0.0.1:9/"
    assert github.users == {"hubot": "lee", "octocat": "sam"}
    assert (github.token, github.webhook_secret) == ("ghp_secret", "hook")
    assert "ghp_secret" not in repr(github)


@pytest.mark.parametrize(
    ("env", "toml", "error"),
    [
        ({"ALPHA_GITHUB_USERS": "octocat"}, "", "ALPHA_GITHUB_USERS: 'octocat' is not login=name"),
        ({"ALPHA_GITHUB_USERS": "not a login=sam"}, "", "'not a login' is not a GitHub login"),
        ({"ALPHA_GITHUB_USERS": "octocat=\u200bsam"}, "", "invisible"),
        ({}, '[github]\ntoken = "ghp_x"\n', "line 2: github.token"),
        ({}, "[github]\nusers = { octocat = 'sam\u200b' }\n", "alpha.toml: github.users"),
    ],
    ids=["no-equals", "bad-login", "invisible-name", "token-in-file", "bad-name-in-file"],
)
def test_bad_settings_say_where(tmp_path: Path, env: dict[str, str], toml: str, error: str) -> None:
    if toml:
        (tmp_path / "alpha.toml").write_text(toml)
    with pytest.raises(SettingsError, match=error):
        load_settings(Flags(user="dana"), env, tmp_path)
