"""`Monitor` over CloudTrail log folders, through the usage layer.

Each question first brings the usage store up to date with the sources (only new or changed
log files are read), then asks it for the principal's rows. `IAMErrorRate` is the principal's
AccessDenied calls per call. `covered_until` is the latest event time in the logs of any
principal: a bake period is observed once the logs reach its end.

It fails closed: when a log that may hold calls of the window asked about cannot be read, or
had records skipped, `error_rate` and `calls` raise `UnreadableLogsError` instead of answering
from what was left, so a stage never passes on logs nobody read.

Precision: the usage store keeps calls per hour, so a window whose ends are not on the hour
also counts the calls of the edge hours that fall outside it, unless a row's first/last seen
time shows it lies wholly outside. For the rollout this errs towards seeing a denial (and
rolling back), never towards missing one; bake windows on whole hours are exact.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from alpha.rollout.errors import UnreadableLogsError
from alpha.rollout.iam_ports import ErrorRate, MonitoredCall
from alpha.usage.aggregate import UsageQuery, UsageRow
from alpha.usage.ingest import InterpreterFactory, default_interpreter, ingest
from alpha.usage.ports import TimeWindow, UsageSource, UsageStore
from alpha.usage.reader import ReadProblem, SkipReason

__all__ = ["CloudTrailMonitor"]


class CloudTrailMonitor:
    """`Monitor` reading `sources` into `store`. `workers` as for `ingest` (1: in-process)."""

    def __init__(
        self,
        sources: Sequence[UsageSource],
        store: UsageStore,
        *,
        interpreter: InterpreterFactory = default_interpreter,
        workers: int = 1,
    ) -> None:
        self._sources = tuple(sources)
        self._store = store
        self._interpreter = interpreter
        self._workers = workers
        self._unreadable: tuple[ReadProblem, ...] = ()

    def error_rate(self, principal: str, since: datetime, until: datetime) -> ErrorRate:
        keys = self._refresh()
        self._require_readable(keys, since, until)
        rows = self._rows(keys, principal, since, until)
        calls = sum(r.count + r.denied for r in rows)
        denied = sum(r.denied for r in rows)
        return ErrorRate(calls=calls, denied=denied, covered_until=self._latest(keys))

    def calls(self, principal: str, since: datetime, until: datetime) -> list[MonitoredCall]:
        keys = self._refresh()
        self._require_readable(keys, since, until)
        rows = self._rows(keys, principal, since, until)
        # The usage store does not keep regions: replay runs without aws:RequestedRegion.
        return [MonitoredCall(r.action, r.resource, None, r.count) for r in rows if r.count]

    def covered_until(self) -> datetime | None:
        return self._latest(self._refresh())

    def _refresh(self) -> tuple[str, ...]:
        report = ingest(
            self._sources,
            self._store,
            TimeWindow(),
            interpreter=self._interpreter,
            workers=self._workers,
        )
        self._unreadable = tuple(p for p in report.problems if p.record is None)
        return report.keys

    def _require_readable(self, keys: tuple[str, ...], since: datetime, until: datetime) -> None:
        """`UnreadableLogsError` when a log that may hold calls of [since, until) could not be
        read now, or had records skipped when it was stored."""
        window = TimeWindow(since, until)
        in_window = {batch.key for source in self._sources for batch in source.batches(window)}
        files = sorted({p.file for p in self._unreadable if p.file in in_window})
        stored = self._store.summary([k for k in keys if k in in_window]).skipped
        # Events ignored by design (no principal, unauthenticated) are read; these were not.
        skipped = {r: n for r, n in stored.items() if r in _UNREAD_RECORDS and n}
        if not files and not skipped:
            return
        parts = [f"{len(files)} file(s) unreadable ({_first(files)})"] if files else []
        if skipped:
            reasons = ", ".join(f"{n} {reason}" for reason, n in sorted(skipped.items()))
            parts.append(f"records skipped ({reasons})")
        raise UnreadableLogsError(
            f"the logs from {since.isoformat()} to {until.isoformat()} could not all be read: "
            f"{'; '.join(parts)}; a stage does not pass on logs it could not read (repair or "
            "remove them, then run again)"
        )

    def _rows(
        self, keys: tuple[str, ...], principal: str, since: datetime, until: datetime
    ) -> list[UsageRow]:
        query = UsageQuery(keys, principal, TimeWindow(since, until))
        rows = self._store.usage(query)
        return [r for r in rows if r.last_seen >= since and r.first_seen < until]

    def _latest(self, keys: tuple[str, ...]) -> datetime | None:
        rows = self._store.usage(UsageQuery(keys))
        return max((r.last_seen for r in rows), default=None)


# Every reason the reader gives is something it could not read (a record cut short, too
# large, of the wrong shape; a file empty or refused): any of them may hide an AccessDenied.
# Events ignored by design (no principal, unauthenticated) have reasons of their own.
_UNREAD_RECORDS = frozenset(reason.value for reason in SkipReason)


def _first(files: list[str]) -> str:
    return files[0] if len(files) == 1 else f"{files[0]} and {len(files) - 1} more"
