"""`SharedUsageStore`: the DuckDB usage store shared by processes that run at once.

DuckDB lets one process at a time open a file for writing, and a rollout watches its logs for
hours. So the rollout's monitor does not hold the store: each question opens it, asks, and
closes it, waiting (with back-off, up to `wait`) while another process has it. Two rollouts,
or a rollout and an `alpha usage`, then take turns instead of the second one failing.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

from alpha.adapters.local.duckdb_usage import DuckDBUsageStore, UsageStoreBusyError
from alpha.usage.aggregate import (
    StoredBatch,
    StoredSummary,
    UsageOutline,
    UsageQuery,
    UsageRow,
)
from alpha.usage.people import PersonUse

__all__ = ["SharedUsageStore"]

_FIRST_PAUSE = 0.05
_LONGEST_PAUSE = 2.0


class SharedUsageStore:
    """A `UsageStore` opened for each call. `sleep` is injectable for tests."""

    def __init__(
        self,
        path: Path,
        *,
        wait: timedelta = timedelta(minutes=5),
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.path = path
        self._wait = wait.total_seconds()
        self._sleep = sleep
        self._clock = clock

    @contextmanager
    def _opened(self) -> Iterator[DuckDBUsageStore]:
        deadline = self._clock() + self._wait
        pause = _FIRST_PAUSE
        while True:
            try:
                store = DuckDBUsageStore(self.path)
                break
            except UsageStoreBusyError:
                if self._clock() >= deadline:
                    raise
                self._sleep(pause)
                pause = min(pause * 2, _LONGEST_PAUSE)
        with store:
            yield store

    def versions(self, keys: Collection[str]) -> dict[str, str]:
        with self._opened() as store:
            return store.versions(keys)

    def save(self, batches: Sequence[StoredBatch]) -> None:
        with self._opened() as store:
            store.save(batches)

    def usage(self, query: UsageQuery) -> list[UsageRow]:
        with self._opened() as store:
            return store.usage(query)

    def outline(self, query: UsageQuery) -> UsageOutline:
        with self._opened() as store:
            return store.outline(query)

    def active_days(self, query: UsageQuery) -> dict[str, dict[str, int]]:
        with self._opened() as store:
            return store.active_days(query)

    def people(self, query: UsageQuery) -> list[PersonUse]:
        with self._opened() as store:
            return store.people(query)

    def usage_documents(self, query: UsageQuery) -> Iterator[list[str]]:
        with self._opened() as store:
            yield from store.usage_documents(query)

    def summary(self, keys: Collection[str]) -> StoredSummary:
        with self._opened() as store:
            return store.summary(keys)
