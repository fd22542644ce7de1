"""Helpers for the SQLite store's tests: stores as an older alpha left them, and several
processes at once."""

from __future__ import annotations

import multiprocessing
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

from alpha.adapters.local import sqlite_schema
from alpha.adapters.local.sqlite_store import SQLiteStore

_V1_TABLES = ("proposals", "proposal_states", "approvals", "audit")
_TABLES_AT = {1: _V1_TABLES, 2: (*_V1_TABLES, "stages", "journal", "account_copies")}


def older_store(path: Path, version: int, fill_in: Callable[[SQLiteStore], object]) -> None:
    """A store at schema `version`, as an older alpha left it, holding what `fill_in` writes
    (rows in exactly the stored format: written by this alpha, copied across)."""
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("BEGIN IMMEDIATE")
    assert sqlite_schema.migrate(connection, path, target=version) == 0
    connection.execute("COMMIT")
    writer_path = path.with_name("writer.db")
    with SQLiteStore(writer_path) as writer:
        fill_in(writer)
    connection.execute("ATTACH ? AS written", (str(writer_path),))
    for table in _TABLES_AT[version]:
        connection.execute(f"INSERT INTO {table} SELECT * FROM written.{table}")
    connection.execute("DETACH written")
    assert "chain" not in tables(connection)
    connection.close()


def tables(connection: sqlite3.Connection) -> set[str]:
    rows = connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
    return {row[0] for row in rows}


def in_processes(target: Callable[..., None], path: Path, workers: int, each: int) -> list[Any]:
    """`target(path, worker, barrier, results)` in `workers` forked processes at once; the
    `each` results each of them puts in `results`, once all have exited cleanly."""
    context = multiprocessing.get_context("fork")
    barrier, results = context.Barrier(workers), context.Queue()
    processes = [
        context.Process(target=target, args=(path, worker, barrier, results))
        for worker in range(workers)
    ]
    for process in processes:
        process.start()
    found = [results.get(timeout=60) for _ in range(workers * each)]
    for process in processes:
        process.join(timeout=60)
        assert process.exitcode == 0
    return found
