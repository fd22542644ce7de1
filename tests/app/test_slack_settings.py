"""Slack's settings: variables over alpha.toml's [slack] table, secrets only from the
environment, errors that name the variable or the file, line and field; and the notifier
each combination chooses."""

from __future__ import annotations

from pathlib import Path

import pytest

from alpha.adapters.slack.bot import SlackBotSender
from alpha.adapters.slack.notifier import OutboxNotifier
from alpha.adapters.slack.webhook import SlackWebhookSender
from alpha.app.backends import ConfiguredBackends, outbox_path
from alpha.app.errors import SettingsError
from alpha.app.settings import Flags, load_settings
from alpha.app.slack_settings import DEFAULT_API_URL, UnmappedUserError
from alpha.rollout.notify_ports import SilentNotifier

TABLE = """\
[approvals]
expiry = "2d"

[slack]
channel = "C0FILE"
users = { U0SAM = "sam", W0LEE = "lee" }
api_url = "https://slack.example.gov/api"
"""


def _write(folder: Path, text: str) -> Path:
    (folder / "alpha.toml").write_text(text)
    return folder


def test_without_anything_slack_is_off(tmp_path: Path) -> None:
    slack = load_settings(Flags(), {}, tmp_path).slack
    assert (slack.bot_token, slack.channel, slack.webhook_url) == (None, None, None)
    assert slack.api_url == DEFAULT_API_URL
    assert dict(slack.users) == {}


def test_the_table_gives_channel_users_and_api_url(tmp_path: Path) -> None:
    slack = load_settings(Flags(), {}, _write(tmp_path, TABLE)).slack
    assert slack.channel == "C0FILE"
    assert dict(slack.users) == {"U0SAM": "sam", "W0LEE": "lee"}
    assert slack.api_url == "https://slack.example.gov/api/"  # slack_sdk joins methods to it
    assert slack.approver("W0LEE") == "lee"


def test_variables_win_over_the_table(tmp_path: Path) -> None:
    env = {
        "ALPHA_SLACK_CHANNEL": "C0ENV",
        "ALPHA_SLACK_USERS": "U01=sam, U02=dana",
        "ALPHA_SLACK_API_URL": "http://127.0.0.1:9/api/",
        "SLACK_BOT_TOKEN": "xoxb-1",
        "SLACK_SIGNING_SECRET": "s3cret",
        "ALPHA_SLACK_WEBHOOK_URL": "https://hooks.slack.com/services/T/B/x",
    }
    slack = load_settings(Flags(), env, _write(tmp_path, TABLE)).slack
    assert (slack.channel, slack.api_url) == ("C0ENV", "http://127.0.0.1:9/api/")
    assert dict(slack.users) == {"U01": "sam", "U02": "dana"}
    assert (slack.bot_token, slack.signing_secret) == ("xoxb-1", "s3cret")
    assert "xoxb-1" not in repr(slack)
    assert "s3cret" not in repr(slack)


def test_an_unmapped_user_is_told_how_to_be_mapped(tmp_path: Path) -> None:
    slack = load_settings(Flags(), {"ALPHA_SLACK_USERS": "U01=sam"}, tmp_path).slack
    with pytest.raises(UnmappedUserError, match=r"U0X is not mapped.*ALPHA_SLACK_USERS"):
        slack.approver("U0X")


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"ALPHA_SLACK_USERS": "U01"}, "ALPHA_SLACK_USERS: 'U01' is not USER_ID=NAME"),
        ({"ALPHA_SLACK_USERS": "sam=U01"}, "ALPHA_SLACK_USERS: 'sam' is not a Slack user id"),
        ({"ALPHA_SLACK_USERS": "U01= "}, "ALPHA_SLACK_USERS: the name of Slack user U01"),
        ({"ALPHA_SLACK_API_URL": "slack.com/api"}, "ALPHA_SLACK_API_URL: 'slack.com/api' is"),
        ({"ALPHA_SLACK_WEBHOOK_URL": "ftp://x"}, "ALPHA_SLACK_WEBHOOK_URL: not an http"),
    ],
)
def test_bad_variables_are_named(tmp_path: Path, env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError) as raised:
        load_settings(Flags(), env, tmp_path)
    assert str(raised.value).startswith(message)


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ('bot_token = "xoxb-1"', "line 5: slack.bot_token: a secret: set SLACK_BOT_TOKEN in"),
        ('signing_secret = "x"', "line 5: slack.signing_secret: a secret"),
        ('webhook_url = "https://x"', "set ALPHA_SLACK_WEBHOOK_URL in the environment"),
        ('users = { nobody = "sam" }', "'nobody' is not a Slack user id"),
        ('channel = ""', "line 5: slack.channel"),
        ('chanel = "C0"', "line 5: slack.chanel"),
    ],
)
def test_a_bad_table_names_file_line_and_field(tmp_path: Path, table: str, message: str) -> None:
    _write(tmp_path, f"{TABLE.split('[slack]', maxsplit=1)[0]}[slack]\n{table}\n")
    with pytest.raises(SettingsError, match=r"alpha\.toml") as raised:
        load_settings(Flags(), {}, tmp_path)
    assert message in str(raised.value)


@pytest.mark.parametrize(
    ("env", "sender"),
    [
        ({"SLACK_BOT_TOKEN": "xoxb-1", "ALPHA_SLACK_CHANNEL": "C0"}, SlackBotSender),
        ({"ALPHA_SLACK_WEBHOOK_URL": "https://hooks.slack.com/services/T/B/x"}, SlackWebhookSender),
        (
            {
                "SLACK_BOT_TOKEN": "xoxb-1",  # no channel: the webhook posts
                "ALPHA_SLACK_WEBHOOK_URL": "https://hooks.slack.com/services/T/B/x",
            },
            SlackWebhookSender,
        ),
    ],
)
def test_the_notifier_the_settings_choose(
    tmp_path: Path, env: dict[str, str], sender: type[object]
) -> None:
    settings = load_settings(Flags(), env, tmp_path)
    notifier = ConfiguredBackends(settings, env).notifier()
    assert isinstance(notifier, OutboxNotifier)
    assert isinstance(notifier.sender, sender)
    assert notifier.outbox.path == outbox_path(settings) == tmp_path / ".alpha" / "slack-outbox.db"


@pytest.mark.parametrize("env", [{}, {"SLACK_BOT_TOKEN": "xoxb-1"}, {"ALPHA_SLACK_CHANNEL": "C0"}])
def test_without_a_way_to_post_no_one_is_told(tmp_path: Path, env: dict[str, str]) -> None:
    settings = load_settings(Flags(), env, tmp_path)
    assert isinstance(ConfiguredBackends(settings, env).notifier(), SilentNotifier)
    assert not (tmp_path / ".alpha").exists()  # and no outbox is made


def test_reading_tells_no_one_and_opens_no_outbox(tmp_path: Path) -> None:
    from alpha.app import application_for

    env = {"SLACK_BOT_TOKEN": "xoxb-1", "ALPHA_SLACK_CHANNEL": "C0"}
    app = application_for(load_settings(Flags(), env, tmp_path), env)
    assert app.status().proposals == ()
    assert app.flush_notifications() == 0  # nothing waits (this makes the outbox)
    assert outbox_path(app.settings).exists()
    fresh = application_for(load_settings(Flags(), env, tmp_path / "other"), env)
    fresh.list_proposals()
    assert not outbox_path(fresh.settings).exists()
