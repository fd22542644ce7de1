"""Typed reads from decoded JSON that fail with the file and the JSON path of the problem."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NoReturn

from alpha.account.errors import AccountError
from alpha.policy.parse import json_kind
from alpha.policy.user_files import one_line


@dataclass(frozen=True, slots=True)
class At:
    """A place in the input: the file and the JSON path inside it."""

    source: str
    path: str

    def key(self, name: str) -> At:
        return At(self.source, f"{self.path}.{name}" if self.path else name)

    def index(self, i: int) -> At:
        return At(self.source, f"{self.path}[{i}]")

    def fail(self, message: str) -> NoReturn:
        where = f"{self.source}: {self.path}" if self.path else self.source
        raise AccountError(one_line(f"{where}: {message}"))  # keys and names are quoted


def required(obj: dict[str, Any], key: str, at: At) -> object:
    if key not in obj:
        at.key(key).fail("missing")
    return obj[key]


def string(obj: dict[str, Any], key: str, at: At, *, default: str | None = None) -> str:
    value = obj.get(key)
    if isinstance(value, str):  # the usual case, before any place is spelt out
        return value
    if key not in obj and default is not None:
        return default
    return as_string(required(obj, key, at), at.key(key))


def optional_string(obj: dict[str, Any], key: str, at: At) -> str | None:
    value = obj.get(key)
    return value if value is None or isinstance(value, str) else as_string(value, at.key(key))


def as_string(value: object, at: At) -> str:
    if not isinstance(value, str):
        at.fail(f"must be a string, not {kind_of(value)}")
    return value


def count(obj: dict[str, Any], key: str, at: At) -> int:
    value = obj.get(key, 0)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        at.key(key).fail(f"must be a whole number, not {value!r}")
    return value


def date(obj: dict[str, Any], key: str, at: At) -> datetime | None:
    value = optional_string(obj, key, at)
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        at.key(key).fail(f"{value!r} is not an ISO 8601 date")
    # IAM dates are UTC; a naive one was written without its zone.
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    try:  # in UTC now, so no later conversion can leave the calendar
        return moment.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00:00+01:00 is in year 0
        at.key(key).fail(f"{value!r} is outside the years 1 to 9999 in UTC")


def json_object(value: object, at: At) -> dict[str, Any]:
    if not isinstance(value, dict):
        at.fail(f"must be an object, not {kind_of(value)}")
    return value


def json_list(value: object, at: At) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        at.fail(f"must be a list, not {kind_of(value)}")
    return value


kind_of = json_kind
"""How errors name a JSON value's type; the policy parser's wording, shared."""
