"""The `Store` port on DynamoDB (`ALPHA_STORE=dynamodb://PREFIX`): for a team that runs alpha
from several machines, Lambda or a web console against one AWS account.

Tables (`alpha.adapters.aws.dynamodb_schema`, docs/aws/dynamodb.md) are created when missing.
Every write runs in a store transaction (`dynamodb_tables`): the store's write lock, reads
through the transaction's own writes, and one TransactWriteItems at the end whose conditions
make every compare-and-set hold even if the lock ran out. Large JSON values are compressed and
split into the blobs table (`dynamodb_items`). The audit log and the approvals are
hash-chained (`dynamodb_chain`), keyed with the store key when one is given.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING

from alpha.adapters.aws.dynamodb_chain import LogChain
from alpha.adapters.aws.dynamodb_items import (
    BlobDamagedError,
    JsonValues,
    approval_digest,
    approval_item,
    approval_key,
    approval_of,
    audit_digest,
    audit_fields,
    journal_entry_of,
    journal_item,
    lease_of,
    proposal_item,
    proposal_of,
    read_each,
    reading,
    stage_item,
    stage_of,
    time_text,
)
from alpha.adapters.aws.dynamodb_schema import (
    APPROVALS,
    BLOBS,
    COPIES,
    JOURNAL,
    LEASES,
    PROPOSALS,
    STAGES,
    ensure_tables,
)
from alpha.adapters.aws.dynamodb_tables import LOCK_NAME, Tables
from alpha.adapters.aws.dynamodb_wire import Item, absent, at_revision, next_revision
from alpha.store.chain import ChainEntry, ChainHead, Kind, Linker, RowDigest, match_rows
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
    canonical_json,
    lease_free_for,
    lease_request,
    normalise_prefix,
    single_match,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

__all__ = ["DynamoDBStore"]

_STAGE_ORDER = {stage.value: index for index, stage in enumerate(Stage)}
_COPY_READS = 3  # a copy replaced while read: its old parts go once the new one is in


class DynamoDBStore:
    """The `Store` port on the tables `PREFIX-*` reached through `client`.

    `key` (at least 16 bytes, from outside the store) makes the chain's links HMACs; a store
    whose chain began keyed opens only with it. `anchor`, a head kept from before
    (`chain_head`), must still be in the chain. `create`: make missing tables (else a missing
    table is an error when first used). `lock_seconds`: how long the store's write lock lasts
    (a crashed process frees it then); `busy_timeout`: how long to wait for it; `page_size`:
    items per Query or Scan page (None: DynamoDB's 1 MB)."""

    def __init__(
        self,
        client: DynamoDBClient,
        prefix: str,
        *,
        key: bytes | None = None,
        anchor: ChainHead | None = None,
        create: bool = True,
        lock_seconds: float = 60.0,
        busy_timeout: float = 30.0,
        page_size: int | None = None,
    ) -> None:
        if create:
            ensure_tables(client, prefix)
        self._tables = Tables(
            client,
            prefix,
            lock_seconds=lock_seconds,
            busy_timeout=busy_timeout,
            page_size=page_size,
        )
        self._values = JsonValues(self._tables)
        self._chain = LogChain(self._tables, self._values, Linker(key), anchor)
        self.where = self._tables.where

    def __enter__(self) -> DynamoDBStore:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        """Nothing to release: the client is the caller's."""

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Everything inside commits together (one TransactWriteItems) or not at all; the
        store's write lock is held throughout, and the chain's new entries checked first."""
        outermost = not self._tables.in_transaction
        with self._tables.transaction():
            if outermost:
                self._chain.check()
            yield

    def chain_head(self) -> ChainHead:
        """The chain's last entry, after checking it: keep it elsewhere, pass it as
        `anchor` (ALPHA_STORE_ANCHOR) later."""
        return self._chain.head()

    # Proposals ---------------------------------------------------------------------------
    def save_proposal(self, proposal: StoredProposal) -> bool:
        with self.transaction():
            if self._tables.get(PROPOSALS, {"proposal_id": proposal.id}) is not None:
                return False
            item = proposal_item(proposal, self._values, ProposalState.PROPOSED.value)
            self._tables.write(PROPOSALS, item, absent(PROPOSALS))
            return True

    def proposal(self, proposal_id: str) -> StoredProposal | None:
        item = self._tables.get(PROPOSALS, {"proposal_id": proposal_id})
        return None if item is None else self._proposal(item)

    def find_proposal(self, prefix: str) -> StoredProposal:
        wanted = normalise_prefix(prefix)
        items = self._tables.scan(PROPOSALS)
        matches = [str(i["proposal_id"]) for i in items if str(i["proposal_id"]).startswith(wanted)]
        found = single_match(prefix, matches)
        return next(self._proposal(item) for item in items if item["proposal_id"] == found)

    def proposals(self, state: ProposalState | None = None) -> list[StoredProposal]:
        items = [
            i for i in self._tables.scan(PROPOSALS) if state is None or i.get("state") == state
        ]
        found = [self._proposal(item) for item in items]
        return sorted(found, key=lambda p: (p.created_at, p.id))

    # States ------------------------------------------------------------------------------
    def proposal_state(self, proposal_id: str) -> ProposalState:
        item = self._require(proposal_id)
        with reading(self.where, _proposal_place(self._tables, proposal_id)):
            return ProposalState(item["state"])

    def set_state(self, proposal_id: str, new: ProposalState, expected_old: ProposalState) -> bool:
        with self.transaction():
            item = self._require(proposal_id)
            if item.get("state") != expected_old.value:
                return False
            moved = {**item, "state": new.value, "rev": next_revision(item)}
            self._tables.write(PROPOSALS, moved, at_revision(item, PROPOSALS))
            return True

    # Approvals ---------------------------------------------------------------------------
    def record_approval(self, approval: Approval) -> None:
        with self.transaction():
            self._require(approval.proposal_id)
            number = len(self._tables.query(APPROVALS, approval.proposal_id)) + 1
            key = approval_key(approval.timestamp, number)
            seq = self._chain.next_seq()
            item = approval_item(approval, key, seq)
            made = approval_digest(item)
            entry = ChainEntry(seq, Kind.APPROVAL, approval.proposal_id, key, made, "")
            self._chain.add(entry, {"key": key, "digest": made})
            self._tables.write(APPROVALS, item, absent(APPROVALS))

    def approvals(self, proposal_id: str) -> list[Approval]:
        items = self._tables.query(APPROVALS, proposal_id)
        rows = (RowDigest(proposal_id, str(i["timestamp"]), approval_digest(i)) for i in items)
        table = self._tables.name(APPROVALS)
        pattern = f"table {table}, item proposal_id {{proposal}}, timestamp {{key}}"
        self._chain.refusing(
            lambda: match_rows(self._chain.where, rows, self._chain.approvals(proposal_id), pattern)
        )
        return read_each(
            self.where,
            items,
            lambda i: pattern.format(proposal=proposal_id[:12], key=i["timestamp"]),
            approval_of,
        )

    def latest_approval(self, proposal_id: str) -> Approval | None:
        found = self.approvals(proposal_id)
        return found[-1] if found else None

    # Rollout stages ----------------------------------------------------------------------
    def save_stage(self, record: StageRecord) -> None:
        with self.transaction():
            self._require(record.proposal_id)
            key = {"proposal_id": record.proposal_id, "stage": record.stage.value}
            stored = self._tables.get(STAGES, key)
            kept = None if stored is None else stored.get("previous_state")
            if kept is not None and record.previous_state is not None:
                place = self._stage_place(record.proposal_id, record.stage.value)
                if self._values.decode(kept, place) != _as_stored(record.previous_state):
                    raise StoreError(
                        f"{self.where}: the previous IAM state of proposal "
                        f"{record.proposal_id[:12]} at stage {record.stage} is already "
                        "recorded and cannot change"
                    )
            rev = next_revision(stored)
            item = stage_item(
                record if kept is None else _without_previous(record), self._values, rev
            )
            if kept is not None:
                item["previous_state"] = kept
            self._tables.write(STAGES, item, at_revision(stored, STAGES))

    def stage(self, proposal_id: str, stage: Stage) -> StageRecord | None:
        item = self._tables.get(STAGES, {"proposal_id": proposal_id, "stage": stage.value})
        return None if item is None else self._stages([item])[0]

    def stages(self, proposal_id: str) -> list[StageRecord]:
        items = self._tables.query(STAGES, proposal_id)
        return self._stages(sorted(items, key=lambda i: _STAGE_ORDER.get(str(i["stage"]), 9)))

    # Journal -----------------------------------------------------------------------------
    def append_journal(
        self, proposal_id: str, step: str, phase: JournalPhase, payload: JsonDict, at: datetime
    ) -> JournalEntry:
        with self.transaction():
            self._require(proposal_id)
            last = self._tables.query(JOURNAL, proposal_id, last=True)
            seq = int(last[0]["seq"]) + 1 if last else 1
            entry = JournalEntry(
                proposal_id, seq, step, JournalPhase(phase), _as_stored(payload), at
            )
            self._tables.write(JOURNAL, journal_item(entry, self._values), absent(JOURNAL))
        return entry

    def journal(self, proposal_id: str) -> list[JournalEntry]:
        items = self._tables.query(JOURNAL, proposal_id)
        name = self._tables.name(JOURNAL)

        def place(item: Item) -> str:
            return f"table {name}, item proposal_id {proposal_id[:12]}, seq {item.get('seq')}"

        return read_each(
            self.where, items, place, lambda i: journal_entry_of(i, self._values, place(i))
        )

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
            seq = self._chain.next_seq()
            event = AuditEvent(
                seq, at, proposal_id, actor, action, reason, _as_stored(details or {})
            )
            fields = audit_fields(event, self._values)
            self._chain.add(_audit_entry(event), fields)
        return event

    def audit(self, proposal_id: str | None = None) -> list[AuditEvent]:
        events = self._chain.events()
        return [e for e in events if proposal_id is None or e.proposal_id == proposal_id]

    # Working copies of accounts ----------------------------------------------------------
    def save_account_copy(self, name: str, document: JsonDict) -> int:
        with self.transaction():
            stored = self._tables.get(COPIES, {"name": name})
            version = self._copy_version(name, stored) + 1
            encoded = self._values.encode(f"copy#{name}#v{version}", document)
            item = {
                "name": name,
                "version": version,
                "document": encoded,
                "rev": next_revision(stored),
            }
            self._tables.write(COPIES, item, at_revision(stored, COPIES))
            if stored is not None:
                replaced = self._values.blob_keys(stored["document"])
                if replaced:
                    self._tables.after_commit(lambda: self._tables.delete_now(BLOBS, replaced))
            return version

    def account_copy(self, name: str) -> JsonDict | None:
        for attempt in range(_COPY_READS):
            item = self._tables.get(COPIES, {"name": name})
            if item is None:
                return None
            place = f"table {self._tables.name(COPIES)}, item name {name}"
            try:
                with reading(self.where, place):
                    return self._values.decode(item["document"], place)
            except BlobDamagedError:
                if attempt == _COPY_READS - 1:
                    raise
        return None  # not reached: the last attempt returns or raises

    def account_copy_version(self, name: str) -> int:
        return self._copy_version(name, self._tables.get(COPIES, {"name": name}))

    def _copy_version(self, name: str, item: Item | None) -> int:
        with reading(self.where, f"table {self._tables.name(COPIES)}, item name {name}"):
            return 0 if item is None else int(item["version"])

    # Leases ------------------------------------------------------------------------------
    def acquire_lease(self, name: str, holder: str, until: datetime, now: datetime) -> bool:
        lease_request(name, holder, until, now)
        if name == LOCK_NAME:
            raise ValueError(f"{name!r} is the store's own write lock")
        with self.transaction():
            stored = self._tables.get(LEASES, {"name": name})
            if not lease_free_for(self._lease(name, stored), holder, now):
                return False
            item = {
                "name": name,
                "holder": holder,
                "until": time_text(until),
                "rev": next_revision(stored),
            }
            self._tables.write(LEASES, item, at_revision(stored, LEASES))
            return True

    def release_lease(self, name: str, holder: str) -> None:
        if name == LOCK_NAME:
            return
        with self.transaction():
            stored = self._tables.get(LEASES, {"name": name})
            if stored is not None and stored.get("holder") == holder:
                self._tables.delete(LEASES, {"name": name}, at_revision(stored, LEASES))

    def lease(self, name: str) -> Lease | None:
        if name == LOCK_NAME:
            return None
        return self._lease(name, self._tables.get(LEASES, {"name": name}))

    def _lease(self, name: str, item: Item | None) -> Lease | None:
        place = f"table {self._tables.name(LEASES)}, item name {name}"
        with reading(self.where, place):
            return None if item is None else lease_of(item)

    # Helpers -----------------------------------------------------------------------------
    def _require(self, proposal_id: str) -> Item:
        item = self._tables.get(PROPOSALS, {"proposal_id": proposal_id})
        if item is None:
            raise ProposalNotFoundError(f"no proposal has the id {proposal_id!r}")
        return item

    def _proposal(self, item: Item) -> StoredProposal:
        place = _proposal_place(self._tables, str(item.get("proposal_id")))
        with reading(self.where, place):
            return proposal_of(item, self._values, place)

    def _stages(self, items: list[Item]) -> list[StageRecord]:
        def place(item: Item) -> str:
            return self._stage_place(str(item.get("proposal_id")), str(item.get("stage")))

        return read_each(self.where, items, place, lambda i: stage_of(i, self._values, place(i)))

    def _stage_place(self, proposal_id: str, stage: str) -> str:
        name = self._tables.name(STAGES)
        return f"table {name}, item proposal_id {proposal_id[:12]}, stage {stage}"


def _proposal_place(tables: Tables, proposal_id: str) -> str:
    return f"table {tables.name(PROPOSALS)}, item proposal_id {proposal_id[:12]}"


def _audit_entry(event: AuditEvent) -> ChainEntry:
    return ChainEntry(
        event.seq, Kind.AUDIT, event.proposal_id, str(event.seq), audit_digest(event), ""
    )


def _as_stored(value: JsonDict) -> JsonDict:
    """A JSON value as it reads back (a copy: the caller's later edits change nothing)."""
    stored: JsonDict = json.loads(canonical_json(value))
    return stored


def _without_previous(record: StageRecord) -> StageRecord:
    return replace(record, previous_state=None)
