"""Tampering with the SQLite store as someone with the sqlite3 shell would: every edit, deletion,
addition or reordering of rows, of the chain or of triggers is found, named, and stops alpha
before it writes anything; a key and an anchor hold against what a plain chain cannot."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from alpha.adapters.local import sqlite_schema
from alpha.adapters.local.sqlite_chain import SQLiteChain
from alpha.adapters.local.sqlite_store import SQLiteStore
from alpha.store.chain import Linker
from alpha.store.errors import StoreError, TamperedStoreError
from alpha.store.model import (
    Approval,
    ProposalState,
    Stage,
    StageRecord,
    StageState,
)
from tests.adapters.local.sqlite_helpers import older_store
from tests.fakes.store_records import at, fill, make_proposal

P = ProposalState
KEY = b"a store key of 32 bytes, really."


def _history(path: Path, key: bytes | None = None) -> str:
    """Two proposals, the first with its whole story: approved, then rejected (approval seq 3),
    moved on, a canary stage, journal and audit; an account copy. Returns the first's id."""
    with SQLiteStore(path, key=key) as store:
        first, _ = fill(store, 2)
        store.record_approval(Approval(first, at(5), False, "carol", "wait"))
        store.set_state(first, P.REJECTED, P.PROPOSED)
        store.save_stage(
            StageRecord(first, Stage.CANARY, StageState.BAKING, at(6), at(7), {"RoleName": "a"})
        )
        store.save_account_copy("main", {"RoleDetailList": []})
    return first


def _edit(path: Path, *statements: str, unguarded: tuple[str, ...] = ()) -> None:
    """Drop the triggers in the way, run the statements, put the triggers back."""
    connection = sqlite3.connect(path, isolation_level=None)
    for name in unguarded:
        connection.execute(f"DROP TRIGGER {name}")
    for statement in statements:
        connection.execute(statement)
    for name in unguarded:
        connection.execute(sqlite_schema.TRIGGERS[name])
    connection.close()


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


TAMPERING = [
    ("state", ["UPDATE proposal_states SET state = 'approved' WHERE proposal_id = '<A>'"], (),
     r"table proposal_states, row proposal_id <a>: does not match chain entry \d+"),
    ("approval", ["UPDATE approvals SET approved = 1 WHERE seq = 3"], (),
     r"table approvals, row seq 3 \(proposal <a>\): does not match chain entry"),
    ("forged approval", [
        "INSERT INTO approvals (proposal_id, timestamp, approved, approver, comments,"
        " proposal_hash) SELECT proposal_id, '2030-01-01T00:00:00.000000+00:00', 1, 'mallory',"
        " '', proposal_hash FROM approvals WHERE seq = 1"], (),
     r"table approvals, row seq 4 \(proposal <a>\): not recorded in the chain"),
    ("deleted rejection", ["DELETE FROM approvals WHERE seq = 3"], (),
     r"table approvals, row seq 3 \(proposal <a>\): missing, but chain entry \d+ records it"),
    ("proposer", ["UPDATE proposals SET created_by = 'carol' WHERE id = '<A>'"],
     ("proposals_no_update",), r"table proposals, row id <a>: does not match"),
    ("backdated", ["UPDATE proposals SET created_at = '2000-01-01T00:00:00.000000+00:00'"],
     ("proposals_no_update",), r"table proposals, row id \w+: does not match"),
    ("damaged document", [
        "UPDATE proposals SET document = CAST(document || x'ff' AS TEXT) WHERE id = '<A>'"],
     ("proposals_no_update",), r"table proposals, row id <a>: does not match"),
    ("stage", ["UPDATE stages SET state = 'passed'"], (),
     r"table stages, row proposal_id <a>, stage canary: does not match"),
    ("previous state", ["UPDATE stages SET previous_state = '{}'"],
     ("stages_previous_state_write_once",), r"table stages, row proposal_id <a>, stage canary"),
    ("journal", ["DELETE FROM journal WHERE proposal_id = '<A>'"], ("journal_no_delete",),
     r"table journal, row proposal_id <a>, seq 1: missing, but chain entry"),
    ("audit actor", ["UPDATE audit SET actor = 'mallory' WHERE seq = 1"], ("audit_no_update",),
     r"table audit, row seq 1: does not match"),
    ("audit as a blob", ["UPDATE audit SET reason = CAST(reason AS BLOB) WHERE seq = 2"],
     ("audit_no_update",), r"table audit, row seq 2: does not match"),
    ("audit deleted", ["DELETE FROM audit WHERE seq = 1"], ("audit_no_delete",),
     r"table audit, row seq 1: missing"),
    ("account copy", ["UPDATE account_copies SET document = '{\"RoleDetailList\":[{}]}'"], (),
     r"table account_copies, row name main: does not match"),
    ("chain digest", [f"UPDATE chain SET digest = '{'0' * 64}' WHERE seq = 3"],
     ("chain_no_update",), r"table chain, entry 3 \(state, proposal <a>\): its hash does not"),
    ("chain deleted", ["DELETE FROM chain WHERE seq = 3"], ("chain_no_delete",),
     r"chain entry 3: missing \(entry 4 follows entry 2\)"),
    ("chain reordered", [
        "UPDATE chain SET seq = 1000 WHERE seq = 3", "UPDATE chain SET seq = 3 WHERE seq = 4",
        "UPDATE chain SET seq = 4 WHERE seq = 1000"], ("chain_no_update",),
     r"table chain, entry 3 .*: its hash does not match"),
    ("dropped trigger", [], (), r"trigger audit_no_update: missing \(dropped outside alpha\)"),
    ("added trigger", [
        "CREATE TRIGGER sneaky AFTER INSERT ON approvals"
        " BEGIN UPDATE approvals SET approved = 1 WHERE seq = NEW.seq; END"], (),
     r"trigger sneaky: not created by alpha \(added\)"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("statements", "unguarded", "message"),
    [pytest.param(*case[1:], id=case[0]) for case in TAMPERING],
)
def test_tampering_is_found_named_and_nothing_is_written(
    tmp_path: Path, statements: list[str], unguarded: tuple[str, ...], message: str
) -> None:
    path = tmp_path / "alpha.db"
    first = _history(path)
    _edit(path, *(s.replace("<A>", first) for s in statements), unguarded=unguarded)
    if not statements and not unguarded:  # the trigger dropped, and nothing else done
        _edit(path, "DROP TRIGGER audit_no_update")
    before = _digest(path)
    with pytest.raises(TamperedStoreError, match=message.replace("<a>", first[:12])) as raised:
        SQLiteStore(path)
    assert str(raised.value).startswith(f"{path}: ")
    assert "changed outside alpha" in str(raised.value)
    assert _digest(path) == before


def test_an_edit_made_while_the_store_is_open_is_found_on_read_and_blocks_writes(
    tmp_path: Path,
) -> None:
    path = tmp_path / "alpha.db"
    first = _history(path)
    with SQLiteStore(path) as store:
        head = store.chain_head()
        _edit(path, f"UPDATE proposal_states SET state = 'approved' WHERE proposal_id = '{first}'")
        with pytest.raises(TamperedStoreError, match="table proposal_states"):
            store.proposal_state(first)
        with pytest.raises(TamperedStoreError, match="table proposal_states"):
            store.set_state(first, P.SANDBOX, P.APPROVED)
        with pytest.raises(TamperedStoreError, match="table proposal_states"):
            store.proposals(P.APPROVED)
        assert store.chain_head() == head


def test_a_number_reused_after_a_row_was_deleted_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "alpha.db"
    _history(path)
    with SQLiteStore(path) as store:
        head = store.chain_head()
        # The last event deleted and its number freed: the next event would take it over.
        _edit(
            path,
            "DELETE FROM audit WHERE seq = 2",
            "UPDATE sqlite_sequence SET seq = 1 WHERE name = 'audit'",
            unguarded=("audit_no_delete",),
        )
        with pytest.raises(TamperedStoreError, match=r"table audit, row seq 2: its number is"):
            store.append_audit(at=at(9), proposal_id=None, actor="a", action="x", reason="y")
        assert store.chain_head() == head


def test_the_checked_head_must_stay_in_the_chain(tmp_path: Path) -> None:
    path = tmp_path / "alpha.db"
    first = _history(path)
    with SQLiteStore(path) as store:
        head = store.chain_head()
        _edit(path, f"DELETE FROM chain WHERE seq = {head.seq}", unguarded=("chain_no_delete",))
        with pytest.raises(TamperedStoreError, match=f"entry {head.seq}: changed or removed"):
            store.set_state(first, P.PROPOSED, P.REJECTED)


def _rechain(path: Path, linker: Linker) -> None:
    """What someone who knows how the chain is made can do: make it again over the rows as
    they are now (here by adopting them, as a migration would)."""
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("DROP TRIGGER chain_no_delete")
    connection.execute("DELETE FROM chain")
    connection.execute(sqlite_schema.TRIGGERS["chain_no_delete"])

    def run(sql: str, params: Any) -> list[Any]:
        return connection.execute(sql, params).fetchall()

    SQLiteChain(run, linker, str(path)).adopt(sqlite_schema.CURRENT_VERSION)
    connection.close()


def test_a_plain_chain_made_again_hides_an_edit_which_is_what_the_key_is_for(
    tmp_path: Path,
) -> None:
    plain, keyed = tmp_path / "plain.db", tmp_path / "keyed.db"
    for path, key in ((plain, None), (keyed, KEY)):
        first = _history(path, key)
        _edit(path, f"UPDATE proposal_states SET state = 'approved' WHERE proposal_id = '{first}'")
    _rechain(plain, Linker())
    with SQLiteStore(plain) as store:
        assert store.proposal_state(first) is P.APPROVED  # the limit of a plain chain
    _rechain(keyed, Linker(b"a guessed key of 32 bytes......."))
    with pytest.raises(TamperedStoreError, match=r"entry 1 .*under the key given"):
        SQLiteStore(keyed, key=KEY)
    _rechain(keyed, Linker())
    with pytest.raises(StoreError, match="store key was given but the store's chain is not keyed"):
        SQLiteStore(keyed, key=KEY)


def test_a_keyed_store_opens_only_with_its_key(tmp_path: Path) -> None:
    path = tmp_path / "alpha.db"
    first = _history(path, KEY)
    with pytest.raises(StoreError, match="chain is keyed; give the store key"):
        SQLiteStore(path)
    with pytest.raises(TamperedStoreError, match="a different key, or edited"):
        SQLiteStore(path, key=b"another key, also 32 bytes long.")
    with pytest.raises(StoreError, match="needs at least 16"):
        SQLiteStore(path, key=b"short")
    with SQLiteStore(path, key=KEY) as store:
        assert store.proposal_state(first) is P.REJECTED


def test_sealing_keys_a_plain_store_and_changes_a_key(tmp_path: Path) -> None:
    path = tmp_path / "alpha.db"
    first = _history(path)
    with SQLiteStore(path) as store:
        before = store.chain_head()
        sealed = store.seal(KEY)
        assert sealed.seq == before.seq
        assert sealed.hash != before.hash
        assert store.set_state(first, P.PROPOSED, P.REJECTED)  # writes go on under the key
    with pytest.raises(StoreError, match="keyed"):
        SQLiteStore(path)
    new_key = b"the next store key, 32 bytes ..."
    with SQLiteStore(path, key=KEY) as store:
        store.seal(new_key)
    with SQLiteStore(path, key=new_key) as store:
        assert store.proposal_state(first) is P.PROPOSED
        assert len(store.approvals(first)) == 2


def test_an_older_store_is_not_adopted_under_a_key(tmp_path: Path) -> None:
    # Adopting vouches for every row: under a key only sealing may, or removing the chain and
    # the schema version would launder an edit.
    path = tmp_path / "alpha.db"
    proposal = make_proposal()
    older_store(path, 2, lambda writer: writer.save_proposal(proposal))
    before = _digest(path)
    with pytest.raises(StoreError, match=r"older alpha \(schema version 2\).*left untouched"):
        SQLiteStore(path, key=KEY)
    assert _digest(path) == before
    with SQLiteStore(path) as store:
        store.seal(KEY)
    with SQLiteStore(path, key=KEY) as store:
        assert store.proposal(proposal.id) == proposal


def test_an_anchor_shows_a_chain_cut_back(tmp_path: Path) -> None:
    path = tmp_path / "alpha.db"
    first = _history(path)
    with SQLiteStore(path) as store:
        anchor = store.chain_head()
        store.record_approval(Approval(first, at(8), False, "dana", "no"))
        last = store.chain_head()
    with SQLiteStore(path, anchor=anchor) as store:
        assert store.chain_head() == last
    # The rejection taken back with its entry: consistent, so only the anchor shows it.
    _edit(
        path,
        "DELETE FROM approvals WHERE seq = 4",
        f"DELETE FROM chain WHERE seq = {last.seq}",
        unguarded=("chain_no_delete",),
    )
    with SQLiteStore(path) as store:
        assert len(store.approvals(first)) == 2
    with pytest.raises(TamperedStoreError, match=f"entry {last.seq}: does not hold the anchored"):
        SQLiteStore(path, anchor=last)
