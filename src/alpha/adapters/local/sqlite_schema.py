"""The SQLite store's schema, its migrations, and the checks made before a file is trusted.

`PRAGMA user_version` is the schema version: `MIGRATIONS[n]` takes a store from version n to
n + 1, inside the caller's write transaction. Migrations are only ever appended. `PRAGMA
application_id` marks the file as an ALPHA store, so another program's SQLite file is refused.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from alpha.store.chain import tampered
from alpha.store.errors import StoreError

APPLICATION_ID = 0x414C5048  # "ALPH"
SQLITE_HEADER = b"SQLite format 3\x00"

_PROPOSAL_STATES = (
    "'proposed','approved','rejected','expired','sandbox','canary','production',"
    "'succeeded','rolled_back','failed'"
)

_V1_PROPOSALS_APPROVALS_AUDIT = (
    """CREATE TABLE proposals (
        id TEXT PRIMARY KEY CHECK (length(id) = 64),
        principal TEXT NOT NULL,
        created_at TEXT NOT NULL,
        created_by TEXT NOT NULL,
        document TEXT NOT NULL,
        plan TEXT NOT NULL
    )""",
    """CREATE TRIGGER proposals_no_update BEFORE UPDATE ON proposals
    BEGIN SELECT RAISE(ABORT, 'proposals are immutable'); END""",
    """CREATE TRIGGER proposals_no_delete BEFORE DELETE ON proposals
    BEGIN SELECT RAISE(ABORT, 'proposals are immutable'); END""",
    f"""CREATE TABLE proposal_states (
        proposal_id TEXT PRIMARY KEY REFERENCES proposals(id),
        state TEXT NOT NULL CHECK (state IN ({_PROPOSAL_STATES}))
    )""",
    """CREATE TABLE approvals (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        proposal_id TEXT NOT NULL REFERENCES proposals(id),
        timestamp TEXT NOT NULL,
        approved INTEGER NOT NULL CHECK (approved IN (0, 1)),
        approver TEXT NOT NULL,
        comments TEXT NOT NULL,
        proposal_hash TEXT NOT NULL
    )""",
    "CREATE INDEX approvals_by_proposal ON approvals (proposal_id, timestamp, seq)",
    """CREATE TABLE audit (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        at TEXT NOT NULL,
        proposal_id TEXT REFERENCES proposals(id),
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        reason TEXT NOT NULL,
        details TEXT NOT NULL
    )""",
    "CREATE INDEX audit_by_proposal ON audit (proposal_id, seq)",
    """CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END""",
    """CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END""",
)

_V2_ROLLOUTS = (
    """CREATE TABLE stages (
        proposal_id TEXT NOT NULL REFERENCES proposals(id),
        stage TEXT NOT NULL CHECK (stage IN ('sandbox', 'canary', 'production')),
        state TEXT NOT NULL CHECK (state IN ('pending', 'started', 'applied', 'baking',
            'passed', 'failed', 'rolled_back')),
        previous_state TEXT,
        metrics TEXT NOT NULL,
        started_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (proposal_id, stage)
    )""",
    # The state captured before a change is what rollback restores: never overwrite it.
    """CREATE TRIGGER stages_previous_state_write_once BEFORE UPDATE OF previous_state ON stages
    WHEN OLD.previous_state IS NOT NULL AND NEW.previous_state IS NOT OLD.previous_state
    BEGIN SELECT RAISE(ABORT, 'previous_state is write-once'); END""",
    """CREATE TABLE journal (
        proposal_id TEXT NOT NULL REFERENCES proposals(id),
        seq INTEGER NOT NULL,
        step TEXT NOT NULL,
        phase TEXT NOT NULL CHECK (phase IN ('intent', 'done')),
        payload TEXT NOT NULL,
        at TEXT NOT NULL,
        PRIMARY KEY (proposal_id, seq)
    )""",
    """CREATE TRIGGER journal_no_update BEFORE UPDATE ON journal
    BEGIN SELECT RAISE(ABORT, 'the journal is append-only'); END""",
    """CREATE TRIGGER journal_no_delete BEFORE DELETE ON journal
    BEGIN SELECT RAISE(ABORT, 'the journal is append-only'); END""",
    """CREATE TABLE account_copies (
        name TEXT PRIMARY KEY,
        version INTEGER NOT NULL CHECK (version >= 1),
        document TEXT NOT NULL
    )""",
)

CHAIN_NO_UPDATE = """CREATE TRIGGER chain_no_update BEFORE UPDATE ON chain
    BEGIN SELECT RAISE(ABORT, 'the chain is append-only'); END"""

# The chain (alpha.store.chain) is what shows an edit; the triggers only stop casual ones.
_V3_CHAIN_AND_LEASES = (
    """CREATE TABLE chain (
        seq INTEGER PRIMARY KEY CHECK (seq >= 1),
        kind TEXT NOT NULL,
        proposal_id TEXT,
        key TEXT NOT NULL,
        digest TEXT NOT NULL,
        hash TEXT NOT NULL
    )""",
    "CREATE INDEX chain_by_row ON chain (kind, proposal_id, key, seq)",
    CHAIN_NO_UPDATE,
    """CREATE TRIGGER chain_no_delete BEFORE DELETE ON chain
    BEGIN SELECT RAISE(ABORT, 'the chain is append-only'); END""",
    """CREATE TABLE leases (
        name TEXT PRIMARY KEY,
        holder TEXT NOT NULL,
        until TEXT NOT NULL
    )""",
)

MIGRATIONS: tuple[tuple[str, ...], ...] = (
    _V1_PROPOSALS_APPROVALS_AUDIT,
    _V2_ROLLOUTS,
    _V3_CHAIN_AND_LEASES,
)
"""`MIGRATIONS[n]` takes a store from schema version n to n + 1."""

CURRENT_VERSION = len(MIGRATIONS)

CHAIN_VERSION = 3
"""The first schema with the hash chain: a store migrated from before it has its rows adopted."""


TRIGGERS = {
    statement.split()[2]: statement
    for version in MIGRATIONS
    for statement in version
    if statement.startswith("CREATE TRIGGER")
}
"""The triggers a current store has, by name, as created."""


def check_triggers(connection: sqlite3.Connection, path: Path) -> None:
    """`TamperedStoreError` if a trigger was dropped, changed or added: the chain shows an edit
    made without one, this shows someone preparing one (an added trigger could rewrite a row
    as alpha writes it)."""
    found = dict(connection.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'"))
    added = sorted(found.keys() - TRIGGERS.keys())
    if added:
        raise tampered(str(path), f"trigger {added[0]}", "not created by alpha (added)")
    for name, statement in TRIGGERS.items():
        if name not in found:
            raise tampered(str(path), f"trigger {name}", "missing (dropped outside alpha)")
        if found[name] != statement:
            raise tampered(str(path), f"trigger {name}", "not the one alpha created (changed)")


def migrate(connection: sqlite3.Connection, path: Path, target: int = CURRENT_VERSION) -> int:
    """Bring the store up to `target`; returns the version it was at. The caller holds the write
    transaction, so two processes opening an old store migrate it once."""
    found = check_version(path, schema_version(connection, path))
    for version in range(found, target):
        for statement in MIGRATIONS[version]:
            connection.execute(statement)
    if found < target:
        connection.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        connection.execute(f"PRAGMA user_version = {target}")
    return found


def check_version(path: Path, found: int) -> int:
    """The version found, if this code can work with it."""
    if found > CURRENT_VERSION:
        raise StoreError(
            f"{path}: the store has schema version {found} but this alpha knows only up to "
            f"{CURRENT_VERSION}; upgrade alpha (the store was left untouched)"
        )
    return found


def schema_version(connection: sqlite3.Connection, path: Path) -> int:
    """The store's schema version; `StoreError` if the file is another program's database."""
    application_id = connection.execute("PRAGMA application_id").fetchone()[0]
    version: int = connection.execute("PRAGMA user_version").fetchone()[0]
    if application_id == APPLICATION_ID:
        return version
    has_tables = connection.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
    if application_id == 0 and version == 0 and not has_tables:
        return 0
    raise StoreError(
        f"{path} is an SQLite database but not an ALPHA store; it was left untouched: "
        "point alpha at another store path or move the file aside"
    )


def check_file(path: Path) -> bool:
    """Whether a store already exists at `path`; `StoreError` if the file there cannot be one.
    Reads only: a file that fails is never changed."""
    if not path.exists():
        return False
    if not path.is_file():
        raise StoreError(f"{path} is not a file; point alpha at a store file")
    with path.open("rb") as handle:
        header = handle.read(len(SQLITE_HEADER))
    if not header:
        raise StoreError(
            f"{path} is empty (truncated?), so it is not a usable ALPHA store; it was left "
            "untouched: restore it from a backup, or delete it to start a new store"
        )
    if header != SQLITE_HEADER:
        raise StoreError(
            f"{path} is not an SQLite database, so it is not an ALPHA store; it was left "
            "untouched: restore it from a backup, or move it aside to start a new store"
        )
    return True


def damaged(path: Path, detail: str) -> StoreError:
    """The error for a store whose content SQLite rejects."""
    detail = " ".join(detail.split())  # SQLite's check reports span lines; errors are one
    return StoreError(
        f"{path}: the store is damaged ({detail}); alpha changed nothing: restore it from a "
        "backup, or move it aside to start a new store"
    )
