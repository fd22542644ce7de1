"""The `Store` port: where the workflow keeps its state. Adapters: SQLite (the embedded
default, `alpha.adapters.local.sqlite_store.SQLiteStore`); a pure in-memory fake for tests
(`tests/fakes/memory_store.py`).

Writes are atomic one by one; `transaction()` groups several into one (nested use joins the
outermost, which commits). Errors the user can act on are `StoreError`s.

A store that keeps its data where others can edit it (SQLite: a file) shows edits made outside
alpha: every read is checked against its hash chain (`alpha.store.chain`), and a store that does
not match raises `TamperedStoreError` naming the table and row, and takes no more writes.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from datetime import datetime
from typing import Protocol

from alpha.store.model import (
    Approval,
    AuditEvent,
    JournalEntry,
    JournalPhase,
    JsonDict,
    Lease,
    ProposalState,
    Stage,
    StageRecord,
    StoredProposal,
)

__all__ = ["Store"]


class Store(Protocol):
    """Proposals, approvals, rollout stages, the step journal, proposal states, the audit log
    and working copies of accounts."""

    def transaction(self) -> AbstractContextManager[None]:
        """Everything inside commits together or not at all; holds the write lock throughout,
        so a read-check-write inside is atomic against other processes."""
        ...

    def close(self) -> None: ...

    # Proposals ---------------------------------------------------------------------------
    def save_proposal(self, proposal: StoredProposal) -> bool:
        """Store it with state `proposed`. True if new; False (and nothing changes) if a
        proposal with that id is already stored."""
        ...

    def proposal(self, proposal_id: str) -> StoredProposal | None:
        """The proposal with exactly this full id."""
        ...

    def find_proposal(self, prefix: str) -> StoredProposal:
        """The one proposal whose id starts with `prefix` (>= 6 hex chars).
        `ProposalNotFoundError`, `AmbiguousProposalError`, or `StoreError` for a bad prefix."""
        ...

    def proposals(self, state: ProposalState | None = None) -> list[StoredProposal]:
        """All proposals (or those in `state`), oldest first."""
        ...

    # States ------------------------------------------------------------------------------
    def proposal_state(self, proposal_id: str) -> ProposalState:
        """`ProposalNotFoundError` if there is no such proposal."""
        ...

    def set_state(self, proposal_id: str, new: ProposalState, expected_old: ProposalState) -> bool:
        """Compare-and-set: move to `new` only if the state is `expected_old`. True if moved;
        False if the state was something else (another process got there first).
        `ProposalNotFoundError` if there is no such proposal."""
        ...

    # Approvals ---------------------------------------------------------------------------
    def record_approval(self, approval: Approval) -> None:
        """Append a decision; `ProposalNotFoundError` if the proposal is not stored."""
        ...

    def approvals(self, proposal_id: str) -> list[Approval]:
        """Every decision on the proposal, oldest first."""
        ...

    def latest_approval(self, proposal_id: str) -> Approval | None:
        """The decision with the latest timestamp (ties: the one recorded last)."""
        ...

    # Rollout stages ----------------------------------------------------------------------
    def save_stage(self, record: StageRecord) -> None:
        """Insert or replace the record for (proposal, stage). `previous_state` is write-once:
        replacing a stored one with a different value is a `StoreError`; passing None keeps
        the stored one."""
        ...

    def stage(self, proposal_id: str, stage: Stage) -> StageRecord | None: ...

    def stages(self, proposal_id: str) -> list[StageRecord]:
        """The proposal's stage records, in stage order (sandbox, canary, production)."""
        ...

    # Journal -----------------------------------------------------------------------------
    def append_journal(
        self,
        proposal_id: str,
        step: str,
        phase: JournalPhase,
        payload: JsonDict,
        at: datetime,
    ) -> JournalEntry:
        """Append an entry, numbering it after the proposal's last one."""
        ...

    def journal(self, proposal_id: str) -> list[JournalEntry]:
        """The proposal's entries in `seq` order."""
        ...

    # Audit (append-only) -----------------------------------------------------------------
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
        """Append an event; there is no way to change or remove one."""
        ...

    def audit(self, proposal_id: str | None = None) -> list[AuditEvent]:
        """Events in `seq` order: all of them, or those about one proposal."""
        ...

    # Working copies of accounts ----------------------------------------------------------
    def save_account_copy(self, name: str, document: JsonDict) -> int:
        """Replace the working copy called `name`; returns its new version (1 for the first)."""
        ...

    def account_copy(self, name: str) -> JsonDict | None: ...

    def account_copy_version(self, name: str) -> int:
        """0 when there is no copy by that name."""
        ...

    # Leases ------------------------------------------------------------------------------
    def acquire_lease(self, name: str, holder: str, until: datetime, now: datetime) -> bool:
        """Compare-and-set across processes: take the lease `name` for `holder` until `until`
        if it is free, expired (its `until` is not after `now`) or already `holder`'s (then
        it is extended to `until`). True if `holder` now holds it; False if another holder
        does. ValueError for an empty name or holder, or `until` not after `now`."""
        ...

    def release_lease(self, name: str, holder: str) -> None:
        """Free the lease if `holder` holds it; nothing happens if it is free or another
        holder's (one that took it after `holder`'s expired)."""
        ...

    def lease(self, name: str) -> Lease | None:
        """The lease as stored (perhaps expired: see `Lease.held_at`); None if free."""
        ...
