"""The `DeliveryLedger` port: the in-memory fake and the SQLite file, through the same cases."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from alpha.adapters.local.published_deliveries import SQLiteDeliveryLedger
from alpha.rollout.metric_ports import DeliveryLedger, PublishedDelivery
from tests.fakes.memory_metrics import MemoryDeliveryLedger

AT = datetime(2023, 7, 10, 12, tzinfo=UTC)


@pytest.fixture(params=["memory", "sqlite"])
def ledger(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[DeliveryLedger]:
    if request.param == "memory":
        yield MemoryDeliveryLedger()
    else:
        yield SQLiteDeliveryLedger(tmp_path / "folder" / "published.sqlite")


def test_an_empty_ledger_knows_nothing(ledger: DeliveryLedger) -> None:
    assert ledger.versions(["s3://b/a.json.gz"]) == {}
    assert ledger.keys() == []


def test_recorded_deliveries_are_known_by_key(ledger: DeliveryLedger) -> None:
    ledger.record([PublishedDelivery("b", "v1", AT), PublishedDelivery("a", "v1", AT)])
    ledger.record([PublishedDelivery("b", "v2", AT)])
    assert ledger.versions(["a", "b", "c"]) == {"a": "v1", "b": "v2"}
    assert ledger.keys() == ["a", "b"]


def test_many_keys_are_asked_at_once(ledger: DeliveryLedger) -> None:
    keys = [f"s3://bucket/AWSLogs/{n:05d}.json.gz" for n in range(1200)]
    ledger.record([PublishedDelivery(k, "etag", AT) for k in keys[::2]])
    assert ledger.versions(keys) == dict.fromkeys(keys[::2], "etag")


def test_the_sqlite_ledger_keeps_what_it_recorded(tmp_path: Path) -> None:
    path = tmp_path / "published.sqlite"
    SQLiteDeliveryLedger(path).record([PublishedDelivery("a", "v1", AT)])
    assert SQLiteDeliveryLedger(path).versions(["a"]) == {"a": "v1"}
