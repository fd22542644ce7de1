"""`ProposalSummaries` on the SQLite store: a page of proposals in two queries, the first over
the short columns only (ids in order), the second taking a few fields out of the page's
documents with SQLite's JSON functions, so a page of a store with thousands of large proposals
reads a few hundred kilobytes, not the store.

Summaries are read without checking each row against the hash chain (a check hashes the whole
document): the store was checked whole when opened, and everything a decision or the proposal
page shows is read through the checked reads of `SQLiteStore`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from alpha.adapters.local.sqlite_database import Database
from alpha.adapters.local.sqlite_rows import read_row, time_of
from alpha.store.model import ProposalState
from alpha.store.summaries import ProposalSummary, SummaryPage, SummaryQuery

_ORDERED = (
    "SELECT p.id FROM proposals p JOIN proposal_states s ON s.proposal_id = p.id"
    " WHERE (?1 IS NULL OR s.state = ?1) ORDER BY p.created_at DESC, p.id DESC"
    " LIMIT ?2 OFFSET ?3"
)
_FIELDS = (
    "SELECT p.id, p.principal, p.created_at, p.created_by, s.state,"
    " json_extract(p.document, '$.diff.privilege_reduction'),"
    " json_extract(p.document, '$.risk_signal.probability_of_break'),"
    " json_type(p.document, '$.blocked') = 'true',"
    " json_array_length(p.document, '$.guardrail_violations'),"
    " json_extract(p.document, '$.diff.grants.removed')"
    " FROM proposals p JOIN proposal_states s ON s.proposal_id = p.id WHERE p.id IN ({marks})"
)
_BATCH = 500  # ids per IN (...): well under SQLite's limit on parameters


def summaries(db: Database, query: SummaryQuery) -> SummaryPage:
    state = None if query.state is None else query.state.value
    with db.reading():
        limit = -1 if query.limit is None else query.limit  # -1: no limit, to SQLite
        ids = [row[0] for row in db.query(_ORDERED, (state, limit, query.offset))]
        found = {row[0]: row for row in _fields(db, ids)}
        by_state = {s.value: 0 for s in ProposalState}
        for name, count in db.query(
            "SELECT state, count(*) FROM proposal_states GROUP BY state", ()
        ):
            by_state[name] = count
    total = sum(by_state.values()) if state is None else by_state.get(state, 0)
    items = tuple(_summary(db.path, found[pid]) for pid in ids if pid in found)
    return SummaryPage(items, total, by_state)


def principals(db: Database) -> list[str]:
    return [row[0] for row in db.query("SELECT DISTINCT principal FROM proposals ORDER BY 1", ())]


def _fields(db: Database, ids: list[str]) -> list[Any]:
    rows: list[Any] = []
    for start in range(0, len(ids), _BATCH):
        batch = ids[start : start + _BATCH]
        rows += db.query(_FIELDS.format(marks=", ".join("?" * len(batch))), batch)
    return rows


def _summary(path: Path, row: Sequence[Any]) -> ProposalSummary:
    place = f"table proposals, row id {str(row[0])[:12]}"
    return read_row(path, place, _read, row)


def _read(row: Sequence[Any]) -> ProposalSummary:
    pid, principal, created_at, created_by, state, reduction, risk, blocked, rules, removed = row
    return ProposalSummary(
        pid,
        principal,
        time_of(created_at),
        created_by,
        ProposalState(state),
        privilege_reduction=_number(reduction),
        probability_of_break=_number(risk),
        blocked=blocked == 1,
        violations=rules or 0,
        grants_removed=removed if isinstance(removed, int) else None,
    )


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) else None
