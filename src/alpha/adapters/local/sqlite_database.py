"""One connection to the SQLite store's file: opening it (creating a new store whole, bringing an
older one up to date with its rows adopted into the chain, checking the whole chain),
transactions, reads in one snapshot and checked against the chain, and SQLite's errors as
`StoreError`s that say what to do. `SQLiteStore` builds the port's methods on it."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from alpha.adapters.local.sqlite_chain import (
    Run,
    Scope,
    SQLiteChain,
    Table,
    place_of,
    text_factory,
)
from alpha.adapters.local.sqlite_rows import Reader, read_row
from alpha.adapters.local.sqlite_schema import (
    CHAIN_VERSION,
    CURRENT_VERSION,
    check_file,
    check_triggers,
    check_version,
    damaged,
    migrate,
    schema_version,
)
from alpha.store.chain import KEYED, START, ChainHead, Linker, tampered
from alpha.store.errors import StoreError

_T = TypeVar("_T")

_WAITED = (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)


class Database:
    """An open, checked store file. `key`: the chain's links are HMACs under it (a store sealed
    with a key opens only with it). `anchor`: a head kept from before must still be in the
    chain."""

    def __init__(
        self, path: Path, busy_timeout: float, key: bytes | None, anchor: ChainHead | None
    ) -> None:
        self.path = path
        self._busy_timeout = busy_timeout
        self._depth = 0
        self._head: ChainHead | None = None  # checked up to here; None while opening
        linker = Linker(key)
        self._chain = SQLiteChain(self.query, linker, str(path))
        if not check_file(path):
            create(path, busy_timeout, linker)
        self.connection = connect(path, busy_timeout)
        try:
            self._head = self._open(linker, anchor)
        except BaseException:
            self.connection.close()
            raise

    def close(self) -> None:
        self.connection.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """The outermost block takes the write lock, checks the chain's entries added since it
        was last checked (so nothing is written to a store changed meanwhile) and commits; an
        inner block is a savepoint, undone alone if it raises."""
        if self._depth:
            yield from self._savepoint()
            return
        self.execute("BEGIN IMMEDIATE")
        self._depth = 1
        try:
            if self._head is not None:
                self._head = self._chain.catch_up(self._head)
            yield
            self.execute("COMMIT")
        finally:
            self._depth = 0
            if self.connection.in_transaction:  # the block or the commit raised
                self.connection.execute("ROLLBACK")

    @contextmanager
    def reading(self) -> Iterator[None]:
        """One snapshot for several statements: a row and its chain entry are read together,
        never across another process's commit."""
        if self.connection.in_transaction:
            yield
            return
        self.execute("BEGIN")
        try:
            yield
        finally:
            if self.connection.in_transaction:
                self.connection.execute("COMMIT")

    def execute(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        with self._errors():
            return self.connection.execute(sql, params)

    def query(self, sql: str, params: Sequence[Any]) -> list[Any]:
        with self._errors():
            return self.connection.execute(sql, params).fetchall()

    # Rows checked against the chain ------------------------------------------------------
    def rows(self, table: Table, scope: Scope) -> list[Any]:
        """The rows in scope, each starting with its proposal and key, once they match the
        chain; `TamperedStoreError` naming the first that does not."""
        with self.reading():
            return self._chain.rows(table, scope)

    def records(self, table: Table, scope: Scope, reader: Reader[_T]) -> list[_T]:
        return [self.read(table, row, reader) for row in self.rows(table, scope)]

    def read(self, table: Table, row: Sequence[Any], reader: Reader[_T]) -> _T:
        return read_row(self.path, place_of(table, row), reader, row[2:])

    def record(self, table: Table, scope: Scope, *, once: bool = False) -> list[Any]:
        """Chain the one row in scope as written (inside a transaction); returns that row."""
        return self._chain.record(table, scope, once=once)

    def chain_head(self) -> ChainHead:
        with self.reading():
            self._head = self._chain.catch_up(self._head or START)
        return self._head

    def seal(self, key: bytes) -> ChainHead:
        linker = Linker(key)
        with self.transaction():
            head = self._chain.rekey(linker)
        self._chain = SQLiteChain(self.query, linker, str(self.path))
        self._head = head
        return head

    # Opening -----------------------------------------------------------------------------
    def _open(self, linker: Linker, anchor: ChainHead | None) -> ChainHead:
        checked = [row[0] for row in self.query("PRAGMA quick_check", ())]
        if checked != ["ok"]:
            raise damaged(self.path, "; ".join(str(line) for line in checked[:3]))
        with self._errors():
            # Refuse another program's database or a newer schema before changing anything.
            found = check_version(self.path, schema_version(self.connection, self.path))
        refuse_adopting_under_key(self.path, found, linker)
        if self.query("PRAGMA journal_mode", ())[0][0] != "wal":
            self.execute("PRAGMA journal_mode = WAL")
        if found < CURRENT_VERSION:
            with self.transaction(), self._errors():
                upgrade(self.connection, self.path, self._chain, linker)
        with self.reading(), self._errors():
            check_triggers(self.connection, self.path)
            head = self._chain.verify_all()
            if anchor is not None and not self._chain.holds(anchor):
                what = f"does not hold the anchored hash {anchor.hash[:12]} (rewritten or cut back)"
                raise tampered(str(self.path), f"table chain, entry {anchor.seq}", what)
        return head

    def _savepoint(self) -> Iterator[None]:
        name = f"alpha_{self._depth}"
        self.execute(f"SAVEPOINT {name}")
        self._depth += 1
        try:
            yield
        except BaseException:
            self.execute(f"ROLLBACK TO {name}")
            self.execute(f"RELEASE {name}")
            raise
        finally:
            self._depth -= 1
        self.execute(f"RELEASE {name}")

    def _errors(self) -> contextlib.AbstractContextManager[None]:
        return sqlite_errors(self.path, self._busy_timeout)


def connect(path: Path, busy_timeout: float) -> sqlite3.Connection:
    # isolation_level=None: the store issues BEGIN/COMMIT itself.
    connection = sqlite3.connect(path, timeout=busy_timeout, isolation_level=None)
    connection.text_factory = text_factory
    connection.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
    connection.execute("PRAGMA foreign_keys = ON")
    return connection


def create(path: Path, busy_timeout: float, linker: Linker) -> None:
    """Build an empty store beside `path` and hard-link it into place: another process
    creating the same store at the same time wins or loses whole."""
    path.parent.mkdir(parents=True, exist_ok=True)
    building = path.with_name(f".{path.name}.{uuid.uuid4().hex}.new")
    try:
        connection = connect(building, busy_timeout)
        try:
            connection.execute("PRAGMA journal_mode = WAL")
            connection.execute("BEGIN IMMEDIATE")
            migrate(connection, path)
            SQLiteChain(_runner(connection), linker, str(path)).start()
            connection.execute("COMMIT")
        finally:
            connection.close()
        try:
            os.link(building, path)
        except FileExistsError:
            check_file(path)
    except sqlite3.Error as exc:
        raise StoreError(f"{path}: cannot create the store ({exc})") from exc
    finally:
        building.unlink(missing_ok=True)


def upgrade(connection: sqlite3.Connection, path: Path, chain: SQLiteChain, linker: Linker) -> None:
    """Bring the store to the current schema inside the caller's write transaction (so two
    processes do it once); a store from before the chain has its rows adopted as they are."""
    found = check_version(path, schema_version(connection, path))
    refuse_adopting_under_key(path, found, linker)
    migrate(connection, path)
    if found >= CHAIN_VERSION:
        return
    if found == 0:
        chain.start()
    else:
        chain.adopt(found)


def refuse_adopting_under_key(path: Path, found: int, linker: Linker) -> None:
    """Adopting an older store's rows vouches for them: under a key only sealing may (a
    deliberate act), or an edit made with the chain removed would be adopted unnoticed."""
    if 0 < found < CHAIN_VERSION and linker.mode == KEYED:
        raise StoreError(
            f"{path}: the store was made by an older alpha (schema version {found}) and has no "
            "keyed chain; it was left untouched: open it once without the store key to "
            "upgrade it, then seal it with the key"
        )


@contextmanager
def sqlite_errors(path: Path, busy_timeout: float) -> Iterator[None]:
    """SQLite's errors as `StoreError`s. Only SQLite's own busy and locked codes mean another
    process holds the store: a message's words cannot tell (a damaged row's text is in it)."""
    try:
        yield
    except sqlite3.IntegrityError as exc:
        raise StoreError(f"{path}: refused by the store: {_detail(exc)}") from exc
    except sqlite3.OperationalError as exc:
        if (getattr(exc, "sqlite_errorcode", None) or 0) & 0xFF in _WAITED:
            raise StoreError(
                f"{path}: the store stayed locked by another alpha process for "
                f"{busy_timeout:g} s; try again when it has finished"
            ) from exc
        raise StoreError(f"{path}: {_detail(exc)}") from exc
    except sqlite3.DatabaseError as exc:
        raise damaged(path, _detail(exc)) from exc


def _detail(exc: Exception) -> str:
    text = " ".join(str(exc).split())
    return text if len(text) <= 200 else f"{text[:200]}..."


def _runner(connection: sqlite3.Connection) -> Run:
    def run(sql: str, params: Sequence[Any]) -> list[Any]:
        return connection.execute(sql, params).fetchall()

    return run
