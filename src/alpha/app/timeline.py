"""Time never runs backwards in a store.

Every store keeps how its clock runs, in its first audit event: `wall` (the default: actions
happen at the real time) or `replay` (made to replay old logs, as the demo's: `--now` may set
the time). In either, an action earlier than the store's last event is refused, so an approval
cannot be dated before its proposal, nor a rollout pass an approval that had expired by the
time of an earlier action. A store's clock is chosen when it is made and never changes.

In a replay store the commands one replays at one `--now` each take a moment to run, so an
action up to `REPLAY_SLACK` earlier than the last event is still taken: a minute of the
replayed past, never more.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from alpha.app.errors import AppError
from alpha.app.settings import Settings
from alpha.store.model import AuditEvent
from alpha.store.ports import Store

__all__ = ["STORE_CLOCK", "TimelineError", "check_time"]

STORE_CLOCK = "store.clock"
WALL, REPLAY = "wall", "replay"
REPLAY_SLACK = timedelta(minutes=1)


class TimelineError(AppError):
    """An action would make the store's time run backwards, or set the time in a store that
    follows the wall clock."""


def check_time(store: Store, now: datetime, settings: Settings) -> None:
    """Before an action that writes: refuse it when it is earlier than the store's last event
    or sets the time (`--now`) in a store that follows the wall clock. A new store records its
    clock here."""
    events = store.audit(None)
    if not events:
        _record_clock(store, now, settings)
        return
    clock = _clock_of(events)
    if settings.replay and clock != REPLAY:
        raise TimelineError(
            f"{settings.store_shown}: this store follows the wall clock; replay ([store] replay, "
            "ALPHA_STORE_REPLAY) applies only to a new store"
        )
    if settings.now is not None and clock != REPLAY:
        raise TimelineError(
            f"--now / ALPHA_NOW: {settings.store_shown} follows the wall clock; only a store "
            "made to replay old logs ([store] replay = true when it is created) takes another time"
        )
    last = max(event.at for event in events)
    if now < last - (REPLAY_SLACK if clock == REPLAY else timedelta(0)):
        raise TimelineError(
            f"acting at {now.isoformat()}, earlier than the store's last event "
            f"({last.isoformat()}): time never runs backwards in a store"
        )


def _record_clock(store: Store, now: datetime, settings: Settings) -> None:
    clock = REPLAY if settings.replay else WALL
    if settings.now is not None and clock != REPLAY:
        raise TimelineError(
            "--now / ALPHA_NOW: a store that follows the wall clock takes no other time; "
            "make the store for replaying old logs ([store] replay = true, ALPHA_STORE_REPLAY)"
        )
    store.append_audit(
        at=now,
        proposal_id=None,
        actor=settings.user,
        action=STORE_CLOCK,
        reason=f"the store's clock: {clock}",
        details={"clock": clock},
    )


def _clock_of(events: list[AuditEvent]) -> str:
    """A store made before clocks were recorded follows the wall clock."""
    first = events[0]
    if first.action == STORE_CLOCK and first.details.get("clock") == REPLAY:
        return REPLAY
    return WALL
