"""The organisation's usage, read from the store once and handed to each account's use case.

The organisation trail is ingested once; every principal's ARN carries its account. Each
account's scan or generation then runs the single-account use case, whose own ingest finds no
new batch (`NoNewBatches`) and whose usage store (`AccountUsage`) answers with the rows of that
account's principals only, from one query of the whole organisation's usage made up front.
Without this, each account would list the sources again and query every principal's usage.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterator, Sequence
from dataclasses import replace

from alpha.usage.aggregate import StoredBatch, StoredSummary, UsageOutline, UsageQuery, UsageRow
from alpha.usage.errors import UsageError
from alpha.usage.people import PersonUse
from alpha.usage.ports import LogBatch, TimeWindow, UsageStore

__all__ = ["AccountUsage", "NoNewBatches", "OrgUsage"]


def _asked(query: UsageQuery, principal: str) -> bool:
    if query.principals is not None and principal not in query.principals:
        return False
    return query.principal in (None, principal)


def account_of(principal: str) -> str:
    parts = principal.split(":")
    return parts[4] if len(parts) > 5 else ""


class NoNewBatches:
    """A usage source as an account's own ingest sees it: the organisation's ingest read it."""

    def __init__(self, name: str) -> None:
        self._name = name

    @property
    def name(self) -> str:
        return self._name

    def batches(self, window: TimeWindow) -> Iterator[LogBatch]:
        return iter(())

    def read(self, batch: LogBatch) -> bytes:
        raise UsageError(f"{self._name}: already read for the whole organisation")


class OrgUsage:
    """The rows (and active days) of every principal, by account, queried once each."""

    def __init__(self, store: UsageStore, keys: tuple[str, ...], window: TimeWindow) -> None:
        self.store = store
        self.keys = keys
        self._query = UsageQuery(keys, None, window)
        self._rows: dict[str, list[UsageRow]] | None = None
        self._days: dict[str, dict[str, dict[str, int]]] | None = None
        self._people: dict[str, list[PersonUse]] | None = None

    def rows(self, account: str) -> list[UsageRow]:
        if self._rows is None:
            self._rows = {}
            for row in self.store.usage(self._query):
                self._rows.setdefault(account_of(row.principal), []).append(row)
        return self._rows.get(account, [])

    def days(self, account: str) -> dict[str, dict[str, int]]:
        if self._days is None:
            self._days = {}
            for principal, days in self.store.active_days(self._query).items():
                self._days.setdefault(account_of(principal), {})[principal] = days
        return self._days.get(account, {})

    def people(self, account: str) -> list[PersonUse]:
        if self._people is None:
            self._people = {}
            for use in self.store.people(self._query):
                self._people.setdefault(account_of(use.principal), []).append(use)
        return self._people.get(account, [])

    def release(self, account: str) -> None:
        """The account is done: its rows are let go."""
        if self._rows is not None:
            self._rows.pop(account, None)
        if self._days is not None:
            self._days.pop(account, None)
        if self._people is not None:
            self._people.pop(account, None)

    def account(self, account: str) -> AccountUsage:
        return AccountUsage(self, account)


class AccountUsage:
    """`UsageStore` as one account's use case sees it: the organisation's batches, whatever
    keys a query names, and only the account's principals."""

    def __init__(self, usage: OrgUsage, account: str) -> None:
        self._usage = usage
        self._account = account

    def versions(self, keys: Collection[str]) -> dict[str, str]:
        return self._usage.store.versions(keys)

    def save(self, batches: Sequence[StoredBatch]) -> None:
        self._usage.store.save(batches)

    def usage(self, query: UsageQuery) -> list[UsageRow]:
        rows = self._usage.rows(self._account)
        return [r for r in rows if _asked(query, r.principal)]

    def outline(self, query: UsageQuery) -> UsageOutline:
        rows = [r for r in self._usage.rows(self._account) if _asked(query, r.principal)]
        counts = Counter(r.principal for r in rows)
        return UsageOutline(
            principals=tuple(sorted(counts.items())),
            actions=frozenset(r.action for r in rows),
            first_seen=min((r.first_seen for r in rows), default=None),
            last_seen=max((r.last_seen for r in rows), default=None),
        )

    def people(self, query: UsageQuery) -> list[PersonUse]:
        uses = self._usage.people(self._account)
        return [u for u in uses if _asked(query, u.principal)]

    def active_days(self, query: UsageQuery) -> dict[str, dict[str, int]]:
        days = self._usage.days(self._account)
        return {p: d for p, d in days.items() if _asked(query, p)}

    def usage_documents(self, query: UsageQuery) -> Iterator[list[str]]:
        return self._usage.store.usage_documents(replace(query, keys=self._usage.keys))

    def summary(self, keys: Collection[str]) -> StoredSummary:
        return self._usage.store.summary(self._usage.keys)
