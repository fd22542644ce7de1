"""`print_table` prints what Rich prints for the same table, byte for byte."""

from __future__ import annotations

import io
from collections.abc import Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console
from rich.table import Table
from rich.text import Text

from alpha.cli.plain_table import print_table

HEADERS = ("Principal", "Kind", "Policies", "Boundary", "Unresolved")
# Plain words, and what Rich treats specially: markup, emoji codes, escapes, line breaks, tabs,
# double spaces, wide and combining characters.
cells = st.one_of(
    st.text(alphabet="ab/-_.", max_size=30),
    st.text(alphabet="ab :[]\\/\n\t漢é", max_size=40),
    st.sampled_from(["", "[bold]x[/bold]", ":smile:", "a  b", " a", "a ", "x" * 70, ":a:b:"]),
)
rows = st.lists(st.tuples(*[cells] * len(HEADERS)), max_size=6)


def rich_output(console_width: int, table_rows: Sequence[Sequence[str]]) -> str:
    table = Table(title="Account 111122223333")
    for header in HEADERS:
        table.add_column(header, overflow="fold")
    for row in table_rows:
        table.add_row(*(Text(cell) for cell in row))
    out = io.StringIO()
    Console(file=out, width=console_width).print(table)
    return out.getvalue()


def plain_output(console_width: int, table_rows: Sequence[Sequence[str]]) -> str:
    out = io.StringIO()
    print_table(Console(file=out, width=console_width), "Account 111122223333", HEADERS, table_rows)
    return out.getvalue()


@settings(max_examples=300, deadline=None)
@given(rows, st.sampled_from([60, 80, 160]))
def test_the_same_text_as_rich(table_rows: list[tuple[str, ...]], width: int) -> None:
    assert plain_output(width, table_rows) == rich_output(width, table_rows)


def test_plain_rows_are_written_without_rich() -> None:
    table_rows = [(f"role/r{i}", "role", "1", "", "") for i in range(3)]
    text = plain_output(160, table_rows)
    assert text == rich_output(160, table_rows)
    assert "│ role/r2   │ role │ 1        │          │            │" in text


@pytest.mark.parametrize("title", ["Account 111122223333", "Policies of role/[/]x"])
def test_a_terminal_gets_rich_itself_styles_and_all(title: str) -> None:
    styled = [io.StringIO(), io.StringIO()]
    table = Table(title=title.replace("[", "\\["))  # the same title, escaped as markup
    table.add_column("Origin", overflow="fold")
    table.add_row("1")
    console = Console(file=styled[0], width=80, force_terminal=True, color_system="standard")
    console.print(table)
    console = Console(file=styled[1], width=80, force_terminal=True, color_system="standard")
    print_table(console, title, ["Origin"], [["1"]])
    assert styled[1].getvalue() == styled[0].getvalue()
    assert "\x1b[3m" in styled[1].getvalue()  # the title in italics, as Rich draws it
