"""`Monitor` over CloudTrail log folders, through the usage layer.

Each question first brings the usage store up to date with the sources (only new or changed
log files are read), then asks it for the principal's rows. `IAMErrorRate` is the principal's
AccessDenied calls per call. `covered_until` is the latest event time in the logs of any
principal: a bake period is observed once the logs reach its end.

Precision: the usage store keeps calls per hour, so a window whose ends are not on the hour
also counts the calls of the edge hours that fall outside it, unless a row's first/last seen
time shows it lies wholly outside. For the rollout this errs towards seeing a denial (and
rolling back), never towards missing one; bake windows on whole hours are exact.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from alpha.rollout.iam_ports import ErrorRate, MonitoredCall
from alpha.usage.aggregate import UsageQuery, UsageRow
from alpha.usage.ingest import InterpreterFactory, default_interpreter, ingest
from alpha.usage.ports import TimeWindow, UsageSource, UsageStore


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

    def error_rate(self, principal: str, since: datetime, until: datetime) -> ErrorRate:
        keys = self._refresh()
        rows = self._rows(keys, principal, since, until)
        calls = sum(r.count + r.denied for r in rows)
        denied = sum(r.denied for r in rows)
        return ErrorRate(calls=calls, denied=denied, covered_until=self._latest(keys))

    def calls(self, principal: str, since: datetime, until: datetime) -> list[MonitoredCall]:
        keys = self._refresh()
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
        return report.keys

    def _rows(
        self, keys: tuple[str, ...], principal: str, since: datetime, until: datetime
    ) -> list[UsageRow]:
        query = UsageQuery(keys, principal, TimeWindow(since, until))
        rows = self._store.usage(query)
        return [r for r in rows if r.last_seen >= since and r.first_seen < until]

    def _latest(self, keys: tuple[str, ...]) -> datetime | None:
        rows = self._store.usage(UsageQuery(keys))
        return max((r.last_seen for r in rows), default=None)
