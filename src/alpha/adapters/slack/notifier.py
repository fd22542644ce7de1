"""`OutboxNotifier`: the `Notifier` over a durable outbox and a sender (the Slack bot, or an
incoming webhook).

`notify` writes the event to the outbox, then drains it for a short while: messages leave in
the order they were queued, one at a time. A 429 is remembered with its `Retry-After`: until
then nothing is sent. `flush` waits it out (within its budget) and sends the same message
again; `notify` never waits for it (a burst of proposals is stored at full speed, and posted at
the pace Slack allows by the flushes). Any other failure is retried a few times with a backoff,
then left at the head of the queue (nothing behind it overtakes it) for the next drain: the next
`notify`, `flush`, the Slack server's background flush, or `alpha slack flush`. Nothing is
dropped; a crash between a post and its removal from the queue posts that message again.
"""

from __future__ import annotations

import logging
import os
import socket
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from alpha.adapters.local.outbox import Queued, SQLiteOutbox
from alpha.adapters.slack.event_json import event_from_json, event_to_json
from alpha.errors import AlphaError
from alpha.rollout.notify_ports import NotifyEvent

__all__ = [
    "FLUSH_BUDGET",
    "NOTIFY_BUDGET",
    "DeliveryError",
    "OutboxNotifier",
    "RateLimitedError",
    "Sender",
    "retry_after_of",
]

log = logging.getLogger(__name__)

NOTIFY_BUDGET = 2.0
"""Seconds a `notify` may spend delivering: a workflow step is never held up for long."""
FLUSH_BUDGET = 60.0
"""Seconds a `flush` may spend: long enough to wait out Slack's usual `Retry-After`."""
BACKOFF = (0.5, 2.0, 5.0)
"""Waits between tries of a message that failed (not rate limited) within one drain."""
LEASE_SECONDS = 120.0
PAUSE = "rate_limited"
"""The anchor holding until when the destination asked not to be sent anything."""

Sleeper = Callable[[float], None]


class DeliveryError(AlphaError):
    """The destination did not take a message now (it stays queued)."""


class RateLimitedError(DeliveryError):
    def __init__(self, retry_after: float) -> None:
        super().__init__(f"rate limited: retry after {retry_after:g}s")
        self.retry_after = retry_after


def retry_after_of(headers: Mapping[str, Any]) -> float:
    """The seconds a 429's `Retry-After` header asks for (1 when it is missing or unreadable)."""
    found = next((v for k, v in headers.items() if k.lower() == "retry-after"), None)
    value = found[0] if isinstance(found, list) and found else found
    try:
        return max(0.0, float(str(value)))
    except ValueError:
        return 1.0


class Sender(Protocol):
    def send(self, event: NotifyEvent, outbox: SQLiteOutbox) -> None:
        """Deliver one event (reading and keeping anchors in the outbox); `DeliveryError`
        when the destination did not take it."""
        ...


class OutboxNotifier:
    def __init__(
        self,
        outbox: SQLiteOutbox,
        sender: Sender,
        *,
        sleeper: Sleeper = time.sleep,
        budget: float | None = NOTIFY_BUDGET,
        flush_budget: float | None = FLUSH_BUDGET,
    ) -> None:
        self.outbox = outbox
        self.sender = sender
        self.sleeper = sleeper
        self.budget = budget
        self.flush_budget = flush_budget
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"

    def notify(self, event: NotifyEvent) -> None:
        self.outbox.put(event_to_json(event))
        self.drain(self.budget, patient=False)

    def flush(self) -> int:
        return self.drain(self.flush_budget)

    def drain(self, budget: float | None, *, patient: bool = True) -> int:
        """Deliver in order until the queue is empty, a message fails for now, or `budget`
        seconds are spent (None: no limit); waiting out rate limits only if `patient`. How many
        messages still wait."""
        deadline = None if budget is None else time.monotonic() + budget
        # Each drain holds the lease under its own name: two threads of one process (a request
        # and the server's background flush) must not send the same message side by side.
        run = _Drain(self, f"{self.holder}:{uuid.uuid4().hex[:8]}", deadline, patient)
        if not self.outbox.take_lease(run.holder, LEASE_SECONDS):
            return self.outbox.count()  # another drainer is at it, in the same order
        try:
            while (queued := self.outbox.first()) is not None:
                if not run.honour_pause() or not run.deliver(queued):
                    break
        finally:
            self.outbox.release_lease(run.holder)
        return self.outbox.count()


@dataclass(frozen=True, slots=True)
class _Drain:
    """One drain of the outbox: who holds its lease, until when it may go on, and whether it
    waits out rate limits."""

    notifier: OutboxNotifier
    holder: str
    deadline: float | None
    patient: bool

    def deliver(self, queued: Queued) -> bool:
        outbox = self.notifier.outbox
        event = event_from_json(queued.payload)
        failures, limited = 0, False
        while True:
            try:
                self.notifier.sender.send(event, outbox)
            except RateLimitedError as exc:
                outbox.set_anchor(PAUSE, {"until": time.time() + exc.retry_after})
                limited = True
                if not (self.patient and self.wait(exc.retry_after)):
                    outbox.failed(queued.seq, str(exc))
                    return False
                continue
            except DeliveryError as exc:
                outbox.failed(queued.seq, str(exc))
                log.warning("notification %d not delivered (kept to retry): %s", queued.seq, exc)
                if failures >= len(BACKOFF) or not self.wait(BACKOFF[failures]):
                    return False
                failures += 1
                continue
            outbox.done(queued.seq)
            if limited:
                outbox.set_anchor(PAUSE, {"until": 0})  # it took one: the pause is over
            return True

    def honour_pause(self) -> bool:
        """Wait out a `Retry-After` an earlier drain was told, if the budget allows."""
        pause = self.notifier.outbox.anchor(PAUSE)
        left = 0.0 if pause is None else float(pause["until"]) - time.time()
        return left <= 0 or (self.patient and self.wait(left))

    def wait(self, seconds: float) -> bool:
        """Sleep `seconds` if the budget allows; False (no sleep) when it does not."""
        if self.deadline is not None and time.monotonic() + seconds > self.deadline:
            return False
        self.notifier.outbox.take_lease(self.holder, LEASE_SECONDS + seconds)
        self.notifier.sleeper(seconds)
        return True
