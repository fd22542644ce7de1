"""What only the SQLite store has to show: a file that persists, is shared by processes, is
migrated, refuses to be edited where it must not be, and is never trusted when damaged.
(Every port method's behaviour is in `tests/store/test_contract.py`, run on this store too.)"""

from __future__ import annotations

import hashlib
import multiprocessing
import multiprocessing.queues
import multiprocessing.synchronize
import random
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from alpha.adapters.local import sqlite_schema
from alpha.adapters.local.sqlite_store import DEFAULT_PATH, SQLiteStore
from alpha.errors import AlphaError
from alpha.store.errors import StoreError
from alpha.store.model import (
    Approval,
    JournalPhase,
    ProposalState,
    Stage,
    StageRecord,
    StageState,
)
from tests.adapters.local.sqlite_helpers import in_processes, older_store
from tests.fakes.store_records import at, fill, make_proposal

P = ProposalState


def _filled(path: Path, proposals: int = 3) -> list[str]:
    """A closed store holding proposals, approvals, audit events and a journal."""
    with SQLiteStore(path) as store:
        return fill(store, proposals)


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_default_path_is_under_dot_alpha() -> None:
    assert Path(".alpha/alpha.db") == DEFAULT_PATH


def test_creates_missing_folders_and_persists(tmp_path: Path) -> None:
    path = tmp_path / "a" / ".alpha" / "alpha.db"
    ids = _filled(path)
    with SQLiteStore(path) as store:
        assert [p.id for p in store.proposals()] == ids
        assert len(store.audit()) == 3
    assert sorted(f.name for f in path.parent.iterdir()) == ["alpha.db"]  # no leftovers


def test_connection_settings(tmp_path: Path) -> None:
    with SQLiteStore(tmp_path / "alpha.db", busy_timeout=7) as store:
        connection = store._db.connection
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert connection.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert connection.execute("PRAGMA busy_timeout").fetchone()[0] == 7000
        assert connection.execute("PRAGMA user_version").fetchone()[0] == (
            sqlite_schema.CURRENT_VERSION
        )


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE audit SET actor = 'mallory'",
        "DELETE FROM audit",
        "UPDATE journal SET step = 'other'",
        "DELETE FROM journal",
        "UPDATE proposals SET principal = 'arn:aws:iam::1:role/other'",
        "DELETE FROM proposals",
        "UPDATE stages SET previous_state = '{}'",
    ],
)
def test_append_only_and_immutable_tables_refuse_edits(tmp_path: Path, sql: str) -> None:
    path = tmp_path / "alpha.db"
    ids = _filled(path)
    with SQLiteStore(path) as store:
        store.save_stage(
            StageRecord(ids[0], Stage.CANARY, StageState.STARTED, at(0), at(0), {"before": 1})
        )
    connection = sqlite3.connect(path)
    with pytest.raises(sqlite3.IntegrityError, match=r"append-only|immutable|write-once"):
        connection.execute(sql)
    connection.close()
    with SQLiteStore(path) as store:
        assert len(store.audit()) == 3
        assert all(event.actor == "alice" for event in store.audit())


def test_trigger_refusals_through_the_store_are_store_errors(tmp_path: Path) -> None:
    with SQLiteStore(tmp_path / "alpha.db") as store:
        store.save_proposal(make_proposal())
        store.append_audit(at=at(0), proposal_id=None, actor="a", action="x", reason="y")
        with pytest.raises(StoreError, match="append-only"):
            store._db.execute("DELETE FROM audit")


@pytest.mark.parametrize("version", [1, 2])
def test_migrates_an_older_store_adopting_its_rows(tmp_path: Path, version: int) -> None:
    path = tmp_path / "alpha.db"
    proposal = make_proposal()

    def fill_in(writer: SQLiteStore) -> None:
        writer.save_proposal(proposal)
        writer.record_approval(Approval(proposal.id, at(1), True, "bob", "ok"))
        writer.append_audit(
            at=at(1), proposal_id=proposal.id, actor="bob", action="approve", reason="ok"
        )

    older_store(path, version, fill_in)
    with SQLiteStore(path) as store:
        user_version = store._db.connection.execute("PRAGMA user_version").fetchone()[0]
        assert user_version == sqlite_schema.CURRENT_VERSION
        assert store.find_proposal(proposal.short_id) == proposal
        assert store.latest_approval(proposal.id) == Approval(proposal.id, at(1), True, "bob", "ok")
        assert [event.action for event in store.audit()] == ["approve"]
        store.save_stage(StageRecord(proposal.id, Stage.SANDBOX, StageState.PASSED, at(2), at(3)))
        assert store.journal(proposal.id) == []
        assert store.save_account_copy("main", {}) == 1
        kinds = store._db.connection.execute("SELECT kind, key FROM chain ORDER BY seq LIMIT 2")
        assert kinds.fetchall() == [("chain", "sha256"), ("adopted", f"schema {version}")]
    with SQLiteStore(path) as store:  # adopted once, and checked like any row since
        assert store.proposal_state(proposal.id) is P.PROPOSED


def test_a_newer_store_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "alpha.db"
    _filled(path)
    connection = sqlite3.connect(path)
    connection.execute(f"PRAGMA user_version = {sqlite_schema.CURRENT_VERSION + 1}")
    connection.close()
    before = _digest(path)
    newer = sqlite_schema.CURRENT_VERSION + 1
    with pytest.raises(StoreError, match=f"{path}.*schema version {newer}.*upgrade alpha"):
        SQLiteStore(path)
    assert _digest(path) == before


def test_another_programs_database_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "alpha.db"
    connection = sqlite3.connect(path)
    connection.execute("CREATE TABLE notes (text TEXT)")
    connection.execute("INSERT INTO notes VALUES ('mine')")
    connection.commit()
    connection.close()
    before = _digest(path)
    with pytest.raises(StoreError, match="not an ALPHA store"):
        SQLiteStore(path)
    assert _digest(path) == before


def _truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _scribble(page: int) -> Callable[[Path], None]:
    def scribble(path: Path) -> None:
        data = bytearray(path.read_bytes())
        data[4096 * page : 4096 * (page + 1)] = random.Random(page).randbytes(4096)
        path.write_bytes(bytes(data))

    return scribble


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda path: path.write_bytes(b"not a database\n" * 50), "not an SQLite database"),
        (lambda path: path.write_bytes(b""), "empty"),
        (_truncate, "damaged"),
        (_scribble(1), "damaged"),
        (_scribble(2), "damaged"),
        (_scribble(5), "damaged"),
        (_scribble(9), "damaged"),
    ],
)
def test_a_damaged_store_is_a_clear_error_and_is_left_untouched(
    tmp_path: Path, damage: Callable[[Path], None], message: str
) -> None:
    path = tmp_path / "alpha.db"
    _filled(path, proposals=6)
    neighbour = tmp_path / "alpha.toml"
    neighbour.write_text("[store]\n")
    damage(path)
    before = _digest(path)
    with pytest.raises(StoreError, match=message) as raised:
        SQLiteStore(path)
    text = str(raised.value)
    assert str(path) in text
    assert "\n" not in text
    assert "backup" in text
    assert isinstance(raised.value, AlphaError)
    assert _digest(path) == before
    assert sorted(f.name for f in tmp_path.iterdir()) == ["alpha.db", "alpha.toml"]
    assert neighbour.read_text() == "[store]\n"


def test_a_damaged_document_an_older_alpha_stored_is_damaged_not_locked(tmp_path: Path) -> None:
    # Text that is not UTF-8 made the driver raise an OperationalError quoting the row, whose
    # `"blocked": false` read as "locked": the store said another process held it.
    path = tmp_path / "alpha.db"
    proposal = make_proposal()
    older_store(path, 2, lambda writer: writer.save_proposal(proposal))
    connection = sqlite3.connect(path)
    connection.execute("DROP TRIGGER proposals_no_update")
    connection.execute("UPDATE proposals SET document = CAST(document || x'ff' AS TEXT)")
    connection.execute(sqlite_schema.TRIGGERS["proposals_no_update"])
    connection.commit()
    connection.close()
    with SQLiteStore(path) as store, pytest.raises(StoreError) as raised:
        store.proposals()
    text = str(raised.value)
    assert f"table proposals, row id {proposal.short_id}: text that is not UTF-8" in text
    assert "damaged" in text
    assert "locked" not in text


def test_a_folder_in_the_way_is_a_store_error(tmp_path: Path) -> None:
    (tmp_path / "alpha.db").mkdir()
    with pytest.raises(StoreError, match="not a file"):
        SQLiteStore(tmp_path / "alpha.db")


def test_a_store_locked_too_long_is_a_store_error(tmp_path: Path) -> None:
    path = tmp_path / "alpha.db"
    _filled(path, proposals=1)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        with SQLiteStore(path, busy_timeout=0.05) as store:
            proposal = store.proposals()[0]  # readers are not blocked in WAL mode
            with pytest.raises(StoreError, match="locked by another alpha process"):
                store.set_state(proposal.id, P.APPROVED, P.PROPOSED)
            assert not store._db.connection.in_transaction
    finally:
        holder.execute("ROLLBACK")
        holder.close()


# Several processes at once ------------------------------------------------------------------

WORKERS = 4
ROUNDS = 15


def _race(path: Path, worker: int, barrier: multiprocessing.synchronize.Barrier) -> bool:
    """One CLI process: approvals and audit events, then one try at the state CAS."""
    with SQLiteStore(path) as store:
        proposal_id = store.proposals()[0].id
        barrier.wait()
        for n in range(ROUNDS):
            store.record_approval(Approval(proposal_id, at(n), n % 2 == 0, f"worker-{worker}"))
            store.append_audit(
                at=at(n),
                proposal_id=proposal_id,
                actor=f"worker-{worker}",
                action="approval.recorded",
                reason=str(n),
            )
            store.append_journal(proposal_id, f"w{worker}", JournalPhase.INTENT, {"n": n}, at(n))
        with store.transaction():
            won = store.set_state(proposal_id, P.APPROVED, P.PROPOSED)
            if won:
                store.append_audit(
                    at=at(99),
                    proposal_id=proposal_id,
                    actor=f"worker-{worker}",
                    action="state.changed",
                    reason="won",
                )
        return won


def _run_race(
    path: Path,
    worker: int,
    barrier: multiprocessing.synchronize.Barrier,
    results: multiprocessing.queues.Queue[tuple[int, bool]],
) -> None:
    results.put((worker, _race(path, worker, barrier)))


def test_processes_at_once_never_corrupt_the_store(tmp_path: Path) -> None:
    path = tmp_path / "alpha.db"
    _filled(path, proposals=1)
    outcomes = dict(in_processes(_run_race, path, WORKERS, 1))

    assert sum(outcomes.values()) == 1, outcomes
    with SQLiteStore(path) as store:
        proposal_id = store.proposals()[0].id
        assert store.proposal_state(proposal_id) is P.APPROVED
        assert len(store.approvals(proposal_id)) == 1 + WORKERS * ROUNDS
        events = store.audit(proposal_id)
        assert len(events) == 1 + WORKERS * ROUNDS + 1
        assert [event.seq for event in events] == sorted({event.seq for event in events})
        assert [e.actor for e in events if e.action == "state.changed"] == [
            f"worker-{next(w for w, won in outcomes.items() if won)}"
        ]
        journal = store.journal(proposal_id)
        assert [entry.seq for entry in journal] == list(range(1, len(journal) + 1))
        assert len(journal) == 1 + WORKERS * ROUNDS
        assert store._db.connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]


def _open_new(path: Path, results: multiprocessing.queues.Queue[str]) -> None:
    with SQLiteStore(path) as store:
        store.save_account_copy("main", {"by": "someone"})
    results.put("ok")


def test_processes_creating_the_same_store_at_once(tmp_path: Path) -> None:
    path = tmp_path / "new" / "alpha.db"
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    processes = [context.Process(target=_open_new, args=(path, results)) for _ in range(3)]
    for process in processes:
        process.start()
    assert [results.get(timeout=60) for _ in processes] == ["ok"] * 3
    for process in processes:
        process.join(timeout=60)
    with SQLiteStore(path) as store:
        assert store.account_copy_version("main") == 3
    assert sorted(f.name for f in path.parent.iterdir()) == ["alpha.db"]
