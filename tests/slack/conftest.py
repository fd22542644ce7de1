"""The real Slack app (Bolt) served on a free port over a store made by the real propose flow
on the demo's sample, with the Web API pointed at a local fake that records every call."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest

from alpha.app import Application, Flags, GenerateRequest, application_for, load_settings
from alpha.app.backends import slack_web_client
from alpha.demo.sample import ROLLOUT_AT, write_sample
from alpha.slack.bolt_app import build_app
from alpha.slack.server import Running, serve
from tests.fakes.slack_api import CHANNEL, TOKEN, FakeSlack, fake_slack
from tests.slack.signed import SIGNING_SECRET, signed_headers

PROPOSED_AT = ROLLOUT_AT - timedelta(hours=2)
DECIDED_AT = ROLLOUT_AT - timedelta(hours=1)
SAM, DANA, STRANGER = "U0SAM", "U0DANA", "U0NOBODY"
SETTINGS = """\
[store]
path = ".alpha/alpha.db"
replay = true

[rollout]
logs = ["cloudtrail", "cloudtrail-bake"]
usage_store = ".alpha/usage.duckdb"
bake = "6h"

[approvals]
expiry = "3650d"

[slack]
channel = "C0ALPHA01"
users = { U0SAM = "sam", U0DANA = "dana" }
"""


def slack_env(slack: FakeSlack, now: datetime) -> dict[str, str]:
    return {
        "SLACK_BOT_TOKEN": TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "ALPHA_SLACK_API_URL": slack.api_url,
        "ALPHA_NOW": now.isoformat(),
    }


def application_at(folder: Path, slack: FakeSlack, now: datetime) -> Application:
    env = slack_env(slack, now)
    return application_for(load_settings(Flags(), env, folder), env)


@pytest.fixture(scope="module")
def proposed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with the sample, alpha.toml and a store holding its proposals (by dana), each
    posted to Slack as it was made (the outbox beside the store keeps their messages)."""
    folder = tmp_path_factory.mktemp("slack-world")
    paths = write_sample(folder)
    (folder / "alpha.toml").write_text(SETTINGS)
    with fake_slack() as slack:
        app = application_at(folder, slack, PROPOSED_AT)
        request = GenerateRequest(str(paths.account), (str(paths.observed),))
        app.propose(request, by="dana")
        assert len(slack.posts()) == 3
    return folder


@dataclass
class World:
    folder: Path
    slack: FakeSlack
    app: Application
    running: Running

    def ids(self) -> dict[str, str]:
        return {r["principal"].rpartition("/")[2]: r["id"] for r in self.app.list_proposals()}

    def state(self, name: str) -> str:
        return next(
            str(r["state"]) for r in self.app.list_proposals() if r["id"] == self.ids()[name]
        )

    def post(self, body: str, headers: dict[str, str] | None = None) -> httpx.Response:
        return httpx.post(self.running.url, content=body, headers=headers or signed_headers(body))


@pytest.fixture
def world(proposed: Path, tmp_path: Path) -> Iterator[World]:
    folder = tmp_path / "world"
    shutil.copytree(proposed, folder)
    with fake_slack() as slack:
        app = application_at(folder, slack, DECIDED_AT)
        bolt = build_app(app, slack_web_client(app.settings))
        running = serve(bolt, app, "127.0.0.1", 0, flush_every=0.1)
        try:
            yield World(folder, slack, app, running)
        finally:
            running.stop()


__all__ = ["CHANNEL", "DANA", "SAM", "STRANGER"]
