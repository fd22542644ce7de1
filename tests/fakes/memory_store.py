"""`MemoryStore`: the `Store` port in plain dicts, for tests of the packages that use a store.

Same semantics as the SQLite adapter: proposals are immutable, `set_state` and `acquire_lease`
are compare-and-sets, `previous_state` is write-once, the audit log is append-only, and
`transaction()` rolls every change back when its block raises (nested blocks join the
outermost). There is no hash chain: nothing outside the process can edit a dict.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TypeVar

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

_T = TypeVar("_T")
_STAGE_ORDER = {stage: index for index, stage in enumerate(Stage)}


@dataclass
class _Data:
    proposals: dict[str, StoredProposal] = field(default_factory=dict)
    states: dict[str, ProposalState] = field(default_factory=dict)
    approvals: dict[str, list[Approval]] = field(default_factory=dict)
    stages: dict[tuple[str, Stage], StageRecord] = field(default_factory=dict)
    journal: dict[str, list[JournalEntry]] = field(default_factory=dict)
    audit: list[AuditEvent] = field(default_factory=list)
    copies: dict[str, tuple[int, JsonDict]] = field(default_factory=dict)
    leases: dict[str, Lease] = field(default_factory=dict)


class MemoryStore:
    """The `Store` port without a file. JSON values are deep-copied in and out, like a real
    store, so a caller mutating a dict it passed in or got back changes nothing stored."""

    def __init__(self) -> None:
        self._data = _Data()
        self.closed = False

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Every block, nested or not, is undone alone if it raises (like a savepoint)."""
        saved = copy.deepcopy(self._data)
        try:
            yield
        except BaseException:
            self._data = saved
            raise

    def close(self) -> None:
        self.closed = True

    # Proposals
    def save_proposal(self, proposal: StoredProposal) -> bool:
        if proposal.id in self._data.proposals:
            return False
        self._data.proposals[proposal.id] = _copied(proposal)
        self._data.states[proposal.id] = ProposalState.PROPOSED
        return True

    def proposal(self, proposal_id: str) -> StoredProposal | None:
        found = self._data.proposals.get(proposal_id)
        return None if found is None else _copied(found)

    def find_proposal(self, prefix: str) -> StoredProposal:
        wanted = normalise_prefix(prefix)
        matches = [pid for pid in self._data.proposals if pid.startswith(wanted)]
        return _copied(self._data.proposals[single_match(prefix, matches)])

    def proposals(self, state: ProposalState | None = None) -> list[StoredProposal]:
        chosen = [
            p
            for p in self._data.proposals.values()
            if state is None or self._data.states[p.id] is state
        ]
        return [_copied(p) for p in sorted(chosen, key=lambda p: (p.created_at, p.id))]

    # States
    def proposal_state(self, proposal_id: str) -> ProposalState:
        self._require(proposal_id)
        return self._data.states[proposal_id]

    def set_state(self, proposal_id: str, new: ProposalState, expected_old: ProposalState) -> bool:
        self._require(proposal_id)
        if self._data.states[proposal_id] is not expected_old:
            return False
        self._data.states[proposal_id] = new
        return True

    # Approvals
    def record_approval(self, approval: Approval) -> None:
        self._require(approval.proposal_id)
        self._data.approvals.setdefault(approval.proposal_id, []).append(approval)

    def approvals(self, proposal_id: str) -> list[Approval]:
        recorded = self._data.approvals.get(proposal_id, [])
        order = sorted(range(len(recorded)), key=lambda i: (recorded[i].timestamp, i))
        return [recorded[i] for i in order]

    def latest_approval(self, proposal_id: str) -> Approval | None:
        ordered = self.approvals(proposal_id)
        return ordered[-1] if ordered else None

    # Stages
    def save_stage(self, record: StageRecord) -> None:
        self._require(record.proposal_id)
        key = (record.proposal_id, record.stage)
        stored = self._data.stages.get(key)
        if stored is not None and stored.previous_state is not None:
            if record.previous_state is None:
                record = replace(record, previous_state=stored.previous_state)
            elif record.previous_state != stored.previous_state:
                raise StoreError(
                    f"the previous IAM state of proposal {record.proposal_id[:12]} at stage "
                    f"{record.stage} is already recorded and cannot change"
                )
        self._data.stages[key] = _copied(record)

    def stage(self, proposal_id: str, stage: Stage) -> StageRecord | None:
        found = self._data.stages.get((proposal_id, stage))
        return None if found is None else _copied(found)

    def stages(self, proposal_id: str) -> list[StageRecord]:
        mine = [r for (pid, _), r in self._data.stages.items() if pid == proposal_id]
        return [_copied(r) for r in sorted(mine, key=lambda r: _STAGE_ORDER[r.stage])]

    # Journal
    def append_journal(
        self, proposal_id: str, step: str, phase: JournalPhase, payload: JsonDict, at: datetime
    ) -> JournalEntry:
        self._require(proposal_id)
        entries = self._data.journal.setdefault(proposal_id, [])
        entry = JournalEntry(proposal_id, len(entries) + 1, step, phase, copy.deepcopy(payload), at)
        entries.append(entry)
        return _copied(entry)

    def journal(self, proposal_id: str) -> list[JournalEntry]:
        return [_copied(e) for e in self._data.journal.get(proposal_id, [])]

    # Audit
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
        if proposal_id is not None:
            self._require(proposal_id)
        event = AuditEvent(
            seq=len(self._data.audit) + 1,
            at=at,
            proposal_id=proposal_id,
            actor=actor,
            action=action,
            reason=reason,
            details=copy.deepcopy(details or {}),
        )
        self._data.audit.append(event)
        return _copied(event)

    def audit(self, proposal_id: str | None = None) -> list[AuditEvent]:
        return [
            _copied(e)
            for e in self._data.audit
            if proposal_id is None or e.proposal_id == proposal_id
        ]

    # Account copies
    def save_account_copy(self, name: str, document: JsonDict) -> int:
        version = self.account_copy_version(name) + 1
        self._data.copies[name] = (version, copy.deepcopy(document))
        return version

    def account_copy(self, name: str) -> JsonDict | None:
        found = self._data.copies.get(name)
        return None if found is None else copy.deepcopy(found[1])

    def account_copy_version(self, name: str) -> int:
        found = self._data.copies.get(name)
        return 0 if found is None else found[0]

    # Leases
    def acquire_lease(self, name: str, holder: str, until: datetime, now: datetime) -> bool:
        wanted = lease_request(name, holder, until, now)
        if not lease_free_for(self._data.leases.get(name), holder, now):
            return False
        self._data.leases[name] = wanted
        return True

    def release_lease(self, name: str, holder: str) -> None:
        held = self._data.leases.get(name)
        if held is not None and held.holder == holder:
            del self._data.leases[name]

    def lease(self, name: str) -> Lease | None:
        return self._data.leases.get(name)

    def _require(self, proposal_id: str) -> None:
        if proposal_id not in self._data.proposals:
            raise ProposalNotFoundError(f"no proposal has the id {proposal_id!r}")


def _copied(value: _T) -> _T:
    return copy.deepcopy(value)
