"""Just enough of HCL (Terraform's language) to find blocks and attributes with their spans,
and to write a JSON value in HCL's object syntax as `terraform fmt` lays it out.

The scanner knows strings with `${...}` templates, heredocs (`<<EOF`, `<<-EOF`) and the three
comment forms, so a brace or a newline inside any of them is not taken for structure. It does
not evaluate anything: a value is the span of its expression's text.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from alpha.iac.spans import Span

__all__ = ["Attribute", "Block", "hcl_string", "hcl_value", "heredoc_content", "parse_hcl"]

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
_HEREDOC = re.compile(r"<<(-?)([A-Za-z_][A-Za-z0-9_]*)[ \t]*\r?\n")


@dataclass(frozen=True, slots=True)
class Attribute:
    name: str
    span: Span
    value: Span


@dataclass(slots=True)
class Block:
    """`type "label" ... { body }`; `span` runs from the type to the closing brace."""

    type: str
    labels: tuple[str, ...]
    span: Span
    body: Span
    attributes: dict[str, Attribute] = field(default_factory=dict)
    blocks: list[Block] = field(default_factory=list)


def parse_hcl(text: str) -> list[Block]:
    """The file's top-level blocks."""
    _, blocks = _body(text, 0, len(text))
    return blocks


def _body(text: str, start: int, end: int) -> tuple[dict[str, Attribute], list[Block]]:
    attributes: dict[str, Attribute] = {}
    blocks: list[Block] = []
    at = start
    while at < end:
        at = _skip_blank(text, at, end)
        found = _IDENTIFIER.match(text, at, end)
        if found is None:
            at = _token_end(text, at) if at < end else end
            continue
        after = _skip_spaces(text, found.end(), end)
        if text.startswith("=", after) and not text.startswith("==", after):
            value_start = _skip_spaces(text, after + 1, end)
            value_end = _expression_end(text, value_start, end)
            name = found.group()
            attributes[name] = Attribute(name, Span(at, value_end), Span(value_start, value_end))
            at = value_end
            continue
        block, at = _block(text, found, after, end)
        if block is not None:
            blocks.append(block)
    return attributes, blocks


def _block(text: str, found: re.Match[str], at: int, end: int) -> tuple[Block | None, int]:
    labels: list[str] = []
    while at < end and text[at] != "{":
        if text[at] == '"':
            close = _string_end(text, at)
            labels.append(text[at + 1 : close - 1])
            at = _skip_spaces(text, close, end)
            continue
        label = _IDENTIFIER.match(text, at, end)
        if label is None:
            return None, max(at, found.end())
        labels.append(label.group())
        at = _skip_spaces(text, label.end(), end)
    if at >= end:
        return None, end
    close = _closing(text, at + 1, end)
    block = Block(found.group(), tuple(labels), Span(found.start(), close + 1), Span(at + 1, close))
    block.attributes, block.blocks = _body(text, at + 1, close)
    return block, close + 1


def _skip_spaces(text: str, at: int, end: int) -> int:
    while at < end and text[at] in " \t":
        at += 1
    return at


def _skip_blank(text: str, at: int, end: int) -> int:
    while at < end:
        if text[at] in " \t\r\n,":
            at += 1
        elif text[at] == "#" or text.startswith(("//", "/*"), at):
            at = _token_end(text, at)
        else:
            break
    return at


def _closing(text: str, at: int, end: int) -> int:
    """The index of the `}` that closes the brace opened just before `at`."""
    depth = 1
    while at < end:
        char = text[at]
        if char in "{[(":
            depth += 1
        elif char in "}])":
            depth -= 1
            if depth == 0:
                return at
        at = _token_end(text, at)
    return end


def _expression_end(text: str, at: int, end: int) -> int:
    """Where the expression starting at `at` ends: a newline outside brackets, a trailing
    comment, or the end of the enclosing body; trailing spaces are not part of it."""
    start, depth = at, 0
    while at < end:
        char = text[at]
        if depth == 0 and (char in "\n#" or text.startswith(("//", "/*"), at)):
            break
        if char in "{[(":
            depth += 1
        elif char in "}])":
            if depth == 0:
                break
            depth -= 1
        at = _token_end(text, at)
    while at > start and text[at - 1] in " \t\r":
        at -= 1
    return at


def _token_end(text: str, at: int) -> int:
    """The index after the atom starting at `at`: a string, a heredoc, a comment, one char."""
    char = text[at]
    if char == '"':
        return _string_end(text, at)
    if char == "#" or text.startswith("//", at):
        newline = text.find("\n", at)
        return len(text) if newline < 0 else newline
    if text.startswith("/*", at):
        close = text.find("*/", at + 2)
        return len(text) if close < 0 else close + 2
    heredoc = _HEREDOC.match(text, at)
    if heredoc is not None:
        return _heredoc_end(text, heredoc)
    return at + 1


def _string_end(text: str, at: int) -> int:
    at += 1
    while at < len(text):
        char = text[at]
        if char == "\\":
            at += 2
        elif char == '"':
            return at + 1
        elif text.startswith(("$${", "%%{"), at):
            at += 3  # an escaped template sequence is text
        elif text.startswith(("${", "%{"), at):
            at = _closing(text, at + 2, len(text)) + 1
        else:
            at += 1
    return len(text)


def _heredoc_end(text: str, heredoc: re.Match[str]) -> int:
    marker = heredoc.group(2)
    at = heredoc.end()
    while at < len(text):
        newline = text.find("\n", at)
        line_end = len(text) if newline < 0 else newline
        if text[at:line_end].strip() == marker:
            return line_end
        at = line_end + 1
    return len(text)


def heredoc_content(text: str, value: Span) -> Span | None:
    """The lines between a heredoc's opening line and its closing marker's line."""
    opening = _HEREDOC.match(text, value.start)
    if opening is None:
        return None
    closing_line = text.rfind("\n", 0, value.end) + 1
    return Span(opening.end(), closing_line)


def hcl_string(text: str) -> str:
    """A quoted HCL string: JSON's escapes, and `${`/`%{` escaped so nothing is a template."""
    return json.dumps(text, ensure_ascii=False).replace("${", "$${").replace("%{", "%%{")


def hcl_value(value: Any, indent: str, unit: str) -> str:
    """`value` in HCL syntax, starting where the caller writes it, lines after the first
    indented from `indent` as `terraform fmt` does (aligned `=` of one-line attributes,
    one item a line with a trailing comma)."""
    inner = indent + unit
    if isinstance(value, dict):
        if not value:
            return "{}"
        rendered = [(_key(k), hcl_value(v, inner, unit)) for k, v in value.items()]
        return "{\n" + "".join(_aligned(rendered, inner)) + indent + "}"
    if isinstance(value, list):
        if not value:
            return "[]"
        items = "".join(f"{inner}{hcl_value(v, inner, unit)},\n" for v in value)
        return "[\n" + items + indent + "]"
    if isinstance(value, str):
        return hcl_string(value)
    return json.dumps(value)


def _key(key: str) -> str:
    return key if _IDENTIFIER.fullmatch(key) else hcl_string(key)


def _aligned(rendered: list[tuple[str, str]], indent: str) -> list[str]:
    """One line per attribute; runs of one-line values have their `=` aligned."""
    lines: list[str] = []
    run: list[tuple[str, str]] = []

    def flush() -> None:
        width = max((len(k) for k, _ in run), default=0)
        lines.extend(f"{indent}{k.ljust(width)} = {v}\n" for k, v in run)
        run.clear()

    for key, text in rendered:
        if "\n" in text:
            flush()
            lines.append(f"{indent}{key} = {text}\n")
        else:
            run.append((key, text))
    flush()
    return lines
