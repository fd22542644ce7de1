"""A fake Slack on a free port, and the bot's notifier over it with a recording sleeper."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from slack_sdk import WebClient

from alpha.adapters.local.outbox import SQLiteOutbox
from alpha.adapters.slack.bot import SlackBotSender
from alpha.adapters.slack.notifier import OutboxNotifier
from tests.fakes.slack_api import CHANNEL, TOKEN, FakeSlack, fake_slack


@dataclass
class Sleeps:
    """A sleeper that records what it was asked to wait, and waits for nothing."""

    asked: list[float] = field(default_factory=list)

    def __call__(self, seconds: float) -> None:
        self.asked.append(seconds)


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with fake_slack() as running:
        yield running


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


def bot_notifier(slack: FakeSlack, path: Path, sleeps: Sleeps) -> OutboxNotifier:
    sender = SlackBotSender(WebClient(token=TOKEN, base_url=slack.api_url), CHANNEL)
    return OutboxNotifier(SQLiteOutbox(path), sender, sleeper=sleeps)


@pytest.fixture
def bot(slack: FakeSlack, tmp_path: Path, sleeps: Sleeps) -> OutboxNotifier:
    return bot_notifier(slack, tmp_path / "outbox.db", sleeps)
