"""Find the line of a place in a policy document (`Statement[2].Action[0]`), best effort.

Reports name places by path; editors and code-scanning tools want lines. This walks the JSON
text once, recording where each value starts. A path that is not in the text (a one-element
list written as a plain string, a single Statement object) falls back to its nearest enclosing
place. Text that is not JSON gives no lines at all rather than an error.
"""

from __future__ import annotations

import contextlib
import json
import re

_LITERAL = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][-+]?\d+)?|true|false|null")
_STRING = re.compile(r'"(?:[^"\\\x00-\x1f]|\\.)*"')
_SPACE = re.compile(r"[ \t\n\r]*")
_LAST_PART = re.compile(r"(?:\.[^.\[\]]*|\[\d+\])$")


class _NotJSONError(ValueError):
    pass


def value_offsets(text: str) -> dict[str, int]:
    """Path -> offset where its value (or, for object members, its key) starts."""
    found: dict[str, int] = {}
    # best effort: keep what was found before the text stopped being JSON
    with contextlib.suppress(_NotJSONError, IndexError, ValueError):
        _value(text, _skip(text, 0), "", found)
    return found


def line_of(text: str, path: str, offsets: dict[str, int] | None = None) -> int | None:
    """The 1-based line where `path` (or its nearest enclosing place) is written."""
    offsets = value_offsets(text) if offsets is None else offsets
    for candidate in _candidates(path):
        if candidate in offsets:
            return text.count("\n", 0, offsets[candidate]) + 1
    return None


def _candidates(path: str) -> list[str]:
    out: list[str] = []
    current = path
    while current:
        out.append(current)
        if current.startswith("Statement[0]"):  # a single statement written as an object
            out.append("Statement" + current.removeprefix("Statement[0]"))
        shorter = _LAST_PART.sub("", current)
        if shorter == current:
            break
        current = shorter
    return out


def _skip(text: str, pos: int) -> int:
    match = _SPACE.match(text, pos)
    return pos if match is None else match.end()


def _string(text: str, pos: int) -> tuple[str, int]:
    """The string starting at `pos` (its opening quote) and the offset after it."""
    match = _STRING.match(text, pos)
    if match is None:
        raise _NotJSONError(pos)
    value = json.loads(match.group())
    assert isinstance(value, str)
    return value, match.end()


def _value(text: str, pos: int, path: str, found: dict[str, int]) -> int:
    char = text[pos]  # IndexError at the end of the text, before recording a value there
    found.setdefault(path, pos)
    if char == "{":
        return _object(text, pos + 1, path, found)
    if char == "[":
        return _array(text, pos + 1, path, found)
    if char == '"':
        return _string(text, pos)[1]
    literal = _LITERAL.match(text, pos)
    if literal is None:
        raise _NotJSONError(pos)
    return literal.end()


def _object(text: str, pos: int, path: str, found: dict[str, int]) -> int:
    pos = _skip(text, pos)
    if text[pos] == "}":
        return pos + 1
    while True:
        if text[pos] != '"':
            raise _NotJSONError(pos)
        key_at = pos
        key, pos = _string(text, pos)
        child = f"{path}.{key}" if path else key
        found.setdefault(child, key_at)  # the key's line is the member's line
        pos = _skip(text, pos)
        if text[pos] != ":":
            raise _NotJSONError(pos)
        pos = _skip(text, _value(text, _skip(text, pos + 1), child, found))
        if text[pos] == "}":
            return pos + 1
        if text[pos] != ",":
            raise _NotJSONError(pos)
        pos = _skip(text, pos + 1)


def _array(text: str, pos: int, path: str, found: dict[str, int]) -> int:
    pos = _skip(text, pos)
    if text[pos] == "]":
        return pos + 1
    index = 0
    while True:
        pos = _skip(text, _value(text, pos, f"{path}[{index}]", found))
        if text[pos] == "]":
            return pos + 1
        if text[pos] != ",":
            raise _NotJSONError(pos)
        pos = _skip(text, pos + 1)
        index += 1
