"""Reading a report over many principals a part at a time: the principals in order, in parts
of about `ROWS_PER_PART` stored rows (the outline counts them), one query per part, so memory
holds one part whatever the number of principals (a decoded report row is about 1 KB)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

__all__ = ["ROWS_PER_PART", "parts"]

ROWS_PER_PART = 100_000
T = TypeVar("T")


def parts(
    items: Iterable[T], rows: Callable[[T], int], limit: int = ROWS_PER_PART
) -> Iterator[list[T]]:
    """The items in order, in parts of at most `limit` rows (an item with more is a part
    alone)."""
    part: list[T] = []
    held = 0
    for item in items:
        size = rows(item)
        if part and held + size > limit:
            yield part
            part, held = [], 0
        part.append(item)
        held += size
    if part:
        yield part
