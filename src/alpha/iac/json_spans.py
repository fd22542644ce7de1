"""JSON with the span of every value, so one value can be replaced or removed and the rest of
the file kept byte for byte. The text is first decoded strictly (a bad file is one line naming
it and the line); the span walk then trusts it."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from alpha.iac.errors import IacError
from alpha.iac.spans import Span, indent_unit, line_indent, reindent

__all__ = ["JsonNode", "dump_at", "dump_relative", "parse_spans"]

_DECODER = json.JSONDecoder()
_WHITESPACE = " \t\n\r"


@dataclass(slots=True)
class JsonNode:
    """A value and where it is. An object's `members` are (key, span of the whole member
    from its key's quote, node); an array's `items` its nodes."""

    span: Span
    kind: str
    members: list[tuple[str, Span, JsonNode]] = field(default_factory=list)
    items: list[JsonNode] = field(default_factory=list)

    @property
    def inside(self) -> Span:
        """The text between the brackets."""
        return Span(self.span.start + 1, self.span.end - 1)

    def member(self, key: str) -> JsonNode | None:
        return next((node for name, _, node in self.members if name == key), None)

    def at(self, path: tuple[str | int, ...]) -> JsonNode:
        node = self
        for step in path:
            found = node.items[step] if isinstance(step, int) else node.member(step)
            if found is None:
                raise KeyError(step)
            node = found
        return node


def parse_spans(text: str, path: str) -> tuple[Any, JsonNode]:
    """The decoded document and its span tree."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise IacError(f"{path}: line {exc.lineno}: not valid JSON ({exc.msg})") from exc
    node, _ = _value(text, _skip(text, 0))
    return value, node


def _skip(text: str, at: int) -> int:
    while at < len(text) and text[at] in _WHITESPACE:
        at += 1
    return at


def _value(text: str, at: int) -> tuple[JsonNode, int]:
    first = text[at]
    if first == "{":
        return _object(text, at)
    if first == "[":
        return _array(text, at)
    _, end = _DECODER.raw_decode(text, at)
    return JsonNode(Span(at, end), "scalar"), end


def _object(text: str, start: int) -> tuple[JsonNode, int]:
    node = JsonNode(Span(start, start), "object")
    at = _skip(text, start + 1)
    while text[at] != "}":
        key, after_key = _DECODER.raw_decode(text, at)
        colon = _skip(text, after_key)
        child, end = _value(text, _skip(text, colon + 1))
        node.members.append((key, Span(at, end), child))
        at = _skip(text, end)
        if text[at] == ",":
            at = _skip(text, at + 1)
    node.span = Span(start, at + 1)
    return node, at + 1


def _array(text: str, start: int) -> tuple[JsonNode, int]:
    node = JsonNode(Span(start, start), "array")
    at = _skip(text, start + 1)
    while text[at] != "]":
        child, end = _value(text, at)
        node.items.append(child)
        at = _skip(text, end)
        if text[at] == ",":
            at = _skip(text, at + 1)
    node.span = Span(start, at + 1)
    return node, at + 1


def dump_relative(text: str, value: Any) -> str:
    """`value` as JSON written the way the file writes it (its indentation unit, or on one
    line in a one-line file), its lines after the first indented from column 0."""
    ascii_only = text.isascii()
    if "\n" not in text.strip():
        return json.dumps(value, ensure_ascii=ascii_only)
    return json.dumps(value, indent=indent_unit(text), ensure_ascii=ascii_only)


def dump_at(text: str, offset: int, value: Any) -> str:
    """`value` as JSON to be placed at `offset`, indented as that line is."""
    return reindent(dump_relative(text, value), line_indent(text, offset))
