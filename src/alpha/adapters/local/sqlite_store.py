"""The `Store` port on one SQLite file (`.alpha/alpha.db` by default): the embedded default.

Safe with several alpha processes at once: WAL mode, a busy timeout, and every write inside
`BEGIN IMMEDIATE`, so a read-check-write (the state compare-and-set, the journal's next number)
holds the write lock from its read on. A file that is not an intact ALPHA store is refused with a
`StoreError` and left as it was; a new store is built beside the target and linked into place, so
a crash while creating never leaves a half-made store behind.
"""

from __future__ import annotations

import os
import sqlite3
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from alpha.adapters.local.sqlite_rows import (
    AUDIT_COLUMNS,
    JOURNAL_COLUMNS,
    PROPOSAL_COLUMNS,
    STAGE_COLUMNS,
    STAGE_ORDER,
    audit_event_of,
    journal_entry_of,
    json_object,
    json_text,
    proposal_of,
    stage_of,
    time_of,
    time_text,
)
from alpha.adapters.local.sqlite_schema import (
    CURRENT_VERSION,
    check_file,
    check_version,
    damaged,
    migrate,
    schema_version,
)
from alpha.store.errors import ProposalNotFoundError, StoreError
from alpha.store.model import (
    Approval,
    AuditEvent,
    JournalEntry,
    JournalPhase,
    JsonDict,
    ProposalState,
    Stage,
    StageRecord,
    StoredProposal,
    normalise_prefix,
    single_match,
)

__all__ = ["SQLiteStore"]


DEFAULT_PATH = Path(".alpha") / "alpha.db"
"""Where the CLI keeps the store, relative to the current folder, unless configured."""


class SQLiteStore:
    """The `Store` port on an SQLite file. Open one per process; close it when done."""

    def __init__(self, path: Path, *, busy_timeout: float = 30.0) -> None:
        self.path = Path(path)
        self._busy_timeout = busy_timeout
        self._depth = 0
        if not check_file(self.path):
            self._create()
        self._connection = self._connect(self.path)
        try:
            self._open()
        except BaseException:
            self._connection.close()
            raise

    def __enter__(self) -> SQLiteStore:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        self._connection.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """The outermost block takes the write lock and commits; an inner block is a
        savepoint, undone alone if it raises."""
        if self._depth:
            yield from self._savepoint()
            return
        self._execute("BEGIN IMMEDIATE")
        self._depth = 1
        try:
            yield
            self._execute("COMMIT")
        finally:
            self._depth = 0
            if self._connection.in_transaction:  # the block or the commit raised
                self._connection.execute("ROLLBACK")

    # Proposals ---------------------------------------------------------------------------
    def save_proposal(self, proposal: StoredProposal) -> bool:
        with self.transaction():
            if self._exists(proposal.id):
                return False
            self._execute(
                f"INSERT INTO proposals ({PROPOSAL_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)",
                (
                    proposal.id,
                    proposal.principal,
                    time_text(proposal.created_at),
                    proposal.created_by,
                    json_text(proposal.document),
                    json_text(proposal.plan),
                ),
            )
            self._execute(
                "INSERT INTO proposal_states (proposal_id, state) VALUES (?, ?)",
                (proposal.id, ProposalState.PROPOSED.value),
            )
            return True

    def proposal(self, proposal_id: str) -> StoredProposal | None:
        rows = self._query(f"SELECT {PROPOSAL_COLUMNS} FROM proposals WHERE id = ?", (proposal_id,))
        return self._proposal(rows[0]) if rows else None

    def find_proposal(self, prefix: str) -> StoredProposal:
        wanted = normalise_prefix(prefix)
        rows = self._query(
            "SELECT id FROM proposals WHERE substr(id, 1, ?) = ? LIMIT 6", (len(wanted), wanted)
        )
        full_id = single_match(prefix, [row[0] for row in rows])
        found = self.proposal(full_id)
        if found is None:  # cannot happen: proposals are never deleted
            raise _not_found(full_id)
        return found

    def proposals(self, state: ProposalState | None = None) -> list[StoredProposal]:
        sql = f"SELECT {PROPOSAL_COLUMNS} FROM proposals"
        params: tuple[Any, ...] = ()
        if state is not None:
            sql += " JOIN proposal_states ON proposal_id = id WHERE state = ?"
            params = (state.value,)
        rows = self._query(sql + " ORDER BY created_at, id", params)
        return [self._proposal(row) for row in rows]

    # States ------------------------------------------------------------------------------
    def proposal_state(self, proposal_id: str) -> ProposalState:
        rows = self._query(
            "SELECT state FROM proposal_states WHERE proposal_id = ?", (proposal_id,)
        )
        if not rows:
            raise _not_found(proposal_id)
        return ProposalState(rows[0][0])

    def set_state(self, proposal_id: str, new: ProposalState, expected_old: ProposalState) -> bool:
        with self.transaction():
            moved = self._execute(
                "UPDATE proposal_states SET state = ? WHERE proposal_id = ? AND state = ?",
                (new.value, proposal_id, expected_old.value),
            ).rowcount
            if not moved and not self._exists(proposal_id):
                raise _not_found(proposal_id)
            return bool(moved)

    # Approvals ---------------------------------------------------------------------------
    def record_approval(self, approval: Approval) -> None:
        with self.transaction():
            self._require(approval.proposal_id)
            self._execute(
                "INSERT INTO approvals (proposal_id, timestamp, approved, approver, comments,"
                " proposal_hash) VALUES (?, ?, ?, ?, ?, ?)",
                (
                    approval.proposal_id,
                    time_text(approval.timestamp),
                    int(approval.approved),
                    approval.approver,
                    approval.comments,
                    approval.proposal_hash,
                ),
            )

    def approvals(self, proposal_id: str) -> list[Approval]:
        rows = self._query(
            "SELECT proposal_id, timestamp, approved, approver, comments, proposal_hash"
            " FROM approvals WHERE proposal_id = ? ORDER BY timestamp, seq",
            (proposal_id,),
        )
        return [
            Approval(row[0], time_of(self.path, row[1]), bool(row[2]), row[3], row[4], row[5])
            for row in rows
        ]

    def latest_approval(self, proposal_id: str) -> Approval | None:
        found = self.approvals(proposal_id)
        return found[-1] if found else None

    # Rollout stages ----------------------------------------------------------------------
    def save_stage(self, record: StageRecord) -> None:
        with self.transaction():
            self._require(record.proposal_id)
            stored = self.stage(record.proposal_id, record.stage)
            previous = record.previous_state
            if stored is not None and stored.previous_state is not None:
                if previous is not None and previous != stored.previous_state:
                    raise StoreError(
                        f"{self.path}: the previous IAM state of proposal "
                        f"{record.proposal_id[:12]} at stage {record.stage} is already "
                        "recorded and cannot change"
                    )
                previous = stored.previous_state
            self._execute(
                "INSERT INTO stages (proposal_id, stage, state, previous_state, metrics,"
                " started_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (proposal_id, stage) DO UPDATE SET state = excluded.state,"
                " previous_state = excluded.previous_state, metrics = excluded.metrics,"
                " started_at = excluded.started_at, updated_at = excluded.updated_at",
                (
                    record.proposal_id,
                    record.stage.value,
                    record.state.value,
                    None if previous is None else json_text(previous),
                    json_text(record.metrics),
                    time_text(record.started_at),
                    time_text(record.updated_at),
                ),
            )

    def stage(self, proposal_id: str, stage: Stage) -> StageRecord | None:
        found = self._stages("proposal_id = ? AND stage = ?", (proposal_id, stage.value))
        return found[0] if found else None

    def stages(self, proposal_id: str) -> list[StageRecord]:
        return self._stages("proposal_id = ?", (proposal_id,))

    # Journal -----------------------------------------------------------------------------
    def append_journal(
        self, proposal_id: str, step: str, phase: JournalPhase, payload: JsonDict, at: datetime
    ) -> JournalEntry:
        with self.transaction():
            self._require(proposal_id)
            last = self._query(
                "SELECT coalesce(max(seq), 0) FROM journal WHERE proposal_id = ?", (proposal_id,)
            )[0][0]
            entry = JournalEntry(proposal_id, last + 1, step, JournalPhase(phase), payload, at)
            self._execute(
                "INSERT INTO journal (proposal_id, seq, step, phase, payload, at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (
                    proposal_id,
                    entry.seq,
                    step,
                    entry.phase.value,
                    json_text(payload),
                    time_text(at),
                ),
            )
        return self._journal("proposal_id = ? AND seq = ?", (proposal_id, entry.seq))[0]

    def journal(self, proposal_id: str) -> list[JournalEntry]:
        return self._journal("proposal_id = ?", (proposal_id,))

    # Audit -------------------------------------------------------------------------------
    def append_audit(
        self,
        *,
        at: datetime,
        proposal_id: str | None,
        actor: str,
        action: str,
        reason: str,
        details: JsonDict | None = None,
    ) -> AuditEvent:
        with self.transaction():
            if proposal_id is not None:
                self._require(proposal_id)
            seq = self._execute(
                "INSERT INTO audit (at, proposal_id, actor, action, reason, details)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (time_text(at), proposal_id, actor, action, reason, json_text(details or {})),
            ).lastrowid
        return self._audit("seq = ?", (seq,))[0]

    def audit(self, proposal_id: str | None = None) -> list[AuditEvent]:
        if proposal_id is None:
            return self._audit("1", ())
        return self._audit("proposal_id = ?", (proposal_id,))

    # Working copies of accounts ----------------------------------------------------------
    def save_account_copy(self, name: str, document: JsonDict) -> int:
        with self.transaction():
            version = self.account_copy_version(name) + 1
            self._execute(
                "INSERT INTO account_copies (name, version, document) VALUES (?, ?, ?)"
                " ON CONFLICT (name) DO UPDATE SET version = excluded.version,"
                " document = excluded.document",
                (name, version, json_text(document)),
            )
            return version

    def account_copy(self, name: str) -> JsonDict | None:
        rows = self._query("SELECT document FROM account_copies WHERE name = ?", (name,))
        return json_object(self.path, rows[0][0]) if rows else None

    def account_copy_version(self, name: str) -> int:
        rows = self._query("SELECT version FROM account_copies WHERE name = ?", (name,))
        return int(rows[0][0]) if rows else 0

    # Opening -----------------------------------------------------------------------------
    def _connect(self, path: Path) -> sqlite3.Connection:
        # isolation_level=None: this class issues BEGIN/COMMIT itself.
        connection = sqlite3.connect(path, timeout=self._busy_timeout, isolation_level=None)
        connection.execute(f"PRAGMA busy_timeout = {int(self._busy_timeout * 1000)}")
        connection.execute("PRAGMA foreign_keys = ON")
        return connection

    def _open(self) -> None:
        checked = [row[0] for row in self._query("PRAGMA quick_check", ())]
        if checked != ["ok"]:
            raise damaged(self.path, "; ".join(str(line) for line in checked[:3]))
        with self._errors():
            # Refuse another program's database or a newer schema before changing anything.
            found = check_version(self.path, schema_version(self._connection, self.path))
        if self._query("PRAGMA journal_mode", ())[0][0] != "wal":
            self._execute("PRAGMA journal_mode = WAL")
        if found == CURRENT_VERSION:
            return  # opening an up-to-date store takes no lock
        with self.transaction(), self._errors():
            migrate(self._connection, self.path)

    def _create(self) -> None:
        """Build an empty store beside `path` and hard-link it into place: another process
        creating the same store at the same time wins or loses whole."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        building = self.path.with_name(f".{self.path.name}.{uuid.uuid4().hex}.new")
        try:
            connection = self._connect(building)
            try:
                connection.execute("PRAGMA journal_mode = WAL")
                connection.execute("BEGIN IMMEDIATE")
                migrate(connection, self.path)
                connection.execute("COMMIT")
            finally:
                connection.close()
            try:
                os.link(building, self.path)
            except FileExistsError:
                check_file(self.path)
        except sqlite3.Error as exc:
            raise StoreError(f"{self.path}: cannot create the store ({exc})") from exc
        finally:
            building.unlink(missing_ok=True)

    # Queries -----------------------------------------------------------------------------
    def _savepoint(self) -> Iterator[None]:
        name = f"alpha_{self._depth}"
        self._execute(f"SAVEPOINT {name}")
        self._depth += 1
        try:
            yield
        except BaseException:
            self._execute(f"ROLLBACK TO {name}")
            self._execute(f"RELEASE {name}")
            raise
        finally:
            self._depth -= 1
        self._execute(f"RELEASE {name}")

    @contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except sqlite3.IntegrityError as exc:
            raise StoreError(f"{self.path}: refused by the store: {exc}") from exc
        except sqlite3.OperationalError as exc:
            if "locked" in str(exc) or "busy" in str(exc):
                raise StoreError(
                    f"{self.path}: the store stayed locked by another alpha process for "
                    f"{self._busy_timeout:g} s; try again when it has finished"
                ) from exc
            raise StoreError(f"{self.path}: {exc}") from exc
        except sqlite3.DatabaseError as exc:
            raise damaged(self.path, str(exc)) from exc

    def _execute(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        with self._errors():
            return self._connection.execute(sql, params)

    def _query(self, sql: str, params: Sequence[Any]) -> list[Any]:
        with self._errors():
            return self._connection.execute(sql, params).fetchall()

    def _exists(self, proposal_id: str) -> bool:
        return bool(self._query("SELECT 1 FROM proposals WHERE id = ?", (proposal_id,)))

    def _require(self, proposal_id: str) -> None:
        if not self._exists(proposal_id):
            raise _not_found(proposal_id)

    def _proposal(self, row: Sequence[Any]) -> StoredProposal:
        return proposal_of(self.path, row)

    def _stages(self, where: str, params: Sequence[Any]) -> list[StageRecord]:
        sql = f"SELECT {STAGE_COLUMNS} FROM stages WHERE {where} ORDER BY {STAGE_ORDER}"
        return [stage_of(self.path, row) for row in self._query(sql, params)]

    def _journal(self, where: str, params: Sequence[Any]) -> list[JournalEntry]:
        sql = f"SELECT {JOURNAL_COLUMNS} FROM journal WHERE {where} ORDER BY seq"
        return [journal_entry_of(self.path, row) for row in self._query(sql, params)]

    def _audit(self, where: str, params: Sequence[Any]) -> list[AuditEvent]:
        sql = f"SELECT {AUDIT_COLUMNS} FROM audit WHERE {where} ORDER BY seq"
        return [audit_event_of(self.path, row) for row in self._query(sql, params)]


def _not_found(proposal_id: str) -> ProposalNotFoundError:
    return ProposalNotFoundError(f"no proposal has the id {proposal_id!r}")
