"""`DeliveryLedger` in a small SQLite file beside the usage store: which CloudTrail deliveries
`alpha monitor publish` has published (key, version, when), so a delivery is published once.

Its own file, not a table of the usage store: DuckDB allows one writer process, and a rollout
watching the logs may hold the usage store while a scheduled publish runs.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from alpha.rollout.metric_ports import PublishedDelivery
from alpha.usage.errors import UsageError

__all__ = ["SQLiteDeliveryLedger"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS published (
    key TEXT PRIMARY KEY,
    version TEXT NOT NULL,
    published_at TEXT NOT NULL
)
"""
_CHUNK = 500  # keys per query: under SQLite's limit on bound parameters


class SQLiteDeliveryLedger:
    def __init__(self, path: Path) -> None:
        self._path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with self._connect() as db:
                db.execute(_SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise UsageError(
                f"{path}: cannot open the ledger of published deliveries: {exc}"
            ) from exc

    def versions(self, keys: Collection[str]) -> dict[str, str]:
        wanted = list(keys)
        found: dict[str, str] = {}
        with self._connect() as db:
            for start in range(0, len(wanted), _CHUNK):
                chunk = wanted[start : start + _CHUNK]
                marks = ",".join("?" * len(chunk))
                rows = db.execute(
                    f"SELECT key, version FROM published WHERE key IN ({marks})",
                    chunk,
                )
                found.update(dict(rows.fetchall()))
        return found

    def record(self, deliveries: Sequence[PublishedDelivery]) -> None:
        rows = [(d.key, d.version, d.published_at.isoformat()) for d in deliveries]
        with self._connect() as db:
            db.executemany("INSERT OR REPLACE INTO published VALUES (?, ?, ?)", rows)

    def keys(self) -> list[str]:
        with self._connect() as db:
            return [key for (key,) in db.execute("SELECT key FROM published ORDER BY key")]

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        """One transaction (committed, or rolled back on an error), then closed."""
        db = sqlite3.connect(self._path, timeout=30)
        try:
            with db:
                yield db
        finally:
            db.close()
