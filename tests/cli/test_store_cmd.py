"""`alpha store head|seal`, and every command refusing a store whose chain does not hold."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from alpha.adapters.local.sqlite_store import SQLiteStore
from tests.cli.workflow_helpers import alpha
from tests.fakes.store_records import policy

KEY = "a key of at least sixteen characters"


@pytest.fixture
def store_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    from alpha.store.model import StoredProposal

    for name in ("ALPHA_STORE_KEY", "ALPHA_STORE_ANCHOR", "ALPHA_STORE_NEW_KEY", "ALPHA_NOW"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "alpha.db"
    with SQLiteStore(path) as store:
        made = StoredProposal.create(
            principal="arn:aws:iam::111122223333:role/app",
            document={"proposed_policy": policy("s3:GetObject")},
            plan={"steps": []},
            created_by="dana",
            created_at=datetime(2026, 12, 1, tzinfo=UTC),
        )
        store.save_proposal(made)
    return path


def test_head_then_an_anchor_the_store_must_hold(
    store_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    head = alpha("store", "head", "--store", str(store_path))
    assert head.code == 0, head.err
    seq, _, digest = head.out.strip().partition(":")
    assert int(seq) >= 1
    assert len(digest) == 64
    monkeypatch.setenv("ALPHA_STORE_ANCHOR", head.out.strip())
    assert alpha("status", "--store", str(store_path)).code == 0
    monkeypatch.setenv("ALPHA_STORE_ANCHOR", f"{int(seq) + 5}:{'0' * 64}")
    beyond = alpha("status", "--store", str(store_path))
    assert beyond.code == 2
    assert beyond.err.count("\n") == 1


def test_seal_then_the_store_opens_only_with_its_key(
    store_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ALPHA_STORE_NEW_KEY", "short")
    refused = alpha("store", "seal", "--store", str(store_path))
    assert "ALPHA_STORE_NEW_KEY: a store key needs at least 16 characters" in refused.err
    monkeypatch.setenv("ALPHA_STORE_NEW_KEY", KEY)
    sealed = alpha("store", "seal", "--store", str(store_path))
    assert sealed.code == 0, sealed.err
    without = alpha("status", "--store", str(store_path))
    assert without.code == 2
    assert without.err.startswith("alpha: error: ")
    monkeypatch.setenv("ALPHA_STORE_KEY", KEY)
    assert alpha("status", "--store", str(store_path)).code == 0


def test_a_row_edited_with_the_sqlite_shell_is_refused_by_every_command(
    store_path: Path,
) -> None:
    with sqlite3.connect(store_path) as raw:
        raw.execute("UPDATE proposal_states SET state = 'approved'")
    for argv in (["status"], ["proposals", "list"], ["store", "head"]):
        ran = alpha(*argv, "--store", str(store_path))
        assert ran.code == 2, (argv, ran.out)
        assert ran.err.count("\n") == 1
        assert "proposal_states" in ran.err
