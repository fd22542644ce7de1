"""`RecordingNotifier`: the shared fake of the `Notifier` port. It keeps every event it is
told, in order; while `unavailable` (the destination is down) it holds them back, and the next
`notify` or `flush` after it is back delivers them, in order, as the real notifiers do."""

from __future__ import annotations

from alpha.rollout.notify_ports import NotifyEvent


class RecordingNotifier:
    def __init__(self) -> None:
        self.delivered: list[NotifyEvent] = []
        self.waiting: list[NotifyEvent] = []
        self.unavailable = False

    def notify(self, event: NotifyEvent) -> None:
        self.waiting.append(event)
        self.flush()

    def flush(self) -> int:
        if not self.unavailable:
            self.delivered += self.waiting
            self.waiting.clear()
        return len(self.waiting)

    def kinds(self) -> list[str]:
        """Each delivered event as `Kind:short id`, for assertions that read as a timeline."""
        return [f"{type(e).__name__}:{e.proposal_id[:12]}" for e in self.delivered]
