"""`ProposalSummaries`: the SQLite store's own query and the fallback over any store (the
in-memory fake lacks the query) give the same pages; and the application's held store sees
what another process wrote."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from alpha.adapters.local.sqlite_store import SQLiteStore
from alpha.app.held_store import HeldStoreBackends
from alpha.store.model import ProposalState, StoredProposal
from alpha.store.ports import Store
from alpha.store.summaries import (
    ProposalSummaries,
    SummaryQuery,
    page_summaries,
    principals_of,
    summary_fields,
)
from tests.fakes.memory_store import MemoryStore
from tests.fakes.store_records import T0, policy

P = ProposalState
DOCUMENTS: list[dict[str, Any]] = [
    {"diff": {"privilege_reduction": 0.5, "grants": {"removed": 7}},
     "risk_signal": {"probability_of_break": 0.25}, "blocked": True,
     "guardrail_violations": [{"code": "A", "blocks": True}, {"code": "B"}]},
    {"diff": {"privilege_reduction": 1}, "blocked": False},
    {"diff": "damaged", "risk_signal": None, "guardrail_violations": "no"},
    {},
]  # fmt: skip
STATES = [P.PROPOSED, P.APPROVED, P.PROPOSED, P.REJECTED, P.PROPOSED, P.SUCCEEDED, P.APPROVED]


def proposal(n: int) -> StoredProposal:
    return StoredProposal.create(
        principal=f"arn:aws:iam::{111122223333 + n % 2}:role/app-{n % 3}",
        document={"proposed_policy": policy(), **DOCUMENTS[n % len(DOCUMENTS)]},
        plan={"n": n},
        created_by="dana",
        created_at=T0 + timedelta(minutes=n // 2),  # ties: ordered by id
    )


def filled(store: Store) -> Store:
    for n, state in enumerate(STATES):
        made = proposal(n)
        store.save_proposal(made)
        if state is not P.PROPOSED:
            store.set_state(made.id, state, P.PROPOSED)
    return store


@pytest.fixture
def stores(tmp_path: Path) -> Iterator[tuple[Store, Store]]:
    sqlite = SQLiteStore(tmp_path / "alpha.db")
    yield filled(sqlite), filled(MemoryStore())
    sqlite.close()


QUERIES = [
    SummaryQuery(),
    SummaryQuery(limit=None),
    SummaryQuery(P.PROPOSED),
    SummaryQuery(P.APPROVED, offset=1, limit=1),
    SummaryQuery(offset=2, limit=3),
    SummaryQuery(offset=50),
    SummaryQuery(P.FAILED),
    SummaryQuery(limit=0),
]


@pytest.mark.parametrize("query", QUERIES)
def test_the_sqlite_query_and_the_fallback_agree(
    stores: tuple[Store, Store], query: SummaryQuery
) -> None:
    sqlite, memory = stores
    assert isinstance(sqlite, ProposalSummaries)
    assert not isinstance(memory, ProposalSummaries)
    assert page_summaries(sqlite, query) == page_summaries(memory, query)


def test_a_page_is_newest_first_with_the_counts_of_every_state(
    stores: tuple[Store, Store],
) -> None:
    page = page_summaries(stores[0], SummaryQuery(limit=None))
    assert [(s.created_at, s.id) for s in page.items] == sorted(
        ((s.created_at, s.id) for s in page.items), reverse=True
    )
    assert page.total == len(STATES)
    assert page.by_state["proposed"] == 3
    assert page.by_state["failed"] == 0
    first = next(s for s in page.items if s.id == proposal(0).id)
    assert (first.privilege_reduction, first.probability_of_break, first.blocked) == (
        0.5, 0.25, True,
    )  # fmt: skip
    assert (first.violations, first.grants_removed) == (2, 7)


def test_principals(stores: tuple[Store, Store]) -> None:
    sqlite, memory = stores
    assert (
        principals_of(sqlite)
        == principals_of(memory)
        == sorted({proposal(n).principal for n in range(len(STATES))})
    )


@pytest.mark.parametrize(("offset", "limit"), [(-1, 5), (0, -1)])
def test_a_query_is_checked(offset: int, limit: int) -> None:
    with pytest.raises(ValueError, match="a page starts at 0"):
        SummaryQuery(offset=offset, limit=limit)


def test_fields_of_a_damaged_document_are_empty() -> None:
    assert summary_fields({"diff": [], "risk_signal": "x", "blocked": "yes"}) == {
        "privilege_reduction": None, "probability_of_break": None, "blocked": False,
        "violations": 0, "grants_removed": None,
    }  # fmt: skip


class _OneStore:
    """Backends that open the SQLite store at `path` (only what the held store uses)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.opened = 0

    def open_store(self) -> SQLiteStore:
        self.opened += 1
        return SQLiteStore(self.path)


def test_the_held_store_is_opened_once_and_sees_other_writers(tmp_path: Path) -> None:
    inner = _OneStore(tmp_path / "alpha.db")
    held = HeldStoreBackends(inner)  # type: ignore[arg-type]
    with held.open_store() as store:
        assert store.proposals() == []
    with SQLiteStore(inner.path) as other:  # another process
        other.save_proposal(proposal(1))
    with held.open_store() as store:
        assert [p.id for p in store.proposals()] == [proposal(1).id]
    assert inner.opened == 1
    held.close()


def test_the_sqlite_store_keeps_up_with_new_proposals_and_states(
    stores: tuple[Store, Store],
) -> None:
    sqlite, memory = stores
    page_summaries(sqlite, SummaryQuery())  # what it read is kept from here on
    for store in stores:
        newest = proposal(len(STATES) + 5)
        store.save_proposal(newest)
        store.set_state(proposal(0).id, P.REJECTED, P.PROPOSED)
    for query in QUERIES:
        assert page_summaries(sqlite, query) == page_summaries(memory, query)
    assert page_summaries(sqlite, SummaryQuery()).items[0].id == newest.id
