"""Structured JSON logs for the rollout: one JSON object per line.

Library code logs through `logging` with the step's facts as `extra` fields
(`proposal_id`, `principal`, `stage`, `step`, `outcome`, ...); `JsonFormatter` turns a record
into `{"time", "level", "logger", "message", ...those fields}`. The CLI installs it with
`install_json_logs(stream)`; nothing here configures logging on import.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import IO, Any

__all__ = ["LOGGER_NAME", "install_json_logs"]


FIELDS = (
    "proposal_id",
    "principal",
    "stage",
    "step",
    "outcome",
    "event",
    "state",
    "actor",
    "metrics",
    "error",
)
LOGGER_NAME = "alpha.rollout"


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                out[name] = value
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        return json.dumps(out, default=str, sort_keys=False)


def install_json_logs(stream: IO[str], level: int = logging.INFO) -> logging.Handler:
    """Send the rollout's logs to `stream` as JSON lines; returns the handler (to remove)."""
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger(LOGGER_NAME)
    logger.addHandler(handler)
    logger.setLevel(level)
    return handler


def step_fields(
    proposal_id: str,
    principal: str | None = None,
    stage: str | None = None,
    step: str | None = None,
    outcome: str | None = None,
    **more: Any,
) -> dict[str, Any]:
    """The `extra` of a rollout log record (None fields are left out)."""
    fields: dict[str, Any] = {
        "proposal_id": proposal_id,
        "principal": principal,
        "stage": stage,
        "step": step,
        "outcome": outcome,
        **more,
    }
    return {k: v for k, v in fields.items() if v is not None}
