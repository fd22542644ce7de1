"""Output of `alpha scan`: a rich table on a terminal, or a JSON list for scripts.

JSON: stdout holds exactly one list, a `PrincipalScore.to_dict()` per principal in rank order
(the first `--top` only, when given). Notes about the input (unreadable log files, callers the
snapshot does not hold) go to stderr in both formats.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence

import click

from alpha.cli.console import stdout_console
from alpha.scan.model import (
    ADMIN,
    ESCALATION,
    SPLIT,
    UNUSED,
    AdminEquivalent,
    EscalationRisk,
    PrincipalScore,
    ScanFinding,
    ScanReport,
    SplitByPerson,
    UnusedPrincipal,
)
from alpha.usage.reader import ReadProblem

_MAX_WARNINGS = 20
_SHOWN_METHODS = 1
_FLAG_STYLES = {ADMIN: "bold red", ESCALATION: "red", UNUSED: "yellow", SPLIT: "cyan"}
_SHOWN_PEOPLE = 3


def render_json(report: ScanReport, top: int | None) -> None:
    _note_unknown(report)
    scores = report.scores[:top] if top else report.scores
    sys.stdout.write(json.dumps([score.to_dict() for score in scores], indent=2) + "\n")
    sys.stdout.flush()


def render_table(report: ScanReport, top: int | None) -> None:
    from rich.table import Table
    from rich.text import Text

    table = Table(show_lines=False)
    table.add_column("#", justify="right")
    table.add_column("principal", overflow="fold", ratio=3)
    table.add_column("granted", justify="right")
    table.add_column("used", justify="right")
    table.add_column("excess", justify="right")
    table.add_column("unused", justify="right")
    table.add_column("flags", overflow="fold", ratio=2)
    for score in report.scores[:top] if top else report.scores:
        flags = Text()
        for number, flag in enumerate(score.flags):
            flags.append(("\n" if number else "") + _flag_text(flag), _FLAG_STYLES[flag.code])
        if score.people:
            flags.append(("\n" if score.flags else "") + people_text(score))
        table.add_row(
            str(score.rank),
            Text(_short_arn(score.principal)),
            f"{score.granted:,}",
            f"{score.used:,}",
            f"{score.score:,.1f}",
            f"{score.unused_share:.0%}",
            flags,
        )
    console = stdout_console()
    console.print(table)
    console.print(summary_line(report, top), highlight=False, markup=False)
    _note_unknown(report)


def summary_line(report: ScanReport, top: int | None) -> str:
    def count(code: str) -> int:
        return sum(1 for s in report.scores if code in s.flag_codes)

    shown = f", top {top} shown" if top and top < len(report.scores) else ""
    window = report.window
    span = (
        f"; window {window.since:%Y-%m-%d %H:%M} to {window.until:%Y-%m-%d %H:%M} UTC"
        if window.since and window.until
        else ""
    )
    return (
        f"{len(report.scores):,} principals{shown}: {count(ADMIN):,} admin-equivalent, "
        f"{count(ESCALATION):,} can escalate, {count(UNUSED):,} unused in the window{span}"
    )


def warn_problems(problems: Sequence[ReadProblem], unlisted: int = 0) -> None:
    for problem in problems[:_MAX_WARNINGS]:
        click.echo(f"alpha: warning: skipped {problem.describe()}", err=True)
    hidden = max(len(problems) - _MAX_WARNINGS, 0) + unlisted
    if hidden:
        click.echo(f"alpha: warning: ... and {hidden:,} more", err=True)


def _note_unknown(report: ScanReport) -> None:
    unknown = report.unknown_principals
    if unknown:
        names = ", ".join(unknown[:5]) + (
            f" and {len(unknown) - 5} more" if len(unknown) > 5 else ""
        )
        click.echo(
            f"alpha: note: {len(unknown)} caller{'' if len(unknown) == 1 else 's'} in the logs "
            f"not in the snapshot (not scored): {names}",
            err=True,
        )


def _flag_text(flag: ScanFinding) -> str:
    if isinstance(flag, AdminEquivalent):
        return "admin: " + ("every action" if flag.reason.startswith("every") else "iam:* on *")
    if isinstance(flag, EscalationRisk):
        names = [m.name for m in flag.methods]
        more = f" (+{len(names) - _SHOWN_METHODS} more)" if len(names) > _SHOWN_METHODS else ""
        return "escalation: " + "; ".join(names[:_SHOWN_METHODS]) + more
    if isinstance(flag, SplitByPerson):
        return f"split: {flag.people} people, disjoint actions"
    return _unused_text(flag)


def people_text(score: PrincipalScore) -> str:
    """`people: ann 40 calls 5 actions last 2024-05-01; ... (+3 more)`."""
    shown = [
        f"{p.person} {p.calls:,} calls {len(p.actions)} actions last {p.last_seen:%Y-%m-%d}"
        for p in score.people[:_SHOWN_PEOPLE]
    ]
    more = len(score.people) - _SHOWN_PEOPLE
    return "people: " + "; ".join(shown) + (f" (+{more} more)" if more > 0 else "")


def _unused_text(flag: UnusedPrincipal) -> str:
    if flag.last_used is None:
        return "unused"
    return f"unused (IAM last used {flag.last_used:%Y-%m-%d})"


def _short_arn(arn: str) -> str:
    """`role/path/name` rather than the whole ARN: the account is the same on every line."""
    parts = arn.split(":", 5)
    return parts[5] if len(parts) == 6 else arn
