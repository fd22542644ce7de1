"""The DynamoDB store's hash chain (`alpha.store.chain`) over its append-only records: the
audit log and the approvals. Each is an item of the audit table (partition `log` = "audit",
sort key `seq`) whose `hash` links it to the one before: an audit event carries its own
fields; an approval's entry carries the digest of its item in the approvals table, which must
match it. Entry 1 says how links are made (SHA-256, or HMAC-SHA-256 under the store key).

The whole chain is checked the first time it is read, then only the entries added since (and
the head already checked, which must still be there), as the SQLite store does: an audit event
edited, removed or inserted outside alpha, an approval added, edited or removed, raises
`TamperedStoreError` naming the table and item.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from alpha.adapters.aws.dynamodb_items import (
    JsonValues,
    audit_digest,
    audit_event_of,
    reading,
)
from alpha.adapters.aws.dynamodb_schema import AUDIT
from alpha.adapters.aws.dynamodb_wire import absent
from alpha.store.chain import (
    START,
    ChainEntry,
    ChainHead,
    Kind,
    Linker,
    Recorded,
    tampered,
    verify_links,
)
from alpha.store.errors import TamperedStoreError

if TYPE_CHECKING:
    from alpha.adapters.aws.dynamodb_tables import Tables
    from alpha.adapters.aws.dynamodb_wire import Item
    from alpha.store.model import AuditEvent

__all__ = ["LOG", "LogChain"]

LOG = "audit"
"""The audit table's one partition: the chain is one sequence."""

Rows = dict[tuple[str | None, str], Recorded]


@dataclass(slots=True)
class _Verified:
    """What the committed chain holds, checked up to `head`."""

    head: ChainHead = START
    events: list[AuditEvent] = field(default_factory=list)
    approvals: dict[str, Rows] = field(default_factory=dict)


class LogChain:
    def __init__(
        self, tables: Tables, values: JsonValues, linker: Linker, anchor: ChainHead | None
    ) -> None:
        self._tables = tables
        self._values = values
        self._linker = linker
        self._anchor = anchor
        self._state: _Verified | None = None
        self._refusal: TamperedStoreError | None = None
        self.where = f"{tables.where} (table {tables.name(AUDIT)})"

    # Reading -----------------------------------------------------------------------------
    def head(self) -> ChainHead:
        return self._verified().head

    def events(self) -> list[AuditEvent]:
        """Every audit event: the committed ones, checked, then this transaction's."""
        state = self._verified()
        pending = [self._event(item) for item in self._pending() if item["kind"] == Kind.AUDIT]
        return [*state.events, *pending]

    def approvals(self, proposal_id: str) -> Rows:
        """The approval rows the chain records for a proposal, this transaction's too."""
        rows = dict(self._verified().approvals.get(proposal_id, {}))
        for item in self._pending():
            if item["kind"] == Kind.APPROVAL and item.get("proposal_id") == proposal_id:
                rows[(proposal_id, item["key"])] = Recorded(item["seq"], item["digest"])
        return rows

    def refusing(self, check: Callable[[], None]) -> None:
        """Run a check of rows against the chain; if it finds an edit, refuse writes too."""
        try:
            check()
        except TamperedStoreError as error:
            self._refusal = error
            raise

    def check(self) -> None:
        """The entries added since the last check (all of them the first time)."""
        self._verified()

    # Writing (inside a transaction) ------------------------------------------------------
    def next_seq(self) -> int:
        """The number of the entry to add next; a new store gets its entry 1 first."""
        tip = self._tip()
        if tip.seq == 0:
            first = self._linker.first()
            self._write(first, {"key": first.key, "digest": first.digest})
            tip = first.head
        return tip.seq + 1

    def add(self, entry: ChainEntry, fields: Item) -> ChainEntry:
        """`entry` (numbered by `next_seq`) linked after the tip and written with `fields`."""
        tip = self._tip()
        if entry.seq != tip.seq + 1:
            raise RuntimeError(f"chain entry {entry.seq} does not follow {tip.seq}")  # a bug
        linked = self._linker.entry(tip, entry)
        self._write(linked, fields)
        return linked

    # Helpers -----------------------------------------------------------------------------
    def _write(self, entry: ChainEntry, fields: Item) -> None:
        item = {**fields, "log": LOG, "seq": entry.seq, "kind": str(entry.kind), "hash": entry.hash}
        if entry.proposal_id is not None:
            item["proposal_id"] = entry.proposal_id
        self._tables.write(AUDIT, item, absent(AUDIT))

    def _tip(self) -> ChainHead:
        pending = self._pending()
        if pending:
            return ChainHead(pending[-1]["seq"], pending[-1]["hash"])
        return self._verified().head

    def _pending(self) -> list[Item]:
        return sorted(self._tables.pending_items(AUDIT), key=lambda item: int(item["seq"]))

    def _verified(self) -> _Verified:
        if self._refusal is not None:
            raise self._refusal  # a store found changed outside alpha takes no more writes
        try:
            return self._catch_up(self._state or _Verified())
        except TamperedStoreError as error:
            self._refusal = error
            raise

    def _catch_up(self, state: _Verified) -> _Verified:
        if state.head.seq:
            self._check_still_there(state.head)
        items = self._tables.query(AUDIT, LOG, after=state.head.seq or None, committed=True)
        read = [self._entry(item) for item in items]
        entries = [entry for entry, _ in read]
        head = verify_links(entries, self._linker, self.where, state.head)
        if self._state is None and self._anchor is not None:
            self._check_anchor(entries)
        for entry, event in read:
            if event is not None:
                state.events.append(event)
            elif entry.kind == Kind.APPROVAL and entry.proposal_id is not None:
                rows = state.approvals.setdefault(entry.proposal_id, {})
                rows[(entry.proposal_id, entry.key)] = Recorded(entry.seq, entry.digest)
        state.head = head
        self._state = state
        return state

    def _entry(self, item: Item) -> tuple[ChainEntry, AuditEvent | None]:
        place = f"chain entry {item.get('seq')}"
        with reading(self.where, place):
            kind = str(item["kind"])
            if kind == Kind.AUDIT:
                event = self._event(item)
                entry = ChainEntry(
                    int(item["seq"]), kind, event.proposal_id, str(event.seq),
                    audit_digest(event), str(item["hash"]),
                )  # fmt: skip
                return entry, event
            entry = ChainEntry(
                int(item["seq"]), kind, item.get("proposal_id"), str(item["key"]),
                str(item["digest"]), str(item["hash"]),
            )  # fmt: skip
            return entry, None

    def _event(self, item: Item) -> AuditEvent:
        place = f"audit event {item.get('seq')}"
        with reading(self.where, place):
            return audit_event_of(item, self._values, place)

    def _check_still_there(self, head: ChainHead) -> None:
        found = self._tables.get(AUDIT, {"log": LOG, "seq": head.seq})
        if found is None or found.get("hash") != head.hash:
            raise tampered(
                self.where, f"chain entry {head.seq}", "changed or removed since it was checked"
            )

    def _check_anchor(self, entries: list[ChainEntry]) -> None:
        assert self._anchor is not None
        held = next((e for e in entries if e.seq == self._anchor.seq), None)
        if held is None or held.hash != self._anchor.hash:
            what = (
                f"does not hold the anchored hash {self._anchor.hash[:12]} (rewritten or cut back)"
            )
            raise tampered(self.where, f"chain entry {self._anchor.seq}", what)
