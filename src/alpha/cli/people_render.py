"""Output of `alpha usage --people`: per shared principal, the people behind it.

One line per (principal, person): allowed and denied calls, the actions used, first and last
seen. A principal whose people use disjoint sets of actions is marked `split` (see
`alpha.usage.people.splits_by_person`). With `json`, stdout holds one object
`{"summary": ..., "people": [{"principal", "split", "people": [...]}, ...]}`; `jsonl` one such
principal object per line; `csv` one row per person. Person names come from CloudTrail: the
table prints them as plain text, never as markup.
"""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Mapping, Sequence
from typing import Any

import click

from alpha.cli.usage_render import rfc3339, summary_document, summary_line, warn_problems
from alpha.usage.aggregate import UsageSummary
from alpha.usage.people import PersonActivity, splits_by_person
from alpha.usage.reader import ReadProblem

_SHOWN_ACTIONS = 4
_CSV_HEADER = ("principal", "person", "calls", "denied", "actions", "first_seen", "last_seen")

People = Mapping[str, Sequence[PersonActivity]]


def render_people(
    output: str,
    summary: UsageSummary,
    problems: Sequence[ReadProblem],
    people: People,
    unlisted: int = 0,
) -> None:
    if output == "json":
        head = {"summary": summary_document(summary, problems, unlisted)}
        sys.stdout.write(json.dumps({**head, "people": _documents(people)}) + "\n")
        return
    warn_problems(problems, unlisted)
    if output == "jsonl":
        sys.stdout.writelines(json.dumps(d) + "\n" for d in _documents(people))
    elif output == "csv":
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(_CSV_HEADER)
        writer.writerows(_csv_row(p, a) for p, found in people.items() for a in found)
    else:
        _table(people)
    click.echo(summary_line(summary), err=True)


def _documents(people: People) -> list[dict[str, Any]]:
    return [
        {
            "principal": principal,
            "split": splits_by_person(found),
            "people": [a.to_dict() for a in found],
        }
        for principal, found in people.items()
    ]


def _csv_row(principal: str, found: PersonActivity) -> tuple[object, ...]:
    return (
        principal,
        found.person,
        found.calls,
        found.denied,
        ";".join(found.actions),
        rfc3339(found.first_seen),
        rfc3339(found.last_seen),
    )


def _table(people: People) -> None:
    from rich.table import Table
    from rich.text import Text

    from alpha.cli.console import stdout_console

    table = Table(show_lines=False)
    for name, justify in (
        ("principal", "left"),
        ("person", "left"),
        ("calls", "right"),
        ("denied", "right"),
        ("actions", "left"),
        ("last seen", "left"),
    ):
        table.add_column(name, justify=justify, overflow="fold")  # type: ignore[arg-type]
    for principal, found in people.items():
        split = " (split: disjoint actions)" if splits_by_person(found) else ""
        for number, activity in enumerate(found):
            table.add_row(
                Text(principal + split if number == 0 else ""),
                Text(activity.person),
                f"{activity.calls:,}",
                f"{activity.denied:,}" if activity.denied else "",
                Text(_actions(activity.actions)),
                rfc3339(activity.last_seen),
            )
    stdout_console().print(table)


def _actions(actions: Sequence[str]) -> str:
    more = len(actions) - _SHOWN_ACTIONS
    listed = ", ".join(actions[:_SHOWN_ACTIONS])
    return f"{len(actions)}: {listed}" + (f" (+{more} more)" if more > 0 else "")
