"""`ProposalSummaries` on the SQLite store. What a summary takes from a proposal's row never
changes (proposals are immutable), so a store instance reads it once, the few document fields
picked out by SQLite's JSON functions: each later call reads only the proposals added since
(by rowid: proposals are never deleted) and the states. Ordering, filtering and paging are then
done in memory over a few small values per proposal, so a server holding the store open pages
through thousands of large proposals in milliseconds.

Summaries are read without checking each row against the hash chain (a check hashes the whole
document): the store was checked whole when opened, and everything a decision or the proposal
page shows is read through the checked reads of `SQLiteStore`.
"""

from __future__ import annotations

import bisect
import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from alpha.adapters.local.sqlite_database import Database
from alpha.adapters.local.sqlite_rows import read_row, time_of
from alpha.store.model import ProposalState
from alpha.store.summaries import ProposalSummary, SummaryPage, SummaryQuery, summary_fields

_NEW_ROWS = (
    "SELECT rowid, id, principal, created_at, created_by, json_extract(document,"
    " '$.diff.privilege_reduction', '$.risk_signal.probability_of_break', '$.blocked',"
    " '$.guardrail_violations', '$.diff.grants.removed')"
    " FROM proposals WHERE rowid > ? ORDER BY rowid"
)


@dataclass(frozen=True, slots=True)
class _Fixed:
    principal: str
    created_at: datetime
    created_by: str
    fields: dict[str, Any]


class SummaryCache:
    """The unchanging part of every proposal's summary, caught up on each call."""

    def __init__(self) -> None:
        self._fixed: dict[str, _Fixed] = {}
        self._order: list[tuple[str, str]] = []  # (created_at as stored, id): time order
        self._last_rowid = 0

    def page(self, db: Database, query: SummaryQuery) -> SummaryPage:
        with db.reading():
            self._catch_up(db)
            states = dict(db.query("SELECT proposal_id, state FROM proposal_states", ()))
        by_state = {s.value: 0 for s in ProposalState}
        for state in states.values():
            by_state[state] = by_state.get(state, 0) + 1
        wanted = None if query.state is None else query.state.value
        newest_first = (pid for _, pid in reversed(self._order))
        matching = [pid for pid in newest_first if wanted is None or states.get(pid) == wanted]
        end = None if query.limit is None else query.offset + query.limit
        items = tuple(self._summary(pid, states[pid]) for pid in matching[query.offset : end])
        return SummaryPage(items, len(matching), by_state)

    def principals(self, db: Database) -> list[str]:
        with db.reading():
            self._catch_up(db)
        return sorted({fixed.principal for fixed in self._fixed.values()})

    def _catch_up(self, db: Database) -> None:
        for row in db.query(_NEW_ROWS, (self._last_rowid,)):
            rowid, pid, created_at = row[0], row[1], row[3]
            self._fixed[pid] = _read(db.path, row)
            bisect.insort(self._order, (created_at, pid))
            self._last_rowid = rowid

    def _summary(self, pid: str, state: str) -> ProposalSummary:
        fixed = self._fixed[pid]
        return ProposalSummary(
            pid,
            fixed.principal,
            fixed.created_at,
            fixed.created_by,
            ProposalState(state),
            **fixed.fields,
        )


def _read(path: Path, row: Any) -> _Fixed:
    place = f"table proposals, row id {str(row[1])[:12]}"
    return read_row(path, place, _fixed, row)


def _fixed(row: Any) -> _Fixed:
    _, _, principal, created_at, created_by, picked = row
    reduction, risk, blocked, violations, removed = json.loads(picked)
    document = {
        "diff": {"privilege_reduction": reduction, "grants": {"removed": removed}},
        "risk_signal": {"probability_of_break": risk},
        "blocked": blocked,
        "guardrail_violations": violations,
    }
    return _Fixed(principal, time_of(created_at), created_by, summary_fields(document))
