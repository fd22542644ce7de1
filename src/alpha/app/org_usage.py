"""The organisation's usage, read from the store by account.

The organisation trail is ingested once; every principal's ARN carries its account. Each
account's scan or generation then runs the single-account use case, whose own ingest finds no
new batch (`NoNewBatches`) and whose usage store (`AccountUsage`) asks the organisation's store
about that account's principals only: every query is narrowed to them (`UsageQuery.among`), so
the store does the filtering and the use case reads its rows a part at a time as it does for
one account. The organisation's principals are outlined once (names and row counts, no rows):
holding the whole organisation's rows would take gigabytes at 10 million events, and a
`propose --all` that forks workers would copy them into each.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence

from alpha.usage.aggregate import StoredBatch, StoredSummary, UsageOutline, UsageQuery, UsageRow
from alpha.usage.errors import UsageError
from alpha.usage.people import PersonUse
from alpha.usage.ports import LogBatch, TimeWindow, UsageStore

__all__ = ["AccountUsage", "NoNewBatches", "OrgUsage", "account_of"]


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
    """The organisation's stored usage: which principals of each account have any (outlined
    once, on first need), and a per-account view of the store."""

    def __init__(self, store: UsageStore, keys: tuple[str, ...], window: TimeWindow) -> None:
        self.store = store
        self.keys = keys
        self._window = window
        self._principals: dict[str, frozenset[str]] | None = None

    def principals(self, account: str) -> frozenset[str]:
        """The account's principals with usage in the organisation's batches and window."""
        if self._principals is None:
            outline = self.store.outline(UsageQuery(self.keys, None, self._window))
            grouped: dict[str, set[str]] = {}
            for principal, _ in outline.principals:
                grouped.setdefault(account_of(principal), set()).add(principal)
            self._principals = {a: frozenset(p) for a, p in grouped.items()}
        return self._principals.get(account, frozenset())

    def account(self, account: str) -> AccountUsage:
        return AccountUsage(self, account)


class AccountUsage:
    """`UsageStore` as one account's use case sees it: the organisation's batches, whatever
    keys a query names, and only the account's principals."""

    def __init__(self, usage: OrgUsage, account: str) -> None:
        self._usage = usage
        self._account = account

    def _scoped(self, query: UsageQuery) -> UsageQuery | None:
        """The query over the organisation's batches and this account's principals; None
        when that leaves no principal."""
        wanted = self._usage.principals(self._account)
        if query.principals is not None:
            wanted = wanted & query.principals
        if query.principal is not None:
            wanted = wanted & {query.principal}
        if not wanted:
            return None
        return UsageQuery(self._usage.keys, query.principal, query.window, wanted)

    def versions(self, keys: Collection[str]) -> dict[str, str]:
        return self._usage.store.versions(keys)

    def save(self, batches: Sequence[StoredBatch]) -> None:
        self._usage.store.save(batches)

    def usage(self, query: UsageQuery) -> list[UsageRow]:
        scoped = self._scoped(query)
        return [] if scoped is None else self._usage.store.usage(scoped)

    def outline(self, query: UsageQuery) -> UsageOutline:
        scoped = self._scoped(query)
        if scoped is None:
            return UsageOutline((), frozenset(), None, None)
        return self._usage.store.outline(scoped)

    def people(self, query: UsageQuery) -> list[PersonUse]:
        scoped = self._scoped(query)
        return [] if scoped is None else self._usage.store.people(scoped)

    def active_days(self, query: UsageQuery) -> dict[str, dict[str, int]]:
        scoped = self._scoped(query)
        return {} if scoped is None else self._usage.store.active_days(scoped)

    def usage_documents(self, query: UsageQuery) -> Iterator[list[str]]:
        scoped = self._scoped(query)
        return iter(()) if scoped is None else self._usage.store.usage_documents(scoped)

    def summary(self, keys: Collection[str]) -> StoredSummary:
        return self._usage.store.summary(self._usage.keys)
