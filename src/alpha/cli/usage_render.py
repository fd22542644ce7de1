"""Output of `alpha usage`: a rich table, one JSON object, JSON lines or CSV.

With `json`, stdout holds exactly one object, `{"summary": ..., "usage": [...]}`. With `jsonl`
and `csv`, stdout holds only the usage rows and the summary goes to stderr, so the rows can be
piped. Problems met in this run (skipped files and records) are warnings on stderr, except in
`json` where they are part of the summary.
"""

from __future__ import annotations

import csv
import sys
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import click
import msgspec

from alpha.usage.aggregate import UsageRow, UsageSummary
from alpha.usage.reader import ReadProblem

_MAX_WARNINGS = 20
_CSV_HEADER = (
    "principal",
    "action",
    "resource",
    "count",
    "denied",
    "first_seen",
    "last_seen",
    "sessions",
    "regions",
)


def render_documents(
    output: str,
    summary: UsageSummary,
    problems: Sequence[ReadProblem],
    documents: Iterable[list[str]],
    unlisted: int = 0,
) -> None:
    """`json` or `jsonl` from rows that are JSON objects already (see `usage_documents`)."""
    out = sys.stdout
    if output == "json":
        head = msgspec.json.encode({"summary": summary_document(summary, problems, unlisted)})
        out.write(head[:-1].decode() + ',"usage":[')
        separator = ""
        for slice_ in documents:
            if slice_:
                out.write(separator)  # apart: joined to the slice it would copy 5 MB again
                out.write(",".join(slice_))
                separator = ","
        out.write("]}\n")
        out.flush()
        return
    warn_problems(problems, unlisted)
    for slice_ in documents:
        out.write("".join(f"{document}\n" for document in slice_))
    out.flush()
    click.echo(summary_line(summary), err=True)


def render_rows(
    output: str,
    summary: UsageSummary,
    problems: Sequence[ReadProblem],
    rows: Sequence[UsageRow],
    unlisted: int = 0,
) -> None:
    """`csv` or `table`."""
    warn_problems(problems, unlisted)
    if output == "csv":
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(_CSV_HEADER)
        writer.writerows(_csv_row(row) for row in rows)
        click.echo(summary_line(summary), err=True)
    else:
        _table(summary, rows)


def summary_document(
    summary: UsageSummary, problems: Sequence[ReadProblem], unlisted: int
) -> dict[str, Any]:
    return {
        "files": summary.files,
        "events": summary.events,
        "events_read": summary.events_read,
        "skipped": dict(summary.skipped),
        "unmapped": [
            {"event_source": u.event_source, "event_name": u.event_name, "count": u.count}
            for u in summary.unmapped
        ],
        "problems": [
            {"file": p.file, "record": p.record, "reason": p.reason, "detail": p.detail}
            for p in problems
        ],
        # skipped records past what a run describes: counted in `skipped`, not listed
        "problems_unlisted": unlisted,
    }


def _csv_row(row: UsageRow) -> tuple[object, ...]:
    return (
        row.principal,
        row.action,
        row.resource,
        row.count,
        row.denied,
        rfc3339(row.first_seen),
        rfc3339(row.last_seen),
        ";".join(row.sessions),
        ";".join(row.regions),
    )


def rfc3339(moment: datetime) -> str:
    """RFC 3339 in UTC with a `Z`, as in the JSON output (isoformat is faster than strftime)."""
    return moment.isoformat().replace("+00:00", "Z")


def summary_line(summary: UsageSummary) -> str:
    parts = [
        f"{summary.files:,} files",
        f"{summary.events:,} events ({summary.events_read:,} read now)",
    ]
    if summary.skipped:
        skipped = ", ".join(f"{reason} {n:,}" for reason, n in summary.skipped.items())
        parts.append(f"skipped: {skipped}")
    if summary.unmapped:
        total = sum(u.count for u in summary.unmapped)
        parts.append(f"unmapped: {total:,} events of {len(summary.unmapped)} kinds")
    return "alpha: " + "; ".join(parts)


def warn_problems(problems: Iterable[ReadProblem], unlisted: int) -> None:
    shown = 0
    hidden = unlisted
    for problem in problems:
        if shown < _MAX_WARNINGS:
            click.echo(f"alpha: warning: skipped {problem.describe()}", err=True)
            shown += 1
        else:
            hidden += 1
    if hidden:
        click.echo(f"alpha: warning: ... and {hidden:,} more skipped", err=True)


def _table(summary: UsageSummary, rows: Sequence[UsageRow]) -> None:
    # Deferred, as is rich: JSON, JSON lines and CSV output need neither.
    from rich.table import Table

    from alpha.cli.console import stdout_console

    table = Table(show_lines=False)
    for name, justify in (
        ("principal", "left"),
        ("action", "left"),
        ("resource", "left"),
        ("count", "right"),
        ("denied", "right"),
        ("first seen", "left"),
        ("last seen", "left"),
        ("sessions", "left"),
        ("regions", "left"),
    ):
        table.add_column(name, justify=justify, overflow="fold")  # type: ignore[arg-type]
    for row in rows:
        table.add_row(
            row.principal,
            row.action,
            row.resource,
            f"{row.count:,}",
            f"{row.denied:,}" if row.denied else "",
            rfc3339(row.first_seen),
            rfc3339(row.last_seen),
            ", ".join(row.sessions),
            ", ".join(row.regions),
        )
    console = stdout_console()
    console.print(table)
    console.print(summary_line(summary), highlight=False, markup=False)
    for unmapped in summary.unmapped[:_MAX_WARNINGS]:
        console.print(
            f"  unmapped {unmapped.event_source} {unmapped.event_name}: {unmapped.count:,}",
            highlight=False,
            markup=False,
        )
