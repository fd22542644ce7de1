"""Editing text by spans, so every byte outside the changed spans stays as it was: replacing a
value, removing one item of a list (with its separating comma), appending one, and the
indentation of the line a span starts on."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable
from dataclasses import dataclass

from alpha.iac.errors import IacError

__all__ = [
    "Edit",
    "Span",
    "append_item",
    "apply_edits",
    "indent_unit",
    "line_indent",
    "reindent",
    "remove_items",
]

_FIRST_INDENT = re.compile(r"\n([ \t]+)\S")


@dataclass(frozen=True, slots=True)
class Span:
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Edit:
    """Replace text[start:end] with `text`."""

    start: int
    end: int
    text: str


def apply_edits(text: str, edits: Iterable[Edit], path: str) -> str:
    """`text` with every edit made; edits may not overlap (two changes to one span are a bug
    in the caller, said with the file's name)."""
    ordered = sorted(edits, key=lambda e: (e.start, e.end))
    for before, after in itertools.pairwise(ordered):
        if after.start < before.end:
            raise IacError(f"{path}: two changes overlap at offset {after.start}")
    out: list[str] = []
    last = 0
    for edit in ordered:
        out.append(text[last : edit.start])
        out.append(edit.text)
        last = edit.end
    out.append(text[last:])
    return "".join(out)


def line_indent(text: str, offset: int) -> str:
    """The whitespace that begins the line `offset` is on."""
    start = text.rfind("\n", 0, offset) + 1
    end = start
    while end < len(text) and text[end] in " \t":
        end += 1
    return text[start:end]


def indent_unit(text: str) -> str:
    """One level of indentation as the file writes it (two spaces when it does not say)."""
    found = _FIRST_INDENT.search(text)
    return found.group(1) if found else "  "


def reindent(block: str, indent: str) -> str:
    """`block` (several lines) with every line after the first indented by `indent`."""
    lines = block.split("\n")
    return "\n".join([lines[0], *[(indent + line) if line else line for line in lines[1:]]])


def remove_items(items: list[Span], indices: set[int], inside: Span) -> list[Edit]:
    """Remove the items at `indices` from a comma-separated list whose text between the
    brackets is `inside`, each run of them with the comma that joined it to a kept neighbour."""
    if set(range(len(items))) <= indices:
        return [Edit(inside.start, inside.end, "")]
    edits: list[Edit] = []
    run: list[int] = []
    for index in [*sorted(indices), -1]:
        if run and (index != run[-1] + 1):
            first, last = run[0], run[-1]
            if first > 0:
                edits.append(Edit(items[first - 1].end, items[last].end, ""))
            else:
                edits.append(Edit(items[0].start, items[last + 1].start, ""))
            run = []
        run.append(index)
    return edits


def append_item(text: str, items: list[Span], inside: Span, item: str, unit: str) -> Edit:
    """Add `item` (already indented for its place, first line bare) after the last item."""
    if not items:
        outer = line_indent(text, inside.start)
        body = reindent(item, outer + unit)
        return Edit(inside.start, inside.end, f"\n{outer}{unit}{body}\n{outer}")
    last = items[-1]
    if "\n" in text[inside.start : last.start]:
        indent = line_indent(text, last.start)
        return Edit(last.end, last.end, f",\n{indent}{reindent(item, indent)}")
    return Edit(last.end, last.end, f", {item}")
