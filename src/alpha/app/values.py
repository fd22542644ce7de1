"""Parsing the text values settings are written in: durations, times, booleans, name lists."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import TypeVar

T = TypeVar("T")

__all__ = [
    "check_duration",
    "check_header_name",
    "first_given",
    "parse_boolean",
    "parse_duration",
    "parse_names",
    "parse_time",
]

_DURATION = re.compile(r"(\d+)\s*(w|d|h|m|s)")
_UNIT_SECONDS = {"w": 7 * 86_400, "d": 86_400, "h": 3_600, "m": 60, "s": 1}
_HEADER = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{0,99}")
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}

# Times and durations are bounded so that any sum the workflow makes (a time plus a few bakes,
# waits and expiries) stays inside the calendar Python can represent (years 1 to 9999).
MAX_DURATION = timedelta(days=36_525)
"""A century: longer is a typo, and a time plus several still fits before year 9999."""
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(9000, 1, 1, tzinfo=UTC)


def first_given(*candidates: T | None, default: T) -> T:
    """The precedence rule: the first candidate that says something (not None) wins."""
    return next((c for c in candidates if c is not None), default)


def parse_duration(text: str) -> timedelta:
    """`6h`, `30m`, `2d`, `1h30m`, `1w`, `90s`, up to a century; ValueError naming the text
    otherwise."""
    cleaned = text.strip().lower().replace(" ", "")
    parts = _DURATION.findall(cleaned)
    if not cleaned or "".join(f"{n}{u}" for n, u in parts) != cleaned:
        raise ValueError(f"{text!r} is not a duration like 30m, 6h, 2d or 1h30m")
    longest = MAX_DURATION.days * _UNIT_SECONDS["d"]
    # int() of thousands of digits is refused (or slow): such a number is too long anyway
    if any(len(number.lstrip("0")) > len(str(longest)) for number, _ in parts):
        raise ValueError(f"{_short(text)}: a duration must be at most a century (36525d)")
    seconds = sum(int(number.lstrip("0") or "0") * _UNIT_SECONDS[unit] for number, unit in parts)
    if seconds <= 0:
        raise ValueError(f"{text!r}: a duration must be longer than zero")
    if seconds > longest:
        raise ValueError(f"{_short(text)}: a duration must be at most a century (36525d)")
    return timedelta(seconds=seconds)


def check_duration(value: timedelta) -> timedelta:
    """`value` if longer than zero and at most a century (a duration given as a number of
    seconds, in alpha.toml); ValueError otherwise."""
    if not timedelta(0) < value <= MAX_DURATION:
        raise ValueError("a duration must be longer than zero and at most a century (36525d)")
    return value


def parse_time(text: str) -> datetime:
    """An ISO time (UTC unless it says otherwise) from 1970 to 8999; ValueError otherwise."""
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise ValueError(f"{_short(text)} is not an ISO time like 2026-10-31T06:00:00Z") from exc
    outside = ValueError(f"{text!r} is outside the years 1970 to 8999")
    try:
        moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    except OverflowError as exc:  # 0001-01-01T00:00:00+01:00 is in year 0
        raise outside from exc
    if not EARLIEST <= moment < LATEST:
        raise outside
    return moment


def _short(text: str) -> str:
    """The text as a message quotes it: a pasted megabyte is cut to its first 40 characters."""
    return repr(text) if len(text) <= 40 else f"{text[:40]!r}..."


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


def check_header_name(text: str) -> str:
    """An HTTP header name (letters, digits and dashes: `X-Forwarded-User`); ValueError
    otherwise."""
    name = text.strip()
    if not _HEADER.fullmatch(name):
        raise ValueError(f"{_short(text)} is not a header name like X-Forwarded-User")
    return name
