"""The Slack proposal message says whose work the proposal might break, and an event queued
before that field existed still loads from the outbox (with no people)."""

from __future__ import annotations

import json
from dataclasses import replace

from alpha.adapters.slack.event_json import event_from_json, event_to_json
from alpha.adapters.slack.notifier import OutboxNotifier
from alpha.rollout.notify_ports import people_line
from tests.fakes.notify_events import created
from tests.fakes.slack_api import FakeSlack

LINE = (
    "may break the work of <b>ann@example.com</b> (2 rare actions) and 3 more of 9 people"
    " using this role"
)


def test_the_message_names_the_people_at_risk(bot: OutboxNotifier, slack: FakeSlack) -> None:
    bot.notify(replace(created(1), people=LINE))
    (post,) = slack.posts()
    shown = json.dumps(post["blocks"])
    assert "*People*" in shown
    assert "&lt;b&gt;ann@example.com&lt;/b&gt; (2 rare actions) and 3 more of 9 people" in shown


def test_a_proposal_nobody_used_as_a_person_has_no_people_block(
    bot: OutboxNotifier, slack: FakeSlack
) -> None:
    bot.notify(created(2))
    (post,) = slack.posts()
    assert "*People*" not in json.dumps(post["blocks"])


def test_the_line_comes_from_the_document() -> None:
    document = {"people_at_risk": {"people": 9, "at_risk": [{"person": "a"}], "summary": LINE}}
    assert people_line(document) == LINE
    assert people_line({"people_at_risk": {"people": 2, "at_risk": [], "summary": "x"}}) == ""
    assert people_line({}) == ""


def test_an_event_queued_before_the_people_field_loads() -> None:
    event = replace(created(3), people=LINE)
    assert event_from_json(event_to_json(event)) == event
    older = {k: v for k, v in event_to_json(created(3)).items() if k != "people"}
    assert event_from_json(older) == created(3)
