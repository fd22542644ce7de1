"""The `Notifier` port, run against every implementation through the same cases: the shared
fake, the Slack bot (Web API) and an incoming webhook, both over a local fake of Slack over
real HTTP, through the durable outbox. Each event is delivered once, in order, saying which
proposal it is about; while the destination is down nothing is lost, and once it is back a
flush delivers everything, in order."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from alpha.adapters.local.outbox import SQLiteOutbox
from alpha.adapters.slack.bot import SlackBotSender
from alpha.adapters.slack.notifier import OutboxNotifier
from alpha.adapters.slack.webhook import SlackWebhookSender
from alpha.rollout.notify_ports import Notifier, NotifyEvent
from tests.fakes.notify_events import key_fact, lifecycle
from tests.fakes.recording_notifier import RecordingNotifier
from tests.fakes.slack_api import CHANNEL, TOKEN, fake_slack


@dataclass
class Rig:
    notifier: Notifier
    delivered: Callable[[], list[str]]
    """One text per event delivered, in order."""
    set_down: Callable[[bool], None]


def _no_sleep(_: float) -> None:
    return None


@pytest.fixture(params=["fake", "slack-bot", "slack-webhook"])
def rig(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Rig]:
    if request.param == "fake":
        fake = RecordingNotifier()
        yield Rig(
            fake,
            lambda: [repr(e) for e in fake.delivered],
            lambda down: setattr(fake, "unavailable", down),
        )
        return
    from slack_sdk import WebClient
    from slack_sdk.webhook import WebhookClient

    with fake_slack() as slack:
        outbox = SQLiteOutbox(tmp_path / "outbox.db")
        if request.param == "slack-bot":
            client = WebClient(token=TOKEN, base_url=slack.api_url)
            sender: SlackBotSender | SlackWebhookSender = SlackBotSender(client, CHANNEL)
            # A line in a proposal's thread names it in the message's metadata, not its text.
            texts = lambda: [  # noqa: E731
                f"{p['metadata']['event_payload']['proposal_id']} {p['text']}"
                for p in slack.posts()
            ]
        else:
            sender = SlackWebhookSender(WebhookClient(slack.webhook_url()))
            texts = lambda: [str(p["text"]) for p in slack.webhooks()]  # noqa: E731
        notifier = OutboxNotifier(outbox, sender, sleeper=_no_sleep)
        yield Rig(notifier, texts, lambda down: setattr(slack, "down", down))


def _check(delivered: list[str], events: list[NotifyEvent]) -> None:
    assert len(delivered) == len(events)
    for text, event in zip(delivered, events, strict=True):
        assert event.proposal_id[:12] in text or event.principal.rpartition("/")[2] in text
        assert key_fact(event) in text


def test_each_event_is_delivered_once_in_order(rig: Rig) -> None:
    first, second = lifecycle(1), lifecycle(2)
    events = [first[0], second[0], *first[1:4], *second[1:], *first[4:]]
    for event in events:
        rig.notifier.notify(event)
    assert rig.notifier.flush() == 0
    _check(rig.delivered(), events)


def test_nothing_is_lost_while_the_destination_is_down(rig: Rig) -> None:
    events = lifecycle(3)
    rig.notifier.notify(events[0])
    rig.set_down(True)
    for event in events[1:4]:
        rig.notifier.notify(event)  # never raises
    assert rig.notifier.flush() == 3
    _check(rig.delivered(), events[:1])
    rig.set_down(False)
    assert rig.notifier.flush() == 0
    rig.notifier.notify(events[4])
    _check(rig.delivered(), events[:5])


def test_a_flush_with_nothing_waiting_delivers_nothing(rig: Rig) -> None:
    assert rig.notifier.flush() == 0
    assert rig.delivered() == []
