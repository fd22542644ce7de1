"""A Rich table of many rows, printed as Rich prints it but without Rich's cost per row.

Rich renders every cell through markup, measurement and wrapping: about 300 µs a row, so a
200,000-principal `account show` spent a minute in it. When the output takes no styles (a file
or a pipe), a row whose cells are plain words that fit their columns is written directly;
Rich still chooses the column widths (from the rows that decide them), renders the title,
header and borders, and renders every other row itself. The output is the same text, byte for
byte; tests/cli/test_plain_table.py compares the two on generated tables.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

__all__ = ["print_table"]

# Words of printable ASCII, single spaces between them: Rich measures them by `len` and wraps
# them only when longer than the column (no tab, line break, wide or combining character).
_PLAIN = re.compile(r"(?:[!-~]+(?: [!-~]+)*)?")
_PADDING = 2  # one space either side, as Rich's default (0, 1)
_TOP_LEFT, _TOP_JOIN = box.HEAVY_HEAD.top_left, box.HEAVY_HEAD.top_divider  # Table's default


def _table(title: str | None, headers: Sequence[str], widths: Sequence[int] | None = None) -> Table:
    heading = None if title is None else Text(title, style="table.title")  # data, not markup
    table = Table(title=heading, show_header=title is not None)
    for i, header in enumerate(headers):
        table.add_column(header, overflow="fold", width=None if widths is None else widths[i])
    return table


def _rich_table(title: str, headers: Sequence[str], rows: Sequence[Sequence[str]]) -> Table:
    table = _table(title, headers)
    for row in rows:
        table.add_row(*_texts(row))
    return table


def _texts(row: Sequence[str]) -> list[Text]:
    """Cells as text: data is never markup or emoji codes (an IAM path may hold `[/]`,
    which Rich would refuse); a table highlights nothing, so nothing else changes."""
    return [Text(cell) for cell in row]


def print_table(
    console: Console, title: str, headers: Sequence[str], rows: Sequence[Sequence[str]]
) -> None:
    """Print `Table(title=title)` with `headers` as columns (overflow "fold") and `rows` of
    plain text."""
    if console.is_terminal or console.color_system is not None:  # styles: Rich's own way
        console.print(_rich_table(title, headers, rows))
        return
    plain = [all(_PLAIN.fullmatch(cell) for cell in row) for row in rows]
    deciding = [row for row, ok in zip(rows, plain, strict=True) if not ok]
    deciding += _widest(rows, plain, len(headers))
    widths = _widths(_render(console, _rich_table(title, headers, deciding)))
    frame = _render(console, _table(title, headers, widths))
    lines = frame[:-1]  # the title, the top border, the header and its rule
    for row, ok in zip(rows, plain, strict=True):
        if ok and all(len(cell) <= width for cell, width in zip(row, widths, strict=True)):
            cells = (f" {cell.ljust(width)} " for cell, width in zip(row, widths, strict=True))
            lines.append("│" + "│".join(cells) + "│")
        else:
            alone = _table(None, headers, widths)
            alone.add_row(*_texts(row))
            lines.extend(_render(console, alone)[1:-1])  # its row without its borders
    lines.append(frame[-1])
    console.file.write("\n".join(lines) + "\n")


def _widest(rows: Sequence[Sequence[str]], plain: list[bool], columns: int) -> list[Sequence[str]]:
    """The plain rows that decide Rich's column widths: per column, the longest cell and the
    cell with the longest word (Rich measures a cell by both)."""
    picked: dict[int, Sequence[str]] = {}
    candidates = [i for i, ok in enumerate(plain) if ok]
    for column in range(columns if candidates else 0):
        longest = max(candidates, key=lambda i: len(rows[i][column]))
        wordiest = max(candidates, key=lambda i: max(map(len, rows[i][column].split()), default=0))
        picked[longest], picked[wordiest] = rows[longest], rows[wordiest]
    return list(picked.values())


def _widths(rendered: list[str]) -> list[int]:
    """The columns' widths inside their padding, read off the top border Rich drew."""
    top = next(line for line in rendered if line.startswith(_TOP_LEFT))
    return [len(part) - _PADDING for part in top[1:-1].split(_TOP_JOIN)]


def _render(console: Console, table: Table) -> list[str]:
    with console.capture() as captured:
        console.print(table)
    return captured.get().rstrip("\n").split("\n")
