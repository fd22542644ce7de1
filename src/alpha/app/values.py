"""Parsing the text values settings are written in: durations, times, booleans, name lists."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

__all__ = ["parse_boolean", "parse_duration", "parse_names", "parse_time"]

_DURATION = re.compile(r"(\d+)\s*(w|d|h|m|s)")
_UNITS = {"w": "weeks", "d": "days", "h": "hours", "m": "minutes", "s": "seconds"}
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def parse_duration(text: str) -> timedelta:
    """`6h`, `30m`, `2d`, `1h30m`, `1w`, `90s`; ValueError naming the text otherwise."""
    cleaned = text.strip().lower().replace(" ", "")
    parts = _DURATION.findall(cleaned)
    if not cleaned or "".join(f"{n}{u}" for n, u in parts) != cleaned:
        raise ValueError(f"{text!r} is not a duration like 30m, 6h, 2d or 1h30m")
    total = timedelta()
    for number, unit in parts:
        total += timedelta(**{_UNITS[unit]: int(number)})
    if total <= timedelta(0):
        raise ValueError(f"{text!r}: a duration must be longer than zero")
    return total


def parse_time(text: str) -> datetime:
    """An ISO time (UTC unless it says otherwise); ValueError otherwise."""
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise ValueError(f"{text!r} is not an ISO time like 2026-10-31T06:00:00Z") from exc
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def parse_names(text: str) -> list[str]:
    """A comma-separated list, blanks dropped."""
    return [part.strip() for part in text.split(",") if part.strip()]


def parse_boolean(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ValueError(f"{text!r} is not true or false")
