"""`SQLiteOutbox`: a durable first-in first-out queue of JSON messages in a SQLite file, for
notifications that must reach someone even when the destination is down now.

A message stays until `done` removes it, so a crash or an outage only delays it. `anchors`
keep small facts a sender learns on the way (which Slack message a proposal was posted as).
One drainer at a time holds the queue's lease, so two processes never post the same message
side by side; a lease left by a crashed drainer runs out. One connection, used by one thread
at a time, serves an instance; other processes open their own.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alpha.errors import AlphaError

__all__ = ["OutboxError", "Queued", "SQLiteOutbox"]

JsonDict = dict[str, Any]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    payload TEXT NOT NULL,
    queued_at REAL NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT
);
CREATE TABLE IF NOT EXISTS anchors (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS drain_lease (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    holder TEXT NOT NULL,
    until REAL NOT NULL
);
"""


class OutboxError(AlphaError):
    """The outbox file cannot be opened or written."""


@dataclass(frozen=True, slots=True)
class Queued:
    """A message waiting in the outbox: its place (`seq`), and how often sending it failed."""

    seq: int
    payload: JsonDict
    attempts: int
    last_error: str | None


class SQLiteOutbox:
    def __init__(self, path: Path, *, busy_timeout: float = 30.0) -> None:
        self.path = path
        self._lock = threading.RLock()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(
                path, timeout=busy_timeout, isolation_level=None, check_same_thread=False
            )
            self._db.execute("PRAGMA journal_mode=WAL")
            # A commit survives the process (a crash, a restart); only a power cut may lose
            # the last ones. Each commit otherwise waits for the disk, every notification.
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise OutboxError(f"{path}: the notification outbox: {exc}") from exc

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # The queue ---------------------------------------------------------------------------
    def put(self, payload: JsonDict) -> int:
        text = json.dumps(payload, sort_keys=True, allow_nan=False)
        with self._connection() as db:
            cursor = db.execute(
                "INSERT INTO outbox (payload, queued_at) VALUES (?, ?)", (text, time.time())
            )
            return int(cursor.lastrowid or 0)

    def first(self) -> Queued | None:
        """The oldest message still waiting."""
        with self._connection() as db:
            row = db.execute(
                "SELECT seq, payload, attempts, last_error FROM outbox ORDER BY seq LIMIT 1"
            ).fetchone()
        return None if row is None else Queued(row[0], json.loads(row[1]), row[2], row[3])

    def waiting(self) -> list[Queued]:
        with self._connection() as db:
            rows = db.execute(
                "SELECT seq, payload, attempts, last_error FROM outbox ORDER BY seq"
            ).fetchall()
        return [Queued(r[0], json.loads(r[1]), r[2], r[3]) for r in rows]

    def count(self) -> int:
        with self._connection() as db:
            return int(db.execute("SELECT COUNT(*) FROM outbox").fetchone()[0])

    def done(self, seq: int) -> None:
        with self._connection() as db:
            db.execute("DELETE FROM outbox WHERE seq = ?", (seq,))

    def failed(self, seq: int, error: str) -> None:
        with self._connection() as db:
            db.execute(
                "UPDATE outbox SET attempts = attempts + 1, last_error = ? WHERE seq = ?",
                (error[:1000], seq),
            )

    # Anchors -----------------------------------------------------------------------------
    def anchor(self, key: str) -> JsonDict | None:
        with self._connection() as db:
            row = db.execute("SELECT value FROM anchors WHERE key = ?", (key,)).fetchone()
        return None if row is None else dict(json.loads(row[0]))

    def set_anchor(self, key: str, value: JsonDict) -> None:
        text = json.dumps(value, sort_keys=True, allow_nan=False)
        with self._connection() as db:
            db.execute(
                "INSERT INTO anchors (key, value) VALUES (?, ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (key, text),
            )

    # The drainer's lease -----------------------------------------------------------------
    def take_lease(self, holder: str, seconds: float) -> bool:
        """Whether `holder` now drains the queue (for `seconds`, or until it lets go)."""
        now = time.time()
        with self._connection() as db:
            db.execute("BEGIN IMMEDIATE")
            row = db.execute("SELECT holder, until FROM drain_lease WHERE id = 1").fetchone()
            if row is not None and row[0] != holder and row[1] > now:
                return False
            db.execute(
                "INSERT INTO drain_lease (id, holder, until) VALUES (1, ?, ?) "
                "ON CONFLICT (id) DO UPDATE SET holder = excluded.holder, until = excluded.until",
                (holder, now + seconds),
            )
            return True

    def release_lease(self, holder: str) -> None:
        with self._connection() as db:
            db.execute("DELETE FROM drain_lease WHERE holder = ?", (holder,))

    @contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            try:
                yield self._db
                if self._db.in_transaction:
                    self._db.execute("COMMIT")
            except sqlite3.Error as exc:
                raise OutboxError(f"{self.path}: the notification outbox: {exc}") from exc
            finally:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
