"""`MemoryBackends`: the application's `Backends` over the shared in-memory fakes, so a use
case can be run (and an interface tested) with no file, database or network.

Accounts and usage sources are registered under the names a user would type; the store, the
usage store, IAM and the monitor are one instance each, kept across calls as the real adapters
keep their files.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from alpha.account import AccountSnapshot
from alpha.adapters.local.authorization_details import parse_authorization_details
from alpha.catalog import Catalog, load_catalog
from alpha.guardrails import GuardrailConfig, load_config
from alpha.org import OrgError
from alpha.reasoning import Reasoner
from alpha.rollout.iam_ports import IamChanger, Monitor
from alpha.store.ports import Store
from alpha.usage.errors import UsageError
from alpha.usage.ports import UsageSource, UsageStore
from tests.fakes.memory_iam import MemoryIam
from tests.fakes.memory_metrics import MemoryDeliveryLedger, MemoryMetricLog, MemoryMetricSink
from tests.fakes.memory_org import MemoryOrganization
from tests.fakes.memory_store import MemoryStore
from tests.fakes.memory_usage_source import MemoryUsageSource
from tests.fakes.memory_usage_store import MemoryUsageStore
from tests.fakes.recorded_callbacks import RecordedCallbacks
from tests.fakes.recording_notifier import RecordingNotifier
from tests.fakes.scripted_monitor import ScriptedMonitor


class SetClock:
    """A clock that stays where a test puts it."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


class MemoryBackends:
    def __init__(self, at: datetime, *, reasoner: Reasoner | None = None) -> None:
        self.set_clock = SetClock(at)
        self.store = MemoryStore()
        self.usage = MemoryUsageStore()
        self.monitor = ScriptedMonitor()
        self.sources: dict[str, MemoryUsageSource] = {}
        self.accounts: dict[str, dict[str, Any]] = {}
        self.organizations: dict[str, MemoryOrganization] = {}
        self.iam: MemoryIam | None = None
        self._reasoner = reasoner
        self.opened_monitors: list[bool] = []
        self.guardrail_config = load_config(None, {})
        self.metrics = MemoryMetricSink()
        self.ledger = MemoryDeliveryLedger()
        self.metric_log = MemoryMetricLog()
        self.publish_bakes = False
        self.notified = RecordingNotifier()
        self.callbacks = RecordedCallbacks()

    def add_account(self, name: str, document: dict[str, Any]) -> None:
        self.accounts[name] = document
        self.iam = MemoryIam.from_account(document)

    def add_source(self, name: str) -> MemoryUsageSource:
        return self.sources.setdefault(name, MemoryUsageSource(name))

    # Backends ------------------------------------------------------------------------------
    def clock(self) -> SetClock:
        return self.set_clock

    @contextmanager
    def open_store(self) -> Iterator[Store]:
        yield self.store

    @contextmanager
    def open_usage_store(self) -> Iterator[UsageStore]:
        yield self.usage

    def usage_source(self, text: str) -> UsageSource:
        if text not in self.sources:
            raise UsageError(f"{text}: no such file or folder")
        return self.sources[text]

    def read_account(self, text: str) -> AccountSnapshot:
        return parse_authorization_details(self.account_document(text), text)

    def account_document(self, text: str) -> dict[str, Any]:
        if text not in self.accounts:
            raise UsageError(f"{text}: no such account file")
        return self.accounts[text]

    def organization(self, text: str) -> MemoryOrganization:
        if text not in self.organizations:
            raise OrgError(f"{text}: no such organization folder")
        return self.organizations[text]

    def iam_changer(self, store: Store) -> IamChanger:
        assert self.iam is not None, "add_account first"
        return self.iam

    @contextmanager
    def open_monitor(self, *, watch: bool) -> Iterator[Monitor]:
        self.opened_monitors.append(watch)
        yield self.monitor

    def reasoner(self) -> Reasoner | None:
        return self._reasoner

    def policy_engine(self) -> None:
        """ALPHA writes the policies (the Access Analyzer engine is tested over HTTP)."""
        return None

    def guardrails(self) -> GuardrailConfig:
        """The configuration in force now (a test may make it stricter between calls)."""
        return self.guardrail_config

    def catalog(self) -> Catalog:
        return load_catalog()

    def metric_sink(self) -> MemoryMetricSink:
        return self.metrics

    def delivery_ledger(self) -> MemoryDeliveryLedger:
        return self.ledger

    def bake_metrics(self, store: Store) -> MemoryMetricSink | None:
        """The sink when a test says the rollout goes to a live account (`publish_bakes`)."""
        return self.metrics if self.publish_bakes else None

    @contextmanager
    def open_metric_log(self) -> Iterator[MemoryMetricLog]:
        yield self.metric_log

    def notifier(self) -> RecordingNotifier:
        return self.notified

    def workflow_callbacks(self) -> RecordedCallbacks:
        return self.callbacks
