"""Proposal summaries: the few fields a list or a chart shows, a page at a time.

`ProposalSummaries` is an optional port beside `Store` (which stays as it is): a store that can
answer it without reading whole proposals (SQLite: one query over the columns and a few JSON
fields) implements it, and `summaries_of` answers it for any other store by reading them all.
A summary is for showing and counting; a decision always reads the proposal itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from alpha.store.model import JsonDict, ProposalState, StoredProposal, short_id
from alpha.store.ports import Store

__all__ = [
    "ProposalSummaries",
    "ProposalSummary",
    "SummaryPage",
    "SummaryQuery",
    "page_summaries",
    "principals_of",
    "summary_fields",
]


@dataclass(frozen=True, slots=True)
class ProposalSummary:
    """One proposal as a list shows it."""

    id: str
    principal: str
    created_at: datetime
    created_by: str
    state: ProposalState
    privilege_reduction: float | None = None
    probability_of_break: float | None = None
    blocked: bool = False
    violations: int = 0
    grants_removed: int | None = None

    @property
    def short_id(self) -> str:
        return short_id(self.id)


@dataclass(frozen=True, slots=True)
class SummaryQuery:
    """Which page: proposals in `state` (every state when None), newest first, `limit` from
    `offset` (every one when `limit` is None)."""

    state: ProposalState | None = None
    offset: int = 0
    limit: int | None = 50

    def __post_init__(self) -> None:
        if self.offset < 0 or (self.limit is not None and self.limit < 0):
            raise ValueError(f"a page starts at 0 or later and holds 0 or more: {self!r}")


@dataclass(frozen=True, slots=True)
class SummaryPage:
    """The page's summaries, how many match the query, and how many are in each state."""

    items: tuple[ProposalSummary, ...]
    total: int
    by_state: dict[str, int] = field(default_factory=dict)


@runtime_checkable
class ProposalSummaries(Protocol):
    """What a store that can page through proposals cheaply offers besides `Store`."""

    def proposal_summaries(self, query: SummaryQuery) -> SummaryPage: ...

    def proposal_principals(self) -> list[str]:
        """Every principal some proposal is for, sorted."""
        ...


def summary_fields(document: JsonDict) -> dict[str, Any]:
    """The summary's fields taken from a proposal's document (tolerant of missing parts)."""
    diff = _table(document.get("diff"))
    risk = _table(document.get("risk_signal"))
    grants = _table(diff.get("grants"))
    violations = document.get("guardrail_violations")
    return {
        "privilege_reduction": _number(diff.get("privilege_reduction")),
        "probability_of_break": _number(risk.get("probability_of_break")),
        "blocked": document.get("blocked") is True,
        "violations": len(violations) if isinstance(violations, list) else 0,
        "grants_removed": _count(grants.get("removed")),
    }


def summary_of(proposal: StoredProposal, state: ProposalState) -> ProposalSummary:
    return ProposalSummary(
        proposal.id,
        proposal.principal,
        proposal.created_at,
        proposal.created_by,
        state,
        **summary_fields(proposal.document),
    )


def page_summaries(store: Store, query: SummaryQuery) -> SummaryPage:
    """The page, from the store's own query when it has one, else by reading every proposal."""
    if isinstance(store, ProposalSummaries):
        return store.proposal_summaries(query)
    every = [summary_of(p, store.proposal_state(p.id)) for p in store.proposals()]
    every.sort(key=lambda s: (s.created_at, s.id), reverse=True)
    by_state = {s.value: 0 for s in ProposalState}
    for summary in every:
        by_state[summary.state.value] += 1
    matching = [s for s in every if query.state is None or s.state is query.state]
    end = None if query.limit is None else query.offset + query.limit
    return SummaryPage(tuple(matching[query.offset : end]), len(matching), by_state)


def principals_of(store: Store) -> list[str]:
    if isinstance(store, ProposalSummaries):
        return store.proposal_principals()
    return sorted({p.principal for p in store.proposals()})


def _table(value: object) -> JsonDict:
    return value if isinstance(value, dict) else {}


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _count(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None
