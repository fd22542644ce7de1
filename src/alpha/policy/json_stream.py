"""A JSON document walked by hand at its outer levels, each value below them decoded alone.

`decode_json` builds the whole tree, which for a 200,000-role account file (212 MB) is most of
a gigabyte, held while the snapshot is built from it. A reader that wants one list item at a
time walks the outer objects and lists with a `JsonStream` and decodes each item with the
same strict decoder (`raw_decode` at the item's offset), so only the item in hand is a tree.
Every failure is the `InputTextError` `decode_json` would raise: syntax errors at their line
and column, duplicate keys at the outer levels too, NaN, huge numbers, deep nesting, half a
surrogate pair. A value the reader does not want is walked over without being built.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from alpha.policy.parse import json_kind
from alpha.policy.user_files import (
    MAX_DEPTH,
    InputTextError,
    check_surrogates,
    decode_failure,
    duplicate_key,
    strict_decoder,
)

__all__ = ["JsonStream"]

_SPACE = re.compile(r"[ \t\n\r]*")
_CONTAINERS = {"{": "an object", "[": "a list"}


class JsonStream:
    """A cursor over one JSON text. Call `members` at an object, `items` at a list, `value`
    or `skip` at any value, then `end` once the document is read."""

    __slots__ = ("_decoder", "_pos", "_text")

    def __init__(self, text: str) -> None:
        self._text = text
        self._pos = 0
        self._decoder = strict_decoder()

    def peek(self) -> str:
        """The next character that is not whitespace ("" at the end)."""
        self._pos = _SPACE.match(self._text, self._pos).end()  # type: ignore[union-attr]
        return self._text[self._pos : self._pos + 1]

    def kind(self) -> str:
        """How errors name the next value's type (`json_kind`'s words); an object or a list is
        not decoded for it, and the cursor stays before the value."""
        first = self.peek()
        if first in _CONTAINERS:
            return _CONTAINERS[first]
        start = self._pos
        found = self.value()
        self._pos = start
        return json_kind(found)

    def value(self) -> Any:
        """The next value, decoded whole."""
        self.peek()
        try:
            found, self._pos = self._decoder.raw_decode(self._text, self._pos)
        except (json.JSONDecodeError, RecursionError, ValueError) as exc:
            raise decode_failure(self._text, exc) from exc
        return found

    def skip(self, depth: int = 0) -> None:
        """Past the next value, building only its scalars."""
        first = self.peek()
        if depth > MAX_DEPTH:
            message = f"not JSON this reader can take: nested more than {MAX_DEPTH} levels deep"
            raise self._error(message)
        if first == "{":
            for _ in self.members():
                self.skip(depth + 1)
        elif first == "[":
            for _ in self.items():
                self.skip(depth + 1)
        else:
            self.value()

    def members(self) -> Iterator[str]:
        """At an object: each key, with the cursor at its value, which the caller reads."""
        self._expect("{", "Expecting value")
        seen: set[str] = set()
        if self.peek() == "}":
            self._pos += 1
            return
        while True:
            if self.peek() != '"':
                raise self._error("not JSON: Expecting property name enclosed in double quotes")
            key = self.value()
            if key in seen:
                raise duplicate_key(self._text, key)
            seen.add(key)
            self._expect(":", "Expecting ':' delimiter")
            yield key
            if not self._next("}"):
                return

    def items(self) -> Iterator[int]:
        """At a list: each index, with the cursor at its item, which the caller reads."""
        self._expect("[", "Expecting value")
        if self.peek() == "]":
            self._pos += 1
            return
        index = 0
        while True:
            yield index
            index += 1
            if not self._next("]"):
                return

    def end(self) -> None:
        """Nothing but whitespace may follow the document, and no half a surrogate pair may be
        in it (looked for once the document is known to be JSON, as `decode_json` does)."""
        if self.peek():
            raise self._error("not JSON: Extra data")
        check_surrogates(self._text)

    def _next(self, close: str) -> bool:
        """After a member or item: True at a comma (another follows), False at `close`."""
        found = self.peek()
        if found in (",", close):
            self._pos += 1
            return found == ","
        raise self._error("not JSON: Expecting ',' delimiter")

    def _expect(self, char: str, message: str) -> None:
        if self.peek() != char:
            raise self._error(f"not JSON: {message}")
        self._pos += 1

    def _error(self, message: str) -> InputTextError:
        text, pos = self._text, self._pos
        line = text.count("\n", 0, pos) + 1
        column = pos - text.rfind("\n", 0, pos)
        error = InputTextError(message, line=line, column=column)
        error.syntax = True
        return error
