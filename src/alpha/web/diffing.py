"""The existing and the proposed policy side by side, line by line, with what differs marked."""

from __future__ import annotations

import difflib
from dataclasses import dataclass

__all__ = ["DiffRow", "side_by_side"]


@dataclass(frozen=True, slots=True)
class DiffRow:
    """One row: the left (existing) and right (proposed) line, and how they differ:
    `same`, `removed` (left only), `added` (right only) or `changed`."""

    left: str | None
    right: str | None
    kind: str


def side_by_side(existing: str, proposed: str) -> list[DiffRow]:
    left, right = existing.splitlines(), proposed.splitlines()
    rows: list[DiffRow] = []
    matcher = difflib.SequenceMatcher(a=left, b=right, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            rows += [DiffRow(line, line, "same") for line in left[i1:i2]]
        elif tag == "delete":
            rows += [DiffRow(line, None, "removed") for line in left[i1:i2]]
        elif tag == "insert":
            rows += [DiffRow(None, line, "added") for line in right[j1:j2]]
        else:
            old, new = left[i1:i2], right[j1:j2]
            for n in range(max(len(old), len(new))):
                a = old[n] if n < len(old) else None
                b = new[n] if n < len(new) else None
                kind = (
                    "changed"
                    if a is not None and b is not None
                    else ("removed" if b is None else "added")
                )
                rows.append(DiffRow(a, b, kind))
    return rows
