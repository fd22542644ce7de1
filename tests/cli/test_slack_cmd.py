"""`alpha slack serve` and `alpha slack flush` as a user runs them."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from alpha.adapters.local.outbox import SQLiteOutbox
from alpha.adapters.slack.bot import SlackBotSender
from alpha.adapters.slack.notifier import OutboxNotifier
from alpha.app.backends import outbox_path, slack_web_client
from alpha.app.settings import Flags, load_settings
from tests.cli.workflow_helpers import alpha
from tests.fakes.notify_events import created
from tests.fakes.slack_api import CHANNEL, TOKEN, FakeSlack, fake_slack
from tests.slack.signed import SIGNING_SECRET, command_body, signed_headers

SLACK_VARIABLES = (
    "SLACK_BOT_TOKEN",
    "SLACK_SIGNING_SECRET",
    "ALPHA_SLACK_CHANNEL",
    "ALPHA_SLACK_API_URL",
    "ALPHA_SLACK_USERS",
    "ALPHA_SLACK_WEBHOOK_URL",
    "ALPHA_STORE",
    "ALPHA_CONFIG",
)


@pytest.fixture
def slack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeSlack]:
    monkeypatch.chdir(tmp_path)
    for name in SLACK_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    with fake_slack() as running:
        yield running


def _configure(monkeypatch: pytest.MonkeyPatch, slack: FakeSlack) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("SLACK_SIGNING_SECRET", SIGNING_SECRET)
    monkeypatch.setenv("ALPHA_SLACK_CHANNEL", CHANNEL)
    monkeypatch.setenv("ALPHA_SLACK_API_URL", slack.api_url)
    monkeypatch.setenv("ALPHA_SLACK_USERS", "U0SAM=sam")


def test_flush_without_slack_has_nothing_to_do(slack: FakeSlack) -> None:
    ran = alpha("slack", "flush")
    assert ran.code == 0
    assert ran.out.startswith("Slack notifications are off (set SLACK_BOT_TOKEN")


def test_flush_delivers_what_waits_and_says_what_still_waits(
    slack: FakeSlack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _configure(monkeypatch, slack)
    settings = load_settings(Flags(), dict(os.environ), tmp_path)
    queued = SQLiteOutbox(outbox_path(settings))
    waiting = OutboxNotifier(queued, SlackBotSender(slack_web_client(settings), CHANNEL))
    slack.down = True
    waiting.notify(created(1))
    waiting.notify(created(2))
    slack.down = False
    ran = alpha("slack", "flush")
    assert (ran.code, ran.out) == (0, "every notification delivered\n")
    assert len(slack.posts()) == 2
    slack.fault("chat.postMessage", 429, retry_after=600)  # longer than a flush waits
    waiting.outbox.put({"kind": "stage_started", "proposal_id": "ab" * 32, "principal": "p",
                        "stage": "canary"})  # fmt: skip
    ran = alpha("slack", "flush")
    assert (ran.code, ran.out) == (
        1,
        "1 notifications still waiting (Slack refused or rate-limited)\n",
    )


def test_serve_needs_the_signing_secret(slack: FakeSlack, monkeypatch: pytest.MonkeyPatch) -> None:
    _configure(monkeypatch, slack)
    monkeypatch.delenv("SLACK_SIGNING_SECRET")
    ran = alpha("slack", "serve", "--port", "0")
    assert ran.code == 2
    assert ran.err.startswith("alpha: error: set SLACK_SIGNING_SECRET")


def test_serve_on_a_port_in_use_is_one_line(
    slack: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    _configure(monkeypatch, slack)
    taken = slack.url.rpartition(":")[2]  # the fake Slack listens there
    ran = alpha("slack", "serve", "--port", taken)
    assert ran.code == 2
    assert ran.err == f"alpha: error: cannot listen on 127.0.0.1:{taken}: Address already in use\n"


# Ctrl-C as a terminal gives it, whatever this process passes on: a process started with
# SIGINT ignored (inherited; seen in CI) keeps it ignored, and Python then sets no handler.
INTERRUPTIBLE = "import signal; signal.signal(signal.SIGINT, signal.default_int_handler); "


def test_serve_answers_signed_requests_until_interrupted(
    slack: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    _configure(monkeypatch, slack)
    program = INTERRUPTIBLE + "from alpha.cli.main import main; main()"
    server = subprocess.Popen(
        [sys.executable, "-c", program, "slack", "serve", "--port", "0"],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stderr is not None
        first = server.stderr.readline()
        assert first.startswith("alpha: Slack app listening on http://127.0.0.1:"), first
        url = first.split(" on ", 1)[1].split()[0]
        body = command_body("status", "U0SAM", CHANNEL, slack.response_url())
        answer = httpx.post(url, content=body, headers=signed_headers(body))
        assert answer.status_code == 200
        assert json.loads(answer.text)["text"].startswith("*0 open proposals*")
        unsigned = httpx.post(url, content=body)
        assert unsigned.status_code == 401
    finally:
        # The rest of stderr is read as it comes: a server blocked writing to a full pipe
        # would never stop; and it is shown if the server does not.
        rest: list[str] = []
        reader = threading.Thread(target=lambda: rest.extend(server.stderr or ()), daemon=True)
        reader.start()
        server.send_signal(signal.SIGINT)
        try:
            code: int | None = server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
            code = None
        reader.join(timeout=5)
    assert code == 0, "".join(rest)[-4000:]
    assert [c.name for c in slack.api()] == ["auth.test"]  # the token, checked at start
