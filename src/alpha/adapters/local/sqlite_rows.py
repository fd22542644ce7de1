"""How the SQLite store writes values into columns and reads rows back into records.

Times are fixed-width UTC ISO-8601 text, so text order is time order; JSON is canonical, so
equal values are equal text. A row that cannot be read back is a damaged store, and the error
names the row (`place`, as `alpha.adapters.local.sqlite_chain` names it).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from alpha.adapters.local.sqlite_schema import damaged
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
    StageState,
    StoredProposal,
    canonical_json,
    require_utc,
)

PROPOSAL_COLUMNS = "id, principal, created_at, created_by, document, plan"
STAGE_COLUMNS = "proposal_id, stage, state, previous_state, metrics, started_at, updated_at"
JOURNAL_COLUMNS = "proposal_id, seq, step, phase, payload, at"
AUDIT_COLUMNS = "seq, at, proposal_id, actor, action, reason, details"
STAGE_ORDER = "CASE stage WHEN 'sandbox' THEN 0 WHEN 'canary' THEN 1 ELSE 2 END"

_T = TypeVar("_T")
Reader = Callable[[Sequence[Any]], _T]


def json_text(value: JsonDict) -> str:
    return canonical_json(value).decode("utf-8")


def time_text(moment: datetime) -> str:
    return require_utc(moment, "a stored time").astimezone(UTC).isoformat(timespec="microseconds")


def read_row(path: Path, place: str, reader: Reader[_T], values: Sequence[Any]) -> _T:
    """`reader` over one row's values; a damaged store naming `place` if they cannot be read."""
    with _row(path, place):
        for value in values:
            if isinstance(value, str):
                value.encode("utf-8")  # text read back with surrogate escapes was not UTF-8
        return reader(values)


@contextmanager
def _row(path: Path, place: str) -> Iterator[None]:
    try:
        yield
    except UnicodeEncodeError as exc:
        raise damaged(path, f"{place}: text that is not UTF-8") from exc
    except json.JSONDecodeError as exc:
        raise damaged(path, f"{place}: unreadable JSON ({exc.msg} at character {exc.pos})") from exc
    except (TypeError, ValueError, RecursionError) as exc:
        raise damaged(path, f"{place}: {_short(str(exc))}") from exc


def _short(text: str) -> str:
    return text if len(text) <= 200 else f"{text[:200]}..."


def time_of(text: str) -> datetime:
    if not isinstance(text, str):
        raise TypeError(f"a time that is not text: {text!r}")
    return datetime.fromisoformat(text).astimezone(UTC)


def json_object(text: str) -> JsonDict:
    if not isinstance(text, str):
        raise TypeError(f"JSON that is not text: {_short(repr(text))}")
    value = json.loads(text)
    if not isinstance(value, dict):
        raise TypeError("a JSON value that is not an object")
    return value


def proposal_of(row: Sequence[Any]) -> StoredProposal:
    # StoredProposal refuses content that does not hash to its id (a ValueError).
    return StoredProposal(
        id=row[0],
        principal=row[1],
        created_at=time_of(row[2]),
        created_by=row[3],
        document=json_object(row[4]),
        plan=json_object(row[5]),
    )


def approval_of(row: Sequence[Any]) -> Approval:
    """From `seq, proposal_id, timestamp, approved, approver, comments, proposal_hash, ...`."""
    return Approval(row[1], time_of(row[2]), bool(row[3]), row[4], row[5], row[6])


def stage_of(row: Sequence[Any]) -> StageRecord:
    return StageRecord(
        proposal_id=row[0],
        stage=Stage(row[1]),
        state=StageState(row[2]),
        previous_state=None if row[3] is None else json_object(row[3]),
        metrics=json_object(row[4]),
        started_at=time_of(row[5]),
        updated_at=time_of(row[6]),
    )


def journal_entry_of(row: Sequence[Any]) -> JournalEntry:
    return JournalEntry(
        proposal_id=row[0],
        seq=row[1],
        step=row[2],
        phase=JournalPhase(row[3]),
        payload=json_object(row[4]),
        at=time_of(row[5]),
    )


def audit_event_of(row: Sequence[Any]) -> AuditEvent:
    return AuditEvent(
        seq=row[0],
        at=time_of(row[1]),
        proposal_id=row[2],
        actor=row[3],
        action=row[4],
        reason=row[5],
        details=json_object(row[6]),
    )


def copy_document_of(row: Sequence[Any]) -> JsonDict:
    """From `name, version, document`."""
    return json_object(row[2])


def lease_of(row: Sequence[Any]) -> Lease:
    """From `name, holder, until`."""
    return Lease(row[0], row[1], time_of(row[2]))


def state_of(row: Sequence[Any]) -> tuple[str, ProposalState]:
    """From `proposal_id, state`."""
    return row[0], ProposalState(row[1])


def copy_version_of(row: Sequence[Any]) -> int:
    """From `name, version, document`."""
    return int(row[1])
