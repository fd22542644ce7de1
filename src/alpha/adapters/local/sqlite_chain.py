"""The SQLite store's hash chain (`alpha.store.chain`): which rows each kind of entry covers,
reading rows only after checking them against the chain, recording each write, and checking the
whole store when it is opened.

A row's digest is over its columns exactly as stored (an approval's also over its proposal's
digest, so a decision is bound to everything the proposal holds), so it is read back after
every write and hashed, never recomputed from what the caller meant to store.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from alpha.adapters.local.sqlite_rows import (
    AUDIT_COLUMNS,
    JOURNAL_COLUMNS,
    PROPOSAL_COLUMNS,
    STAGE_COLUMNS,
    STAGE_ORDER,
)
from alpha.adapters.local.sqlite_schema import CHAIN_NO_UPDATE
from alpha.store.chain import (
    START,
    ChainEntry,
    ChainHead,
    Kind,
    Linker,
    Recorded,
    RowDigest,
    digest,
    match_rows,
    place,
    tampered,
    verify_links,
)

Run = Callable[[str, Sequence[Any]], list[Any]]
"""Runs one statement and returns its rows (the store's, which maps SQLite's errors)."""

PAGE = 5_000
"""Rows read at a time when the whole store is checked, so memory stays flat."""

_BOUND = (
    "(SELECT digest FROM chain"
    " WHERE kind = 'proposal' AND chain.proposal_id = approvals.proposal_id)"
)


@dataclass(frozen=True, slots=True)
class Table:
    """Rows of one table as the chain covers them. Each selected row starts with its proposal
    and its key (the place it has among that proposal's rows), then `columns`, all hashed."""

    name: str
    kind: Kind
    columns: str
    proposal_column: str | None
    key_column: str | None
    order: str
    place: str  # formatted with `proposal` (12 characters) and `key`

    def select(self, where: str, *, also: str = "") -> str:
        proposal = self.proposal_column or "NULL"
        key = self.key_column or "''"
        extra = f", {also}" if also else ""
        return f"SELECT {proposal}, {key}, {self.columns}{extra} FROM {self.name} WHERE {where}"


PROPOSALS = Table(
    "proposals", Kind.PROPOSAL, PROPOSAL_COLUMNS, "id", None, "created_at, id",
    "table proposals, row id {proposal}",
)  # fmt: skip
STATES = Table(
    "proposal_states", Kind.STATE, "proposal_id, state", "proposal_id", None, "proposal_id",
    "table proposal_states, row proposal_id {proposal}",
)  # fmt: skip
APPROVALS = Table(
    "approvals", Kind.APPROVAL,
    f"seq, proposal_id, timestamp, approved, approver, comments, proposal_hash, {_BOUND}",
    "proposal_id", "seq", "timestamp, seq",
    "table approvals, row seq {key} (proposal {proposal})",
)  # fmt: skip
STAGES = Table(
    "stages", Kind.STAGE, STAGE_COLUMNS, "proposal_id", "stage", STAGE_ORDER,
    "table stages, row proposal_id {proposal}, stage {key}",
)  # fmt: skip
JOURNAL = Table(
    "journal", Kind.JOURNAL, JOURNAL_COLUMNS, "proposal_id", "seq", "seq",
    "table journal, row proposal_id {proposal}, seq {key}",
)  # fmt: skip
AUDIT = Table(
    "audit", Kind.AUDIT, AUDIT_COLUMNS, "proposal_id", "seq", "seq",
    "table audit, row seq {key}",
)  # fmt: skip
COPIES = Table(
    "account_copies", Kind.COPY, "name, version, document", None, "name", "name",
    "table account_copies, row name {key}",
)  # fmt: skip
TABLES = (PROPOSALS, STATES, APPROVALS, STAGES, JOURNAL, AUDIT, COPIES)
"""In the order a migration adopts them: a proposal's rows after the proposal."""


@dataclass(frozen=True, slots=True)
class Scope:
    """Which rows: all, one proposal's (`proposal_id`), or one (`key` too; alone for rows of no
    proposal). A key is given as its column holds it (an int for `seq`)."""

    proposal_id: str | None = None
    key: str | int | None = None


class SQLiteChain:
    """The chain of one store, through the store's statement runner."""

    def __init__(self, run: Run, linker: Linker, where: str) -> None:
        self._run = run
        self._linker = linker
        self._where = where

    # Reading -----------------------------------------------------------------------------
    def rows(self, table: Table, scope: Scope = Scope()) -> list[Any]:
        """The rows in scope, in the table's order, once they all match the chain (and none
        the chain records is missing); `TamperedStoreError` naming the first that does not.
        Each row starts with its proposal and key; the caller runs this in one snapshot."""
        where, params = _row_filter(table, scope)
        rows = self._run(f"{table.select(where)} ORDER BY {table.order}", params)
        digests = (_digest(row) for row in rows)
        match_rows(self._where, digests, self._recorded(table.kind, scope), table.place)
        return rows

    def verify_all(self) -> ChainHead:
        """Every link, then every row of every table against the latest entry for it (noted
        on the way through the links): the head."""
        latest: dict[str, dict[tuple[str | None, str], Recorded]] = {t.kind: {} for t in TABLES}
        entries = _noting(self._entries_after(0), latest)
        head = verify_links(entries, self._linker, self._where)
        for table in TABLES:
            match_rows(self._where, self._all_rows(table), latest[table.kind], table.place)
        return head

    def catch_up(self, head: ChainHead) -> ChainHead:
        """The links after `head` checked (those up to it were checked before, and `head`
        itself must still be there): the new head."""
        if head.seq:
            found = self._run("SELECT hash FROM chain WHERE seq = ?", (head.seq,))
            if not found or found[0][0] != head.hash:
                place = f"table chain, entry {head.seq}"
                raise tampered(self._where, place, "changed or removed since it was checked")
        return verify_links(self._entries_after(head.seq), self._linker, self._where, head)

    def last(self) -> ChainHead:
        rows = self._run("SELECT seq, hash FROM chain ORDER BY seq DESC LIMIT 1", ())
        return ChainHead(rows[0][0], rows[0][1]) if rows else START

    def holds(self, anchor: ChainHead) -> bool:
        rows = self._run("SELECT hash FROM chain WHERE seq = ?", (anchor.seq,))
        return bool(rows) and rows[0][0] == anchor.hash

    # Writing (inside the store's write transaction) --------------------------------------
    def record(self, table: Table, scope: Scope, *, once: bool = False) -> list[Any]:
        """Append the entry for the one row in scope, as stored; returns that row. `once`:
        rows that are never rewritten; their key must not be in the chain yet."""
        where, params = _row_filter(table, scope)
        row = self._run(table.select(where), params)[0]
        found = _digest(row)
        if once:
            again = self._recorded(table.kind, Scope(found.proposal_id, found.key))
            if again:
                seq = next(iter(again.values())).seq
                what = f"its number is already taken by chain entry {seq} (reused)"
                raise tampered(self._where, place_of(table, row), what)
        self._append(table.kind, found.proposal_id, found.key, found.digest)
        return row  # type: ignore[no-any-return]

    def start(self) -> ChainHead:
        """Entry 1, on a new store."""
        entry = self._linker.first()
        self._insert(entry)
        return entry.head

    def adopt(self, version: int) -> ChainHead:
        """Start the chain of a store an older alpha wrote (schema `version`), taking in every
        row as it stands: the chain can show later edits, not earlier ones."""
        self.start()
        self._append(Kind.ADOPTED, None, f"schema {version}", digest([version]))
        for table in TABLES:
            for row in self._run(f"{table.select('1')} ORDER BY {table.order}", ()):
                found = _digest(row)
                self._append(table.kind, found.proposal_id, found.key, found.digest)
        return self.last()

    def rekey(self, linker: Linker) -> ChainHead:
        """Every link made again under `linker` (the caller has checked the chain as it was,
        and reads it with `linker` from now on)."""
        self._run("DROP TRIGGER chain_no_update", ())
        head = START
        for entry in list(self._entries_after(0)):
            made = self._relinked(linker, head, entry)
            self._run(
                "UPDATE chain SET key = ?, digest = ?, hash = ? WHERE seq = ?",
                (made.key, made.digest, made.hash, made.seq),
            )
            head = made.head
        self._run(CHAIN_NO_UPDATE, ())
        return head

    # Helpers -----------------------------------------------------------------------------
    def _append(self, kind: str, proposal_id: str | None, key: str, dig: str) -> None:
        written = ChainEntry(0, kind, proposal_id, key, dig, "")
        self._insert(self._linker.entry(self.last(), written))

    def _insert(self, entry: ChainEntry) -> None:
        self._run(
            "INSERT INTO chain (seq, kind, proposal_id, key, digest, hash)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (entry.seq, entry.kind, entry.proposal_id, entry.key, entry.digest, entry.hash),
        )

    def _recorded(self, kind: Kind, scope: Scope) -> dict[tuple[str | None, str], Recorded]:
        where, params = "kind = ?", [kind.value]
        if scope.proposal_id is not None:
            where, params = f"{where} AND proposal_id = ?", [*params, scope.proposal_id]
        if scope.key is not None:
            where, params = f"{where} AND key = ?", [*params, str(scope.key)]
        rows = self._run(
            "SELECT proposal_id, key, digest, max(seq) FROM chain"  # bare columns: the max's row
            f" WHERE {where} GROUP BY proposal_id, key",
            params,
        )
        return {(row[0], row[1]): Recorded(row[3], row[2]) for row in rows}

    def _entries_after(self, seq: int) -> Iterator[ChainEntry]:
        while True:
            rows = self._run(
                "SELECT seq, kind, proposal_id, key, digest, hash FROM chain"
                " WHERE seq > ? ORDER BY seq LIMIT ?",
                (seq, PAGE),
            )
            yield from (ChainEntry(*row) for row in rows)
            if len(rows) < PAGE:
                return
            seq = rows[-1][0]

    def _all_rows(self, table: Table) -> Iterator[RowDigest]:
        after = -(2**63)
        while True:
            sql = f"{table.select('rowid > ?', also='rowid')} ORDER BY rowid LIMIT ?"
            rows = self._run(sql, (after, PAGE))
            yield from (_digest(row[:-1]) for row in rows)
            if len(rows) < PAGE:
                return
            after = rows[-1][-1]

    def _relinked(self, linker: Linker, head: ChainHead, entry: ChainEntry) -> ChainEntry:
        return linker.first() if entry.seq == 1 else linker.entry(head, entry)


def _noting(
    entries: Iterator[ChainEntry], latest: dict[str, dict[tuple[str | None, str], Recorded]]
) -> Iterator[ChainEntry]:
    """The entries, each noted as the latest for its row as it passes (they come in order)."""
    for entry in entries:
        rows = latest.get(entry.kind)
        if rows is not None:
            rows[(entry.proposal_id, entry.key)] = Recorded(entry.seq, entry.digest)
        yield entry


def _row_filter(table: Table, scope: Scope) -> tuple[str, list[Any]]:
    clauses: list[str] = ["1"]
    params: list[Any] = []
    if scope.proposal_id is not None:
        clauses.append(f"{table.proposal_column} = ?")
        params.append(scope.proposal_id)
    if scope.key is not None:
        clauses.append(f"{table.key_column} = ?")
        params.append(scope.key)
    return " AND ".join(clauses), params


def place_of(table: Table, row: Sequence[Any]) -> str:
    """How errors name a selected row."""
    return place(table.place, row[0], row[1])


def _digest(row: Sequence[Any]) -> RowDigest:
    return RowDigest(row[0], str(row[1]), digest(row[2:]))


def text_factory(data: bytes) -> str:
    """How the store reads text: bytes that are not UTF-8 come back with surrogate escapes,
    so a damaged row is reported as damaged (its check fails, naming it) rather than raised by
    the driver mid-query."""
    return data.decode("utf-8", "surrogateescape")
