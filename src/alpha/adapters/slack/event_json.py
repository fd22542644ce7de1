"""Notification events as JSON and back, to wait in the outbox (and to survive a restart)."""

from __future__ import annotations

from dataclasses import MISSING, fields
from datetime import datetime
from typing import Any

from alpha.rollout.notify_ports import (
    Finding,
    NotifyEvent,
    ProposalApproved,
    ProposalCreated,
    ProposalRejected,
    RollbackFailed,
    RolledBack,
    StageFailed,
    StagePassed,
    StageStarted,
)
from alpha.store.model import Stage

__all__ = ["event_from_json", "event_to_json"]

JsonDict = dict[str, Any]

_KINDS: dict[str, type[NotifyEvent]] = {
    "proposal_created": ProposalCreated,
    "proposal_approved": ProposalApproved,
    "proposal_rejected": ProposalRejected,
    "stage_started": StageStarted,
    "stage_passed": StagePassed,
    "stage_failed": StageFailed,
    "rolled_back": RolledBack,
    "rollback_failed": RollbackFailed,
}
_KIND_OF = {cls: kind for kind, cls in _KINDS.items()}


def event_to_json(event: NotifyEvent) -> JsonDict:
    out: JsonDict = {"kind": _KIND_OF[type(event)]}
    for item in fields(event):
        out[item.name] = _plain(getattr(event, item.name))
    return out


def event_from_json(data: JsonDict) -> NotifyEvent:
    cls = _KINDS[str(data["kind"])]
    values: JsonDict = {}
    for item in fields(cls):
        if item.name not in data and item.default is not MISSING:
            continue  # an event saved before the field was added: its default
        value = data[item.name]
        if item.name == "stage":
            value = Stage(value)
        elif item.name == "at":
            value = datetime.fromisoformat(value)
        elif item.name == "findings":
            value = tuple(Finding(**f) for f in value)
        elif isinstance(value, list):
            value = tuple(value)
        values[item.name] = value
    return cls(**values)


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Stage):
        return value.value
    if isinstance(value, Finding):
        return {"code": value.code, "message": value.message, "blocks": value.blocks}
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    return value
