"""Notifications through an incoming webhook: one message per event, naming its proposal, no
buttons; a 429's Retry-After is waited out and the message posted once."""

from __future__ import annotations

from pathlib import Path

from slack_sdk.webhook import WebhookClient

from alpha.adapters.local.outbox import SQLiteOutbox
from alpha.adapters.slack.notifier import OutboxNotifier
from alpha.adapters.slack.webhook import SlackWebhookSender
from tests.adapters.slack.conftest import Sleeps
from tests.fakes.notify_events import lifecycle
from tests.fakes.slack_api import FakeSlack


def _webhook(slack: FakeSlack, tmp_path: Path, sleeps: Sleeps) -> OutboxNotifier:
    sender = SlackWebhookSender(WebhookClient(slack.webhook_url()))
    return OutboxNotifier(SQLiteOutbox(tmp_path / "outbox.db"), sender, sleeper=sleeps)


def test_every_event_is_a_message_naming_its_proposal(
    slack: FakeSlack, tmp_path: Path, sleeps: Sleeps
) -> None:
    events = lifecycle(1)
    notifier = _webhook(slack, tmp_path, sleeps)
    for event in events:
        notifier.notify(event)
    posted = slack.webhooks()
    assert len(posted) == len(events)
    assert all(events[0].proposal_id[:12] in p["text"] for p in posted)
    assert "actions" not in [b["type"] for b in posted[0]["blocks"]]  # no click to take
    assert "alpha approve 000000000001" in posted[0]["text"]
    assert slack.api() == []  # no Web API without a bot


def test_a_rate_limited_webhook_waits_and_posts_once(
    slack: FakeSlack, tmp_path: Path, sleeps: Sleeps
) -> None:
    slack.fault("T0/B0/secret", 429, retry_after=1)
    notifier = _webhook(slack, tmp_path, sleeps)
    notifier.notify(lifecycle(1)[0])
    assert slack.webhooks() == []
    assert notifier.flush() == 0
    assert len(sleeps.asked) == 1
    assert 0.5 < sleeps.asked[0] <= 1
    assert len(slack.webhooks()) == 1
