"""How the SQLite store writes values into columns and reads rows back into records.

Times are fixed-width UTC ISO-8601 text, so text order is time order; JSON is canonical, so
equal values are equal text. A row that cannot be read back is a damaged store.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from alpha.adapters.local.sqlite_schema import damaged
from alpha.store.model import (
    AuditEvent,
    JournalEntry,
    JournalPhase,
    JsonDict,
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


def json_text(value: JsonDict) -> str:
    return canonical_json(value).decode("utf-8")


def time_text(moment: datetime) -> str:
    return require_utc(moment, "a stored time").astimezone(UTC).isoformat(timespec="microseconds")


def time_of(path: Path, text: str) -> datetime:
    try:
        return datetime.fromisoformat(text).astimezone(UTC)
    except (TypeError, ValueError) as exc:
        raise damaged(path, f"unreadable time {text!r}") from exc


def json_object(path: Path, text: str) -> JsonDict:
    try:
        value = json.loads(text)
    except (TypeError, ValueError) as exc:
        raise damaged(path, f"unreadable JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise damaged(path, "a JSON value that is not an object")
    return value


def proposal_of(path: Path, row: Sequence[Any]) -> StoredProposal:
    try:
        return StoredProposal(
            id=row[0],
            principal=row[1],
            created_at=time_of(path, row[2]),
            created_by=row[3],
            document=json_object(path, row[4]),
            plan=json_object(path, row[5]),
        )
    except ValueError as exc:  # the content no longer hashes to its id
        raise damaged(path, f"proposal {str(row[0])[:12]}: {exc}") from exc


def stage_of(path: Path, row: Sequence[Any]) -> StageRecord:
    return StageRecord(
        proposal_id=row[0],
        stage=Stage(row[1]),
        state=StageState(row[2]),
        previous_state=None if row[3] is None else json_object(path, row[3]),
        metrics=json_object(path, row[4]),
        started_at=time_of(path, row[5]),
        updated_at=time_of(path, row[6]),
    )


def journal_entry_of(path: Path, row: Sequence[Any]) -> JournalEntry:
    return JournalEntry(
        proposal_id=row[0],
        seq=row[1],
        step=row[2],
        phase=JournalPhase(row[3]),
        payload=json_object(path, row[4]),
        at=time_of(path, row[5]),
    )


def audit_event_of(path: Path, row: Sequence[Any]) -> AuditEvent:
    return AuditEvent(
        seq=row[0],
        at=time_of(path, row[1]),
        proposal_id=row[2],
        actor=row[3],
        action=row[4],
        reason=row[5],
        details=json_object(path, row[6]),
    )
