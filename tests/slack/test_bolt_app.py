"""The Slack app end to end: signed requests over HTTP to the real Bolt app, every decision
through the application (content-bound, separation of duties, guardrails, audit), refusals as
ephemeral replies saying why, and the proposal's Slack message updated after a decision."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import timedelta

from alpha.adapters.slack.messages import APPROVE_ACTION, REJECT_ACTION
from alpha.demo.sample import ROLLOUT_AT
from alpha.store.model import Stage
from tests.slack.conftest import (
    CHANNEL,
    DANA,
    SAM,
    STRANGER,
    World,
    application_at,
)
from tests.slack.signed import (
    button_body,
    command_body,
    reject_submission_body,
    signed_headers,
)


def _click(world: World, action: str, name: str, user: str) -> int:
    body = button_body(action, world.ids()[name], user, CHANNEL, world.slack.response_url())
    return world.post(body).status_code


def _command(world: World, text: str, user: str = SAM) -> dict[str, object]:
    response = world.post(command_body(text, user, CHANNEL, world.slack.response_url()))
    assert response.status_code == 200
    answer: dict[str, object] = response.json()
    assert answer["response_type"] == "ephemeral"
    return answer


def _ephemerals(world: World) -> list[str]:
    """The refusals sent through the actions' response URL, each only for the one who clicked."""
    replies = world.slack.responses()
    assert all(r["response_type"] == "ephemeral" and not r["replace_original"] for r in replies)
    return [str(r["text"]) for r in replies]


def _eventually(check: Callable[[], bool], seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def _audit_actors(world: World, name: str) -> list[tuple[str, str]]:
    _, view = world.app.show(world.ids()[name])
    return [(e["actor"], e["action"]) for e in view["audit"]]


def test_approve_with_the_button_updates_the_message(world: World) -> None:
    assert _click(world, APPROVE_ACTION, "orders-api", SAM) == 200
    assert world.state("orders-api") == "approved"
    assert ("sam", "approve") in _audit_actors(world, "orders-api")
    (update,) = world.slack.api("chat.update")
    assert update.body["channel"] == CHANNEL
    shown = json.dumps(update.body["blocks"])
    assert "Approved by sam" in shown
    assert APPROVE_ACTION not in shown  # the buttons are gone
    assert "Approved by sam" in world.slack.posts()[-1]["text"]
    assert world.slack.posts()[-1]["thread_ts"] == update.body["ts"]
    assert _ephemerals(world) == []


def test_approve_with_the_slash_command(world: World) -> None:
    orders = world.ids()["orders-api"]
    answer = _command(world, f"approve {orders[:12]} checked with the team")
    assert answer["text"] == f"Approved {orders[:12]}: it is now approved"
    assert world.state("orders-api") == "approved"
    _, shown = world.app.show(orders)
    assert shown["approvals"][0]["comments"] == "checked with the team"
    _eventually(lambda: len(world.slack.api("chat.update")) == 1, seconds=20)


def test_reject_with_the_button_asks_why_in_a_modal(world: World) -> None:
    assert _click(world, REJECT_ACTION, "orders-api", SAM) == 200
    (opened,) = world.slack.api("views.open")
    assert opened.body["trigger_id"] == "1234.5678.abcd"
    view = opened.body["view"]
    assert world.state("orders-api") == "proposed"  # nothing decided until the modal is sent
    meta = json.loads(view["private_metadata"])
    assert meta == {"proposal_id": world.ids()["orders-api"]}
    body = reject_submission_body(meta["proposal_id"], SAM, "reads too many tables")
    response = world.post(body)
    assert (response.status_code, response.text) == (200, "")  # the modal closes
    assert world.state("orders-api") == "rejected"
    _, shown = world.app.show(meta["proposal_id"])
    assert shown["approvals"][0]["comments"] == "reads too many tables"
    (update,) = world.slack.api("chat.update")
    assert "Rejected by sam" in json.dumps(update.body["blocks"])
    assert "reads too many tables" in json.dumps(update.body["blocks"])
    # Sent again (a second modal left open): refused under the comment field, why included.
    again = world.post(body).json()
    assert again["response_action"] == "errors"
    assert "rejected" in again["errors"]["comment"]


def test_reject_with_a_comment_by_slash_command(world: World) -> None:
    ci = world.ids()["ci-deployer"]
    answer = _command(world, f"reject {ci[:8]} can attach any policy: escalation")
    assert str(answer["text"]).startswith(f"Rejected {ci[:12]}")
    _, shown = world.app.show(ci)
    assert shown["approvals"][0]["comments"] == "can attach any policy: escalation"


def test_a_forged_signature_gets_401_and_changes_nothing(world: World) -> None:
    body = button_body(APPROVE_ACTION, world.ids()["orders-api"], SAM, CHANNEL, "")
    forged = signed_headers(body, secret="not-the-signing-secret")
    assert world.post(body, forged).status_code == 401
    assert world.state("orders-api") == "proposed"
    assert world.slack.api("chat.update") == []


def test_a_stale_request_gets_401_and_changes_nothing(world: World) -> None:
    body = command_body(f"approve {world.ids()['orders-api']}", SAM, CHANNEL, "")
    stale = signed_headers(body, at=int(time.time()) - 6 * 60)  # Bolt allows five minutes
    assert world.post(body, stale).status_code == 401
    assert world.state("orders-api") == "proposed"


def test_an_unmapped_user_can_do_nothing(world: World) -> None:
    assert _click(world, APPROVE_ACTION, "orders-api", STRANGER) == 200
    assert _click(world, REJECT_ACTION, "orders-api", STRANGER) == 200
    refusals = _ephemerals(world)
    assert len(refusals) == 2
    assert all("U0NOBODY is not mapped" in text for text in refusals)
    assert world.slack.api("views.open") == []
    for text in ("status", f"show {world.ids()['orders-api']}", "approve x"):
        assert "is not mapped" in str(_command(world, text, STRANGER)["text"])
    assert world.state("orders-api") == "proposed"


def test_the_proposer_cannot_approve_her_own_proposal(world: World) -> None:
    assert _click(world, APPROVE_ACTION, "orders-api", DANA) == 200
    (refusal,) = _ephemerals(world)
    assert "separation of duties" in refusal
    assert world.state("orders-api") == "proposed"
    answer = _command(world, f"approve {world.ids()['orders-api']}", DANA)
    assert "separation of duties" in str(answer["text"])


def test_a_blocked_proposal_cannot_be_approved(world: World) -> None:
    assert _click(world, APPROVE_ACTION, "ci-deployer", SAM) == 200
    (refusal,) = _ephemerals(world)
    assert "blocking guardrail violations" in refusal
    assert "PRIVILEGE_ESCALATION" in refusal
    assert world.state("ci-deployer") == "proposed"


def test_status_and_show(world: World) -> None:
    status = str(_command(world, "status")["text"])
    assert "3 open proposals" in status
    assert all(world.ids()[name][:12] in status for name in world.ids())
    orders = world.ids()["orders-api"]
    shown = _command(world, f"show {orders[:10]}")
    assert "role/orders-api" in json.dumps(shown["blocks"])
    assert "*State*: proposed" in str(shown["text"])
    assert "Usage" in str(_command(world, "frobnicate")["text"])
    assert "no proposal" in str(_command(world, "show abcdef")["text"])


def test_stage_messages_are_posted_in_the_proposals_thread(world: World) -> None:
    orders = world.ids()["orders-api"]
    _command(world, f"approve {orders}")
    # The update may still be in the outbox when the command answers (a loaded machine).
    _eventually(lambda: len(world.slack.api("chat.update")) == 1, seconds=20)
    parent = world.slack.api("chat.update")[0].body["ts"]
    rollout = application_at(world.folder, world.slack, ROLLOUT_AT + timedelta(minutes=5))
    rollout.roll_out(orders, Stage.SANDBOX)
    lines = [p for p in world.slack.posts() if "stage" in str(p["text"])]
    assert [str(p["text"]).split(" ", 1)[1] for p in lines][:2] == [
        "sandbox stage started",
        "sandbox stage passed: 18166 replayed call(s), none denied",
    ]
    assert {p["thread_ts"] for p in lines} == {parent}


def test_a_decision_made_while_slack_is_down_is_posted_when_it_is_back(world: World) -> None:
    world.slack.down = True
    assert _command(world, f"approve {world.ids()['orders-api']}")["text"]
    assert world.state("orders-api") == "approved"  # the decision does not wait for Slack
    assert world.slack.api("chat.update") == []
    world.slack.down = False
    # The background flush, which may be backing off (0.5, 2, 5 s) from tries while down.
    _eventually(lambda: len(world.slack.api("chat.update")) == 1, seconds=20)
    assert "Approved by sam" in json.dumps(world.slack.api("chat.update")[0].body["blocks"])
