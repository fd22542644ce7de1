"""How the DynamoDB store writes records as items and reads them back.

Times are fixed-width UTC ISO-8601 text (text order is time order). A JSON value (a proposal's
document and plan, a stage's previous state and metrics, a journal payload, audit details, an
account copy) is kept inline as canonical JSON text up to `INLINE_BYTES`; a larger one is
compressed (zlib) and split into parts of at most `PART_BYTES` in the blobs table, and the
item keeps a reference with the value's size and SHA-256, checked on every read. So no value
is refused for DynamoDB's 400 KB item limit, and a part lost or changed is an error naming it.
"""

from __future__ import annotations

import hashlib
import json
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

from alpha.adapters.aws.dynamodb_schema import BLOBS
from alpha.store.chain import digest, tampered
from alpha.store.errors import StoreError
from alpha.store.model import (
    Approval,
    AuditEvent,
    JournalEntry,
    JournalPhase,
    JsonDict,
    Lease,
    Stage,
    StageRecord,
    StageState,
    StoredProposal,
    canonical_json,
    require_utc,
)

if TYPE_CHECKING:
    from alpha.adapters.aws.dynamodb_tables import Tables
    from alpha.adapters.aws.dynamodb_wire import Item

__all__ = [
    "INLINE_BYTES",
    "PART_BYTES",
    "BlobDamagedError",
    "JsonValues",
    "approval_digest",
    "approval_key",
    "audit_digest",
    "reading",
    "time_of",
    "time_text",
]

INLINE_BYTES = 16 * 1024
"""Larger JSON values go to the blobs table, so an item stays well under 400 KB."""

PART_BYTES = 300 * 1024
"""One blob part's bytes: under the item limit with its keys."""

_T = TypeVar("_T")


class BlobDamagedError(StoreError):
    """A large value's parts are missing or do not match the reference to them."""


def time_text(moment: datetime) -> str:
    return require_utc(moment, "a stored time").astimezone(UTC).isoformat(timespec="microseconds")


def time_of(text: object) -> datetime:
    if not isinstance(text, str):
        raise TypeError(f"a time that is not text: {text!r}")
    return datetime.fromisoformat(text).astimezone(UTC)


def approval_key(timestamp: datetime, number: int) -> str:
    """The approvals table's sort key: the decision's time, then its number among the
    proposal's decisions, so two decided in the same microsecond are both kept, in order."""
    return f"{time_text(timestamp)}#{number:06d}"


@contextmanager
def reading(where: str, place: str) -> Iterator[None]:
    """An item that cannot be read back is a damaged store; the error names it."""
    try:
        yield
    except StoreError:
        raise
    except json.JSONDecodeError as exc:
        raise _damaged(where, place, f"unreadable JSON ({exc.msg})") from exc
    except (KeyError, TypeError, ValueError, AttributeError, RecursionError) as exc:
        raise _damaged(where, place, f"{type(exc).__name__}: {str(exc)[:200]}") from exc


def _damaged(where: str, place: str, what: str) -> StoreError:
    return StoreError(
        f"{where}: {place} is damaged ({what}); alpha changed nothing: restore the table from "
        "its point-in-time backup"
    )


class JsonValues:
    """JSON values in and out of items, large ones through the blobs table."""

    def __init__(self, tables: Tables) -> None:
        self._tables = tables

    def encode(self, owner: str, value: JsonDict) -> str | dict[str, Any]:
        """The attribute for `value`; a large one's parts are written now (immutable, keyed
        by `owner` and the value's hash), before the item naming them."""
        text = canonical_json(value)
        if len(text) <= INLINE_BYTES:
            return text.decode("utf-8")
        sha = hashlib.sha256(text).hexdigest()
        packed = zlib.compress(text, 6)
        blob = f"{owner}#{sha}"
        parts = [packed[i : i + PART_BYTES] for i in range(0, len(packed), PART_BYTES)]
        items = [{"blob": blob, "part": n, "data": part} for n, part in enumerate(parts)]
        self._tables.put_now(BLOBS, items)
        return {"blob": blob, "parts": len(parts), "size": len(text), "sha256": sha}

    def decode(self, value: object, place: str) -> JsonDict:
        if isinstance(value, str):
            return _object(json.loads(value))
        if not isinstance(value, dict):
            raise TypeError(f"a JSON value stored as {type(value).__name__}")
        return _object(json.loads(self._joined(value, place)))

    def blob_keys(self, value: object) -> list[Item]:
        """The keys of the parts a stored value names (none for an inline one)."""
        if not isinstance(value, dict):
            return []
        return [{"blob": value["blob"], "part": n} for n in range(int(value["parts"]))]

    def _joined(self, ref: dict[str, Any], place: str) -> bytes:
        parts = self._tables.query(BLOBS, ref["blob"])
        where = self._tables.where
        if [part["part"] for part in parts] != list(range(int(ref["parts"]))):
            raise BlobDamagedError(
                f"{where}: {place}: {len(parts)} of the {ref['parts']} parts of its value are "
                f"in {self._tables.name(BLOBS)} (blob {ref['blob'][:80]})"
            )
        size = int(ref["size"])
        inflater = zlib.decompressobj()
        try:
            text = inflater.decompress(b"".join(part["data"] for part in parts), size + 1)
        except zlib.error as exc:
            raise BlobDamagedError(f"{where}: {place}: its value's parts are damaged") from exc
        if len(text) != size or hashlib.sha256(text).hexdigest() != ref["sha256"]:
            raise tampered(where, place, "its stored value does not match its SHA-256")
        return text


def _object(value: object) -> JsonDict:
    if not isinstance(value, dict):
        raise TypeError("a JSON value that is not an object")
    return value


# Records <-> items -----------------------------------------------------------------------


def proposal_item(proposal: StoredProposal, values: JsonValues, state: str) -> Item:
    owner = f"proposal#{proposal.id}"
    return {
        "proposal_id": proposal.id,
        "principal": proposal.principal,
        "created_at": time_text(proposal.created_at),
        "created_by": proposal.created_by,
        "document": values.encode(f"{owner}#document", proposal.document),
        "plan": values.encode(f"{owner}#plan", proposal.plan),
        "state": state,
        "rev": 1,
    }


def proposal_of(item: Item, values: JsonValues, place: str) -> StoredProposal:
    # StoredProposal refuses content that does not hash to its id.
    return StoredProposal(
        id=item["proposal_id"],
        principal=item["principal"],
        created_at=time_of(item["created_at"]),
        created_by=item["created_by"],
        document=values.decode(item["document"], place),
        plan=values.decode(item["plan"], place),
    )


def approval_item(approval: Approval, key: str, chain_seq: int) -> Item:
    return {
        "proposal_id": approval.proposal_id,
        "timestamp": key,
        "approved": approval.approved,
        "approver": approval.approver,
        "comments": approval.comments,
        "proposal_hash": approval.proposal_hash,
        "chain_seq": chain_seq,
    }


def approval_of(item: Item) -> Approval:
    if not isinstance(item["approved"], bool):
        raise TypeError("approved is not a boolean")
    moment = time_of(str(item["timestamp"]).split("#", 1)[0])
    return Approval(
        item["proposal_id"],
        moment,
        item["approved"],
        item["approver"],
        item["comments"],
        item["proposal_hash"],
    )


def approval_digest(item: Item) -> str:
    fields = ("proposal_id", "timestamp", "approved", "approver", "comments", "proposal_hash")
    return digest([_hashable(item.get(name)) for name in fields])


def stage_item(record: StageRecord, values: JsonValues, rev: int) -> Item:
    owner = f"stage#{record.proposal_id}#{record.stage.value}"
    item: Item = {
        "proposal_id": record.proposal_id,
        "stage": record.stage.value,
        "state": record.state.value,
        "metrics": values.encode(f"{owner}#metrics", record.metrics),
        "started_at": time_text(record.started_at),
        "updated_at": time_text(record.updated_at),
        "rev": rev,
    }
    if record.previous_state is not None:
        item["previous_state"] = values.encode(f"{owner}#previous", record.previous_state)
    return item


def stage_of(item: Item, values: JsonValues, place: str) -> StageRecord:
    previous = item.get("previous_state")
    return StageRecord(
        proposal_id=item["proposal_id"],
        stage=Stage(item["stage"]),
        state=StageState(item["state"]),
        previous_state=None if previous is None else values.decode(previous, place),
        metrics=values.decode(item["metrics"], place),
        started_at=time_of(item["started_at"]),
        updated_at=time_of(item["updated_at"]),
    )


def journal_item(entry: JournalEntry, values: JsonValues) -> Item:
    owner = f"journal#{entry.proposal_id}#{entry.seq}"
    return {
        "proposal_id": entry.proposal_id,
        "seq": entry.seq,
        "step": entry.step,
        "phase": entry.phase.value,
        "payload": values.encode(f"{owner}#payload", entry.payload),
        "at": time_text(entry.at),
    }


def journal_entry_of(item: Item, values: JsonValues, place: str) -> JournalEntry:
    return JournalEntry(
        proposal_id=item["proposal_id"],
        seq=int(item["seq"]),
        step=item["step"],
        phase=JournalPhase(item["phase"]),
        payload=values.decode(item["payload"], place),
        at=time_of(item["at"]),
    )


def audit_fields(event: AuditEvent, values: JsonValues) -> Item:
    """An audit event's own attributes (the chain adds its kind and hash)."""
    item: Item = {
        "seq": event.seq,
        "at": time_text(event.at),
        "actor": event.actor,
        "action": event.action,
        "reason": event.reason,
        "details": values.encode(f"audit#{event.seq}#details", event.details),
    }
    if event.proposal_id is not None:
        item["proposal_id"] = event.proposal_id
    return item


def audit_event_of(item: Item, values: JsonValues, place: str) -> AuditEvent:
    return AuditEvent(
        seq=int(item["seq"]),
        at=time_of(item["at"]),
        proposal_id=item.get("proposal_id"),
        actor=item["actor"],
        action=item["action"],
        reason=item["reason"],
        details=values.decode(item["details"], place),
    )


def audit_digest(event: AuditEvent) -> str:
    """Over the event as read back (its details as canonical JSON), so an edit to any field,
    or to the parts of large details, changes it."""
    return digest(
        [
            event.seq,
            time_text(event.at),
            event.proposal_id,
            event.actor,
            event.action,
            event.reason,
            canonical_json(event.details).decode("utf-8"),
        ]
    )


def lease_of(item: Item) -> Lease:
    return Lease(item["name"], item["holder"], time_of(item["until"]))


def read_each(
    where: str, items: list[Item], place: Callable[[Item], str], reader: Callable[[Item], _T]
) -> list[_T]:
    found = []
    for item in items:
        named = place(item)
        with reading(where, named):
            found.append(reader(item))
    return found


def _hashable(value: object) -> object:
    if isinstance(value, bool):
        return int(value)
    if value is None or isinstance(value, str | int | bytes):
        return value
    return repr(value)  # a value of a type alpha never writes: hashed as shown, so it mismatches
