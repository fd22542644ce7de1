"""Benchmark: posting a burst of new proposals to Slack through the durable outbox (issue 15:
"a burst of 500 proposals is posted in order without losing one").

Each `notify` writes the event to the SQLite outbox and drains it: `chat.postMessage` over real
HTTP to a local fake of the Web API (tests/fakes/slack_api.py), then the message's anchor and
its removal from the queue. Reported: wall time and notifications per second, the share spent
in the outbox (the same run with a sender that posts nothing), and a run where every 50th post
is answered 429 with `Retry-After: 1` (waited for real), checking the order each time.

Run: .venv/bin/python benchmarks/bench_slack.py [--proposals 500]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from slack_sdk import WebClient

from alpha.adapters.local.outbox import SQLiteOutbox
from alpha.adapters.slack.bot import SlackBotSender
from alpha.adapters.slack.notifier import OutboxNotifier
from alpha.rollout.notify_ports import NotifyEvent

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.fakes.notify_events import created, proposal_id
from tests.fakes.slack_api import CHANNEL, TOKEN, FakeSlack, fake_slack


class _Nowhere:
    def send(self, event: NotifyEvent, outbox: SQLiteOutbox) -> None:
        return None


def _run(folder: Path, count: int, slack: FakeSlack | None, every: int = 0) -> tuple[float, float]:
    """Seconds to notify `count` new proposals (what proposing waits), and until the last is
    posted; every `every`th post answered 429 first."""
    outbox = SQLiteOutbox(folder / f"outbox-{time.monotonic_ns()}.db")
    if slack is None:
        notifier = OutboxNotifier(outbox, _Nowhere())
    else:
        client = WebClient(token=TOKEN, base_url=slack.api_url)
        notifier = OutboxNotifier(outbox, SlackBotSender(client, CHANNEL))
    started = time.perf_counter()
    for n in range(count):
        if slack is not None and every and n % every == every - 1:
            slack.fault("chat.postMessage", 429, retry_after=1)
        notifier.notify(created(n))
    notified = time.perf_counter() - started
    notifier.drain(None)  # what a notify left for later (rate limited), at Slack's pace
    elapsed = time.perf_counter() - started
    assert outbox.count() == 0
    return notified, elapsed


def _check_order(slack: FakeSlack, count: int) -> None:
    posted = [p["metadata"]["event_payload"]["proposal_id"] for p in slack.posts()]
    assert posted == [proposal_id(n) for n in range(count)], "out of order or lost"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--proposals", type=int, default=500)
    count = parser.parse_args().proposals
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        print("run                     notified   all posted   posted/s")
        runs = [("outbox only (no HTTP)", 0, False), ("posted, no limits", 0, True)]
        runs.append(("every 50th 429 (1 s)", 50, True))
        for title, every, post in runs:
            with fake_slack() as slack:
                notified, done = _run(folder, count, slack if post else None, every)
                if post:
                    _check_order(slack, count)
            print(f"{title:<22} {notified:8.2f} s {done:10.2f} s {count / done:10.0f}")
        print("(every run in order, none lost)")


if __name__ == "__main__":
    main()
