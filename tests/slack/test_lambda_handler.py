"""The Lambda handler: an API Gateway (HTTP API) event carrying a signed Slack request, handled
by the same Bolt app; settings from the function's environment."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from alpha.lambdas import slack_handler
from tests.fakes.slack_api import FakeSlack, fake_slack
from tests.slack.conftest import CHANNEL, DANA, DECIDED_AT, SAM, application_at, slack_env
from tests.slack.signed import command_body, signed_headers


@dataclass(frozen=True, slots=True)
class Context:
    function_name: str = "alpha-slack"
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:111122223333:function:alpha-slack"
    aws_request_id: str = "0f2b6a52-0000-4000-8000-000000000000"

    def get_remaining_time_in_millis(self) -> int:
        return 3000


def _event(body: str, headers: dict[str, str]) -> dict[str, Any]:
    return {
        "version": "2.0",
        "routeKey": "POST /slack/events",
        "rawPath": "/slack/events",
        "rawQueryString": "",
        "headers": {k.lower(): v for k, v in headers.items()},
        "requestContext": {"http": {"method": "POST", "path": "/slack/events"}},
        "body": body,
        "isBase64Encoded": False,
    }


@pytest.fixture
def function(
    proposed: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Path, FakeSlack]]:
    folder = tmp_path / "function"
    shutil.copytree(proposed, folder)
    with fake_slack() as slack:
        for name, value in slack_env(slack, DECIDED_AT).items():
            monkeypatch.setenv(name, value)
        monkeypatch.chdir(folder)
        slack_handler._bolt_handler.cache_clear()
        yield folder, slack
        slack_handler._bolt_handler.cache_clear()


def _state(folder: Path, slack: FakeSlack, name: str) -> str:
    rows = application_at(folder, slack, DECIDED_AT).list_proposals()
    return next(str(r["state"]) for r in rows if r["principal"].endswith(f"/{name}"))


def _orders(folder: Path, slack: FakeSlack) -> str:
    rows = application_at(folder, slack, DECIDED_AT).list_proposals()
    return next(str(r["id"]) for r in rows if r["principal"].endswith("/orders-api"))


def test_a_signed_command_is_answered_and_decides(function: tuple[Path, FakeSlack]) -> None:
    folder, slack = function
    orders = _orders(folder, slack)
    refused = command_body(f"approve {orders}", DANA, CHANNEL, slack.response_url())
    answer = slack_handler.handler(_event(refused, signed_headers(refused)), Context())
    assert answer["statusCode"] == 200
    assert "separation of duties" in answer["body"]
    body = command_body(f"approve {orders}", SAM, CHANNEL, slack.response_url())
    answer = slack_handler.handler(_event(body, signed_headers(body)), Context())
    assert answer["statusCode"] == 200
    assert "it is now approved" in answer["body"]
    assert _state(folder, slack, "orders-api") == "approved"
    assert len(slack.api("chat.update")) == 1


def test_a_forged_event_gets_401(function: tuple[Path, FakeSlack]) -> None:
    folder, slack = function
    body = command_body(f"approve {_orders(folder, slack)}", SAM, CHANNEL, "")
    stale = signed_headers(body, at=int(time.time()) - 3600)
    assert slack_handler.handler(_event(body, stale), Context())["statusCode"] == 401
    forged = signed_headers(body, secret="guessed")
    assert slack_handler.handler(_event(body, forged), Context())["statusCode"] == 401
    assert _state(folder, slack, "orders-api") == "proposed"
