"""A notifier that never fails the step it reports: the workflow's record (the store and its
audit log) is what counts; a notification that cannot even be queued is logged loudly. The
notifier behind it is made on first use, so a command that tells no one opens nothing."""

from __future__ import annotations

import logging
from collections.abc import Callable

from alpha.errors import AlphaError
from alpha.rollout.notify_ports import Notifier, NotifyEvent

__all__ = ["GuardedNotifier"]

log = logging.getLogger(__name__)


class GuardedNotifier:
    def __init__(self, make: Callable[[], Notifier]) -> None:
        self._make = make
        self._inner: Notifier | None = None

    @property
    def inner(self) -> Notifier:
        if self._inner is None:
            self._inner = self._make()
        return self._inner

    def notify(self, event: NotifyEvent) -> None:
        try:
            self.inner.notify(event)
        except AlphaError as exc:
            log.error("could not queue the notification about %s: %s", event.proposal_id, exc)

    def flush(self) -> int:
        return self.inner.flush()
