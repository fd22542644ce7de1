"""Backends for a long-lived server: the workflow store stays open between requests.

Opening a store checks all of it against its hash chain, which takes seconds on a store of
thousands of proposals; a server opens it once. Each time it is handed out again, the chain's
entries other processes appended since are checked first (`chain_head`, for a store that keeps
one), and every row read is checked as always. Everything else is the inner backends'.

Not thread-safe: one thread at a time uses it (the web console runs every call on one worker).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from alpha.app.backends import Backends, Clock, PolicyEngine
from alpha.store.ports import Store

if TYPE_CHECKING:
    from alpha.account import AccountSnapshot
    from alpha.app.approval_requests import WorkflowCallbacks
    from alpha.catalog import Catalog
    from alpha.guardrails import GuardrailConfig
    from alpha.reasoning import Reasoner
    from alpha.rollout.iam_ports import IamChanger, Monitor
    from alpha.rollout.metric_ports import DeliveryLedger, MetricLog, MetricSink
    from alpha.rollout.notify_ports import Notifier
    from alpha.usage.ports import UsageSource, UsageStore

__all__ = ["HeldStoreBackends"]


@runtime_checkable
class _Chained(Protocol):
    def chain_head(self) -> object: ...


class HeldStoreBackends:
    """`inner`, with its store opened on first use and kept open until `close`."""

    def __init__(self, inner: Backends) -> None:
        self._inner = inner
        self._open = ExitStack()
        self._store: Store | None = None

    @contextmanager
    def open_store(self) -> Iterator[Store]:
        if self._store is None:
            self._store = self._open.enter_context(self._inner.open_store())
        elif isinstance(self._store, _Chained):
            self._store.chain_head()  # what others appended since, checked before any read
        yield self._store

    def close(self) -> None:
        self._store = None
        self._open.close()

    def clock(self) -> Clock:
        return self._inner.clock()

    def open_usage_store(self) -> AbstractContextManager[UsageStore]:
        return self._inner.open_usage_store()

    def usage_source(self, text: str) -> UsageSource:
        return self._inner.usage_source(text)

    def read_account(self, text: str) -> AccountSnapshot:
        return self._inner.read_account(text)

    def account_document(self, text: str) -> object:
        return self._inner.account_document(text)

    def iam_changer(self, store: Store) -> IamChanger:
        return self._inner.iam_changer(store)

    def open_monitor(self, *, watch: bool) -> AbstractContextManager[Monitor]:
        return self._inner.open_monitor(watch=watch)

    def reasoner(self) -> Reasoner | None:
        return self._inner.reasoner()

    def guardrails(self) -> GuardrailConfig:
        return self._inner.guardrails()

    def catalog(self) -> Catalog:
        return self._inner.catalog()

    def policy_engine(self) -> PolicyEngine | None:
        return self._inner.policy_engine()

    def metric_sink(self) -> MetricSink:
        return self._inner.metric_sink()

    def delivery_ledger(self) -> DeliveryLedger:
        return self._inner.delivery_ledger()

    def bake_metrics(self, store: Store) -> MetricSink | None:
        return self._inner.bake_metrics(store)

    def open_metric_log(self) -> AbstractContextManager[MetricLog]:
        return self._inner.open_metric_log()

    def notifier(self) -> Notifier:
        return self._inner.notifier()

    def workflow_callbacks(self) -> WorkflowCallbacks:
        return self._inner.workflow_callbacks()
