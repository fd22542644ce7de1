"""The Slack bot's notifications over a fake Web API: what a new proposal's message shows,
stage and rollback lines in its thread, the message updated after a decision, and the
destination's refusals (429 with Retry-After, 500s, a deleted message) met without losing or
reordering anything, across a restart too."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from pathlib import Path

from alpha.adapters.local.outbox import SQLiteOutbox
from alpha.adapters.slack.bot import anchor_key
from alpha.adapters.slack.messages import APPROVE_ACTION, REJECT_ACTION
from alpha.adapters.slack.notifier import OutboxNotifier
from alpha.rollout.notify_ports import NotifyEvent, ProposalRejected, StageStarted
from alpha.store.model import Stage
from tests.adapters.slack.conftest import Sleeps, bot_notifier
from tests.fakes.notify_events import ORDERS, created, lifecycle, proposal_id
from tests.fakes.slack_api import CHANNEL, FakeSlack


def test_a_new_proposal_shows_what_an_approver_needs(bot: OutboxNotifier, slack: FakeSlack) -> None:
    bot.notify(created(1, blocked=True))
    (post,) = slack.posts()
    assert post["channel"] == CHANNEL
    shown = json.dumps(post["blocks"])
    for fact in (ORDERS, "dana", "99.0%", "20.3%", "PRIVILEGE_ESCALATION", "blocks approval"):
        assert fact in shown
    for action in (
        "allows: dynamodb:GetItem, dynamodb:PutItem",
        "- dynamodb:DeleteTable",
        "and 558 more removed",
    ):
        assert action in shown
    buttons = next(b for b in post["blocks"] if b["type"] == "actions")["elements"]
    assert [(b["action_id"], b["value"]) for b in buttons] == [
        (APPROVE_ACTION, proposal_id(1)),
        (REJECT_ACTION, proposal_id(1)),
    ]
    assert post["metadata"]["event_payload"] == {"proposal_id": proposal_id(1)}


def test_stages_and_rollbacks_are_posted_in_the_proposals_thread(
    bot: OutboxNotifier, slack: FakeSlack
) -> None:
    for event in lifecycle(1):
        bot.notify(event)
    parent, *replies = slack.posts()
    assert "thread_ts" not in parent
    ts = _posted_ts(bot, 1)
    assert [r["thread_ts"] for r in replies] == [ts] * len(replies)
    assert [r["text"].split()[1:3] for r in replies[1:4]] == [
        ["sandbox", "stage"],
        ["sandbox", "stage"],
        ["canary", "stage"],
    ]
    # What needs eyes now is also shown in the channel.
    loud = [r["text"] for r in replies if r["reply_broadcast"]]
    assert len(loud) == 2
    assert "canary stage failed" in loud[0]
    assert "FAILED" in loud[1]
    assert all(call.authorized for call in slack.api())


def _posted_ts(bot: OutboxNotifier, n: int) -> str:
    """The `ts` Slack gave the proposal's message, as the bot kept it."""
    anchor = bot.outbox.anchor(anchor_key(proposal_id(n)))
    assert anchor is not None
    return str(anchor["ts"])


def test_a_decision_updates_the_message_to_show_who_decided(
    bot: OutboxNotifier, slack: FakeSlack
) -> None:
    bot.notify(created(1))
    at = datetime(2026, 10, 31, 5, 0, tzinfo=UTC)
    bot.notify(ProposalRejected(proposal_id(1), ORDERS, "sam", at, "too broad"))
    (update,) = [c.body for c in slack.api("chat.update")]
    assert (update["channel"], update["ts"]) == (CHANNEL, _posted_ts(bot, 1))
    shown = json.dumps(update["blocks"])
    assert "Rejected by sam" in shown
    assert "too broad" in shown
    assert all(b["type"] != "actions" for b in update["blocks"])  # no buttons any more
    assert "rejected by sam" in update["text"]
    assert "Rejected by sam" in slack.posts()[-1]["text"]


def test_an_event_about_a_proposal_never_posted_names_it(
    bot: OutboxNotifier, slack: FakeSlack
) -> None:
    bot.notify(StageStarted(proposal_id(9), ORDERS, Stage.CANARY))
    (post,) = slack.posts()
    assert "thread_ts" not in post
    assert post["text"].startswith(f"{proposal_id(9)[:12]} (role/orders-api): ")


def test_retry_after_is_honoured_and_the_message_sent_once(
    bot: OutboxNotifier, slack: FakeSlack, sleeps: Sleeps
) -> None:
    slack.fault("chat.postMessage", 429, retry_after=1, times=2)
    bot.notify(created(1))  # refused: a notify never waits for Slack's limit
    bot.notify(created(2))  # queued behind it, not sent while the pause lasts
    assert (sleeps.asked, slack.posts()) == ([], [])
    assert bot.flush() == 0  # waits the pause out, is refused once more, waits again
    assert len(sleeps.asked) == 2
    assert 0.5 < sleeps.asked[0] <= 1
    assert sleeps.asked[1] == 1
    posted = [p["metadata"]["event_payload"]["proposal_id"] for p in slack.posts()]
    assert posted == [proposal_id(1), proposal_id(2)]


def test_a_rate_limit_longer_than_the_budget_waits_for_a_later_drain(
    slack: FakeSlack, tmp_path: Path, sleeps: Sleeps
) -> None:
    bot = bot_notifier(slack, tmp_path / "outbox.db", sleeps)
    slack.fault("chat.postMessage", 429, retry_after=90)
    bot.notify(created(1))
    assert bot.flush() == 1  # a flush spends at most a minute
    assert (sleeps.asked, slack.posts()) == ([], [])
    assert bot.drain(None) == 0  # `alpha slack flush` waits it out
    assert sleeps.asked[0] > 89
    assert len(slack.posts()) == 1


def test_a_burst_of_500_proposals_is_posted_in_order_without_losing_one(
    bot: OutboxNotifier, slack: FakeSlack, sleeps: Sleeps
) -> None:
    for n in range(500):
        if n % 97 == 0:
            slack.fault("chat.postMessage", 429, retry_after=1)
        bot.notify(created(n))
    assert sleeps.asked == []  # proposing never waited on Slack
    assert bot.flush() == 0  # the flush posts the rest at the pace Slack allows
    posted = [p["metadata"]["event_payload"]["proposal_id"] for p in slack.posts()]
    assert posted == [proposal_id(n) for n in range(500)]
    assert sleeps.asked
    assert all(0 < s <= 1 for s in sleeps.asked)  # never more than asked for


def test_a_failed_post_is_retried_later_and_survives_a_restart(
    slack: FakeSlack, tmp_path: Path, sleeps: Sleeps
) -> None:
    path = tmp_path / "outbox.db"
    first = bot_notifier(slack, path, sleeps)
    slack.fault("chat.postMessage", 500, times=2)
    events = lifecycle(1)[:3]
    first.notify(events[0])
    assert slack.posts() == []
    # Tried, backed off half a second, tried again; the next back-off (2 s) is more than a
    # notify may spend: left for later.
    assert sleeps.asked == [0.5]
    (head,) = first.outbox.waiting()
    assert head.attempts == 2
    assert "HTTP 500" in str(head.last_error)
    slack.down = True
    for event in events[1:]:
        first.notify(event)  # queued behind it; nothing overtakes it
    assert [q.payload["kind"] for q in first.outbox.waiting()] == [
        "proposal_created",
        "proposal_approved",
        "stage_started",
    ]
    first.outbox.close()  # the process ends
    slack.down = False

    again = bot_notifier(slack, path, sleeps)
    assert again.flush() == 0
    assert [p["metadata"]["event_type"] for p in slack.posts()] == [
        "alpha_proposal_created",
        "alpha_proposal_approved",
        "alpha_stage_started",
    ]
    assert len(slack.api("chat.update")) == 1


def test_a_deleted_message_does_not_stop_the_thread(bot: OutboxNotifier, slack: FakeSlack) -> None:
    bot.notify(created(1))
    slack.gone = True
    bot.notify(StageStarted(proposal_id(1), ORDERS, Stage.SANDBOX))
    last = slack.posts()[-1]
    assert "thread_ts" not in last
    assert "sandbox stage started" in last["text"]


class _SlowSender:
    """Holds each send until let go, so two drains of one notifier overlap."""

    def __init__(self) -> None:
        self.sent: list[str] = []
        self.sending = threading.Event()
        self.go_on = threading.Event()

    def send(self, event: NotifyEvent, outbox: SQLiteOutbox) -> None:
        self.sending.set()
        assert self.go_on.wait(5)
        self.sent.append(event.proposal_id)


def test_two_threads_of_one_process_never_send_the_same_message(tmp_path: Path) -> None:
    sender = _SlowSender()
    notifier = OutboxNotifier(SQLiteOutbox(tmp_path / "outbox.db"), sender)
    request = threading.Thread(target=notifier.notify, args=(created(1),))
    request.start()
    assert sender.sending.wait(5)
    assert notifier.flush() == 1  # the background flush finds the queue being drained
    sender.go_on.set()
    request.join()
    assert sender.sent == [proposal_id(1)]
    assert notifier.flush() == 0


def test_blocks_slack_refuses_are_sent_again_as_text(bot: OutboxNotifier, slack: FakeSlack) -> None:
    slack.refuse_blocks = True
    bot.notify(created(1))
    bot.notify(created(2))
    refused, plain, *_ = [c.body for c in slack.api("chat.postMessage")]
    assert refused["blocks"]
    assert "blocks" not in plain
    assert plain["text"].startswith("New least-privilege proposal 000000000001")
    assert bot.outbox.count() == 0  # nothing held up behind it
