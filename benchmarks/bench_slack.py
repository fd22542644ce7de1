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


def _run(folder: Path, count: int, slack: FakeSlack | None, every: int = 0) -> float:
    """Seconds to notify `count` new proposals; every `every`th post answered 429 first."""
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
    elapsed = time.perf_counter() - started
    assert outbox.count() == 0
    return elapsed


def _check_order(slack: FakeSlack, count: int) -> None:
    posted = [p["metadata"]["event_payload"]["proposal_id"] for p in slack.posts()]
    assert posted == [proposal_id(n) for n in range(count)], "out of order or lost"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--proposals", type=int, default=500)
    count = parser.parse_args().proposals
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        alone = _run(folder, count, None)
        print(f"outbox only:        {alone:6.2f} s  {count / alone:8.0f}/s")
        with fake_slack() as slack:
            posted = _run(folder, count, slack)
            _check_order(slack, count)
        print(f"posted, no limits:  {posted:6.2f} s  {count / posted:8.0f}/s  (in order)")
        with fake_slack() as slack:
            limited = _run(folder, count, slack, every=50)
            _check_order(slack, count)
        print(f"every 50th 429 (1 s): {limited:6.2f} s  (in order, none lost)")


if __name__ == "__main__":
    main()
