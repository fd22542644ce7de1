"""Slack's settings: who ALPHA posts as and where, and who may decide from Slack.

Secrets are read only from the environment, never from alpha.toml (a file that is committed
beside the infrastructure it protects): SLACK_BOT_TOKEN (xoxb-...), SLACK_SIGNING_SECRET (to
verify every request Slack sends) and ALPHA_SLACK_WEBHOOK_URL (an incoming webhook: whoever
holds it may post). The rest may also be written in alpha.toml's `[slack]` table:

    [slack]
    channel = "C0123456789"              # or ALPHA_SLACK_CHANNEL
    users = { U012AB3CD = "sam", U045EF6GH = "dana" }   # or ALPHA_SLACK_USERS="U012AB3CD=sam,..."
    api_url = "https://slack.com/api/"   # or ALPHA_SLACK_API_URL (GovSlack, tests)

A variable wins over the file. Only a Slack user in `users` may do anything through the Slack
app; the name they map to is who the approval records (and is held to the approvers list and
to separation of duties like any other name).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from urllib.parse import urlsplit

from alpha.app.errors import AppError, SettingsError
from alpha.app.values import parse_names
from alpha.rollout.identity import IdentityError, check_name

__all__ = [
    "DEFAULT_API_URL",
    "SECRET_KEYS",
    "SlackSettings",
    "UnmappedUserError",
    "parse_api_url",
    "parse_user_id",
    "slack_settings",
]

DEFAULT_API_URL = "https://slack.com/api/"
SECRET_KEYS = {
    "bot_token": "SLACK_BOT_TOKEN",
    "signing_secret": "SLACK_SIGNING_SECRET",
    "webhook_url": "ALPHA_SLACK_WEBHOOK_URL",
}
"""Keys refused in alpha.toml's [slack] table, and the variable each must come from."""

_USER_ID = re.compile(r"[UW][A-Z0-9]{2,20}")


class UnmappedUserError(AppError):
    """A Slack user who is not mapped to an approver name asked for something."""


@dataclass(frozen=True, slots=True)
class SlackSettings:
    bot_token: str | None = field(default=None, repr=False)
    signing_secret: str | None = field(default=None, repr=False)
    webhook_url: str | None = field(default=None, repr=False)
    channel: str | None = None
    api_url: str = DEFAULT_API_URL
    users: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def bot_posts(self) -> bool:
        """The bot posts notifications: it has a token and a channel."""
        return bool(self.bot_token and self.channel)

    @property
    def notifies(self) -> bool:
        """Notifications go somewhere: the bot, or else an incoming webhook."""
        return self.bot_posts or bool(self.webhook_url)

    def approver(self, user_id: str) -> str:
        """The approver name a Slack user acts as; `UnmappedUserError` saying how to map one."""
        name = self.users.get(user_id)
        if name is None:
            raise UnmappedUserError(
                f"your Slack user {user_id} is not mapped to an ALPHA approver, so it can do "
                f"nothing here: ask an admin to add {user_id}=NAME to ALPHA_SLACK_USERS or to "
                "[slack] users in alpha.toml"
            )
        return name


def slack_settings(
    env: Mapping[str, str],
    channel: str | None,
    users: Mapping[str, str] | None,
    api_url: str | None,
    config_file: Path | None,
) -> SlackSettings:
    """Variables first, then the [slack] table's `channel`, `users` and `api_url`."""
    where = f"{config_file}: slack" if config_file is not None else "[slack]"
    return SlackSettings(
        bot_token=_given(env, "SLACK_BOT_TOKEN"),
        signing_secret=_given(env, "SLACK_SIGNING_SECRET"),
        webhook_url=_webhook(env),
        channel=_given(env, "ALPHA_SLACK_CHANNEL") or channel,
        api_url=_api_url(env, api_url, where),
        users=_users(env, users, where),
    )


def _given(env: Mapping[str, str], name: str) -> str | None:
    return env.get(name, "").strip() or None  # an empty variable counts as unset


def _webhook(env: Mapping[str, str]) -> str | None:
    url = _given(env, "ALPHA_SLACK_WEBHOOK_URL")
    if url is not None and urlsplit(url).scheme not in ("https", "http"):
        raise SettingsError("ALPHA_SLACK_WEBHOOK_URL: not an http(s) URL")  # never echo it
    return url


def _api_url(env: Mapping[str, str], from_file: str | None, where: str) -> str:
    variable = _given(env, "ALPHA_SLACK_API_URL")
    text, named = (variable, "ALPHA_SLACK_API_URL") if variable else (from_file, where)
    if text is None:
        return DEFAULT_API_URL
    try:
        return parse_api_url(text)
    except ValueError as exc:
        raise SettingsError(f"{named}: {exc}") from exc


def parse_api_url(text: str) -> str:
    """The Web API's base URL, ending in `/` as slack_sdk joins method names to it."""
    parts = urlsplit(text.strip())
    if parts.scheme not in ("https", "http") or not parts.netloc:
        raise ValueError(f"{text!r} is not an http(s) URL like https://slack.com/api/")
    return text.strip().rstrip("/") + "/"


def _users(
    env: Mapping[str, str], from_file: Mapping[str, str] | None, where: str
) -> Mapping[str, str]:
    variable = _given(env, "ALPHA_SLACK_USERS")
    if variable is not None:
        pairs = [_pair(item, "ALPHA_SLACK_USERS") for item in parse_names(variable)]
    else:
        pairs = [(key, value) for key, value in (from_file or {}).items()]
        where = f"{where}.users"
    named = "ALPHA_SLACK_USERS" if variable is not None else where
    found: dict[str, str] = {}
    for user_id, name in pairs:
        try:
            found[parse_user_id(user_id)] = check_name(name, f"name of Slack user {user_id}")
        except (ValueError, IdentityError) as exc:
            raise SettingsError(f"{named}: {exc}") from exc
    return MappingProxyType(found)


def _pair(item: str, named: str) -> tuple[str, str]:
    user_id, equals, name = item.partition("=")
    if not equals:
        raise SettingsError(f"{named}: {item!r} is not USER_ID=NAME (like U012AB3CD=sam)")
    return user_id.strip(), name.strip()


def parse_user_id(text: str) -> str:
    """A Slack user id (`U012AB3CD`, or `W...` on Enterprise Grid); ValueError otherwise."""
    if not _USER_ID.fullmatch(text):
        raise ValueError(f"{text!r} is not a Slack user id like U012AB3CD")
    return text
