"""The `Store` port on one SQLite file (`.alpha/alpha.db` by default): the embedded default.

Safe with several alpha processes at once: WAL mode, a busy timeout, and every write inside
`BEGIN IMMEDIATE`, so a read-check-write (the state compare-and-set, the journal's next number,
a lease) holds the write lock from its read on. A file that is not an intact ALPHA store is
refused with a `StoreError` and left as it was; a new store is built beside the target and
linked into place, so a crash while creating never leaves a half-made store behind.

Every write is recorded in a hash chain (`alpha.store.chain`, `sqlite_chain`). The whole store is
checked against it when opened, every row read is checked again, and each write first checks
the entries added since: a store edited outside alpha raises `TamperedStoreError` naming the
table and row, and is never written to.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from alpha.adapters.local.sqlite_chain import (
    APPROVALS,
    AUDIT,
    COPIES,
    JOURNAL,
    PROPOSALS,
    STAGES,
    STATES,
    Scope,
)
from alpha.adapters.local.sqlite_database import Database
from alpha.adapters.local.sqlite_rows import (
    PROPOSAL_COLUMNS,
    approval_of,
    audit_event_of,
    copy_document_of,
    copy_version_of,
    journal_entry_of,
    json_text,
    lease_of,
    proposal_of,
    read_row,
    stage_of,
    state_of,
    time_text,
)
from alpha.store.chain import ChainHead
from alpha.store.errors import ProposalNotFoundError, StoreError
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
    lease_free_for,
    lease_request,
    normalise_prefix,
    single_match,
)
from alpha.store.summaries import SummaryPage, SummaryQuery

if TYPE_CHECKING:
    from alpha.adapters.local.sqlite_summaries import SummaryCache

__all__ = ["SQLiteStore"]


DEFAULT_PATH = Path(".alpha") / "alpha.db"
"""Where the CLI keeps the store, relative to the current folder, unless configured."""


class SQLiteStore:
    """The `Store` port on an SQLite file. Open one per process; close it when done.

    `key` (at least 16 bytes, from outside the store: the adapter reads no environment) makes
    the chain's links HMACs only its holders can make; a store sealed with a key opens only with
    it. `anchor`, a head kept from before (`chain_head`), must still be in the chain."""

    def __init__(
        self,
        path: Path,
        *,
        busy_timeout: float = 30.0,
        key: bytes | None = None,
        anchor: ChainHead | None = None,
    ) -> None:
        self.path = Path(path)
        self._db = Database(self.path, busy_timeout, key, anchor)
        self._summaries: SummaryCache | None = None

    def __enter__(self) -> SQLiteStore:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        self._db.close()

    def transaction(self) -> AbstractContextManager[None]:
        """Everything inside commits together; the write lock is held throughout, and the
        chain's entries added since the last check are checked first."""
        return self._db.transaction()

    # The chain ---------------------------------------------------------------------------
    def chain_head(self) -> ChainHead:
        """The chain's last entry, its links checked: keep it outside the store and pass it
        as `anchor` later to show the chain was neither rewritten nor cut back."""
        return self._db.chain_head()

    def seal(self, key: bytes) -> ChainHead:
        """Make every link again as an HMAC under `key`, after checking the chain as it is:
        from then on the store opens only with that key (this also changes the key of a keyed
        store). Sealing vouches for the store as it is now."""
        return self._db.seal(key)

    # Proposals ---------------------------------------------------------------------------
    def save_proposal(self, proposal: StoredProposal) -> bool:
        with self.transaction():
            if self._db.rows(PROPOSALS, Scope(proposal.id)):
                return False
            self._db.execute(
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
            self._db.execute(
                "INSERT INTO proposal_states (proposal_id, state) VALUES (?, ?)",
                (proposal.id, ProposalState.PROPOSED.value),
            )
            self._db.record(PROPOSALS, Scope(proposal.id), once=True)
            self._db.record(STATES, Scope(proposal.id))
            return True

    def proposal(self, proposal_id: str) -> StoredProposal | None:
        found = self._db.records(PROPOSALS, Scope(proposal_id), proposal_of)
        return found[0] if found else None

    def find_proposal(self, prefix: str) -> StoredProposal:
        wanted = normalise_prefix(prefix)
        rows = self._db.query(
            "SELECT id FROM proposals WHERE substr(id, 1, ?) = ? LIMIT 6", (len(wanted), wanted)
        )
        full_id = single_match(prefix, [row[0] for row in rows])
        found = self.proposal(full_id)
        if found is None:  # cannot happen: proposals are never deleted
            raise _not_found(full_id)
        return found

    def proposals(self, state: ProposalState | None = None) -> list[StoredProposal]:
        with self._db.reading():
            found = self._db.records(PROPOSALS, Scope(), proposal_of)
            if state is None:
                return found
            states = self._states(Scope())
        return [proposal for proposal in found if states.get(proposal.id) is state]

    def proposal_summaries(self, query: SummaryQuery) -> SummaryPage:
        """A page of summaries (`alpha.store.summaries`), without reading whole documents
        again: what they take from each proposal is kept from the first call on."""
        return self._summary_cache().page(self._db, query)

    def proposal_principals(self) -> list[str]:
        return self._summary_cache().principals(self._db)

    def _summary_cache(self) -> SummaryCache:
        from alpha.adapters.local.sqlite_summaries import SummaryCache

        if self._summaries is None:
            self._summaries = SummaryCache()
        return self._summaries

    # States ------------------------------------------------------------------------------
    def proposal_state(self, proposal_id: str) -> ProposalState:
        found = self._states(Scope(proposal_id))
        if proposal_id not in found:
            raise _not_found(proposal_id)
        return found[proposal_id]

    def set_state(self, proposal_id: str, new: ProposalState, expected_old: ProposalState) -> bool:
        with self.transaction():
            if self.proposal_state(proposal_id) is not expected_old:
                return False
            self._db.execute(
                "UPDATE proposal_states SET state = ? WHERE proposal_id = ?",
                (new.value, proposal_id),
            )
            self._db.record(STATES, Scope(proposal_id))
            return True

    # Approvals ---------------------------------------------------------------------------
    def record_approval(self, approval: Approval) -> None:
        with self.transaction():
            self._require(approval.proposal_id)
            seq = self._db.execute(
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
            ).lastrowid
            self._db.record(APPROVALS, Scope(approval.proposal_id, seq), once=True)

    def approvals(self, proposal_id: str) -> list[Approval]:
        return self._db.records(APPROVALS, Scope(proposal_id), approval_of)

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
            self._db.execute(
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
            self._db.record(STAGES, Scope(record.proposal_id, record.stage.value))

    def stage(self, proposal_id: str, stage: Stage) -> StageRecord | None:
        found = self._db.records(STAGES, Scope(proposal_id, stage.value), stage_of)
        return found[0] if found else None

    def stages(self, proposal_id: str) -> list[StageRecord]:
        return self._db.records(STAGES, Scope(proposal_id), stage_of)

    # Journal -----------------------------------------------------------------------------
    def append_journal(
        self, proposal_id: str, step: str, phase: JournalPhase, payload: JsonDict, at: datetime
    ) -> JournalEntry:
        with self.transaction():
            self._require(proposal_id)
            seq = 1 + max(
                (int(row[1]) for row in self._db.rows(JOURNAL, Scope(proposal_id))), default=0
            )
            entry = JournalEntry(proposal_id, seq, step, JournalPhase(phase), payload, at)
            self._db.execute(
                "INSERT INTO journal (proposal_id, seq, step, phase, payload, at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (proposal_id, seq, step, entry.phase.value, json_text(payload), time_text(at)),
            )
            row = self._db.record(JOURNAL, Scope(proposal_id, seq), once=True)
        return self._db.read(JOURNAL, row, journal_entry_of)

    def journal(self, proposal_id: str) -> list[JournalEntry]:
        return self._db.records(JOURNAL, Scope(proposal_id), journal_entry_of)

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
            seq = self._db.execute(
                "INSERT INTO audit (at, proposal_id, actor, action, reason, details)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (time_text(at), proposal_id, actor, action, reason, json_text(details or {})),
            ).lastrowid
            row = self._db.record(AUDIT, Scope(key=seq), once=True)
        return self._db.read(AUDIT, row, audit_event_of)

    def audit(self, proposal_id: str | None = None) -> list[AuditEvent]:
        return self._db.records(AUDIT, Scope(proposal_id), audit_event_of)

    # Working copies of accounts ----------------------------------------------------------
    def save_account_copy(self, name: str, document: JsonDict) -> int:
        with self.transaction():
            version = self.account_copy_version(name) + 1
            self._db.execute(
                "INSERT INTO account_copies (name, version, document) VALUES (?, ?, ?)"
                " ON CONFLICT (name) DO UPDATE SET version = excluded.version,"
                " document = excluded.document",
                (name, version, json_text(document)),
            )
            self._db.record(COPIES, Scope(key=name))
            return version

    def account_copy(self, name: str) -> JsonDict | None:
        found = self._db.records(COPIES, Scope(key=name), copy_document_of)
        return found[0] if found else None

    def account_copy_version(self, name: str) -> int:
        found = self._db.records(COPIES, Scope(key=name), copy_version_of)
        return found[0] if found else 0

    # Leases ------------------------------------------------------------------------------
    def acquire_lease(self, name: str, holder: str, until: datetime, now: datetime) -> bool:
        lease_request(name, holder, until, now)
        with self.transaction():
            if not lease_free_for(self.lease(name), holder, now):
                return False
            self._db.execute(
                "INSERT INTO leases (name, holder, until) VALUES (?, ?, ?) ON CONFLICT (name)"
                " DO UPDATE SET holder = excluded.holder, until = excluded.until",
                (name, holder, time_text(until)),
            )
            return True

    def release_lease(self, name: str, holder: str) -> None:
        with self.transaction():
            self._db.execute("DELETE FROM leases WHERE name = ? AND holder = ?", (name, holder))

    def lease(self, name: str) -> Lease | None:
        rows = self._db.query("SELECT name, holder, until FROM leases WHERE name = ?", (name,))
        place = f"table leases, row name {name}"
        return read_row(self.path, place, lease_of, rows[0]) if rows else None

    # Helpers ---------------------------------------------------------------------------
    def _states(self, scope: Scope) -> dict[str, ProposalState]:
        return dict(self._db.records(STATES, scope, state_of))

    def _require(self, proposal_id: str) -> None:
        if not self._db.rows(PROPOSALS, Scope(proposal_id)):
            raise _not_found(proposal_id)


def _not_found(proposal_id: str) -> ProposalNotFoundError:
    return ProposalNotFoundError(f"no proposal has the id {proposal_id!r}")
