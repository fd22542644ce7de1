"""`alpha usage`: what each principal really did, from CloudTrail logs.

Reads the given sources into the usage store (only what is new since the last run), then
reports the rows of exactly those sources, filtered by principal and time.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import click

from alpha.usage.ports import TimeWindow

FORMATS = ("table", "json", "jsonl", "csv")
# Below this much to read, a progress bar would only flicker.
_PROGRESS_MIN_BYTES = 20 << 20


def _moment(text: str, *, end_of_day: bool) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise click.BadParameter(f"{text!r} is not a date (YYYY-MM-DD) or ISO time") from exc
    if end_of_day and len(text) == 10:
        moment += timedelta(days=1)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def time_window(since: str | None, until: str | None) -> TimeWindow:
    window = TimeWindow(
        since=None if since is None else _moment(since, end_of_day=False),
        until=None if until is None else _moment(until, end_of_day=True),
    )
    if window.since and window.until and window.since >= window.until:
        raise click.BadParameter("--since must be before --until")
    return window


@click.command()
@click.argument("sources", nargs=-1, required=True)
@click.option("--principal", metavar="ARN", help="Only this principal (a role, user ... ARN).")
@click.option("--since", metavar="DATE", help="From this day or ISO time (UTC unless given).")
@click.option("--until", metavar="DATE", help="Up to this time; a day alone includes that day.")
@click.option("--format", "output", type=click.Choice(FORMATS), default="table", show_default=True)
@click.option("--strict", is_flag=True, help="Stop at the first bad file or record (exit 2).")
@click.option(
    "--people",
    is_flag=True,
    help="Per shared role, the people behind it (calls, actions, last seen) instead of rows.",
)
@click.option(
    "--store",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path(".alpha") / "usage.duckdb",
    show_default=True,
    help="The DuckDB file usage is kept in between runs.",
)
def usage(
    *,
    sources: tuple[str, ...],
    principal: str | None,
    since: str | None,
    until: str | None,
    output: str,
    strict: bool,
    people: bool,
    store: Path,
) -> None:
    """Read CloudTrail from SOURCE... (folders, files, s3://bucket/prefix) and report, per
    principal, each action and resource used, with counts, denials and first/last seen.

    Usage is kept in the store, so a second run reads only new log files. Time filters select
    whole hours."""
    from alpha.cli.usage_render import render_documents, render_rows
    from alpha.cli.workflow_options import report_backends
    from alpha.usage.aggregate import UsageQuery
    from alpha.usage.ingest import ingest, summarize

    window = time_window(since, until)
    backends = report_backends(store)
    resolved = [backends.usage_source(text) for text in sources]
    with backends.open_usage_store() as usage_store:
        with read_progress() as (on_start, on_progress):
            report = ingest(
                resolved,
                usage_store,
                window,
                strict=strict,
                on_start=on_start,
                on_progress=on_progress,
            )
        summary = summarize(usage_store.summary(report.keys), report)
        query = UsageQuery(report.keys, principal, window)
        if people:
            from alpha.cli.people_render import render_people
            from alpha.usage.people import people_of

            found = people_of(usage_store.people(query))
            render_people(output, summary, report.problems, found, report.unlisted)
        elif output in ("json", "jsonl"):
            documents = usage_store.usage_documents(query)
            render_documents(output, summary, report.problems, documents, report.unlisted)
        else:
            render_rows(output, summary, report.problems, usage_store.usage(query), report.unlisted)


@contextmanager
def read_progress() -> Iterator[tuple[Callable[[int, int], None], Callable[[int, int], None]]]:
    """A transient progress bar on stderr, when stderr is a terminal and the read is long."""
    if not sys.stderr.isatty():
        yield _ignore, _ignore
        return
    from rich.console import Console
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

    bar = Progress(
        TextColumn("reading logs"),
        BarColumn(),
        DownloadColumn(),
        TextColumn("{task.fields[events]:,} events"),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=True,
        # Output is written after the bar stops; nothing needs to go through its proxies.
        redirect_stdout=False,
        redirect_stderr=False,
    )
    task = bar.add_task("read", total=None, events=0, visible=False)

    def start(batches: int, size: int) -> None:
        if size >= _PROGRESS_MIN_BYTES:
            bar.update(task, total=size, visible=True)
            bar.start()

    def advance(done: int, events: int) -> None:
        bar.update(task, completed=done, events=events)

    try:
        yield start, advance
    finally:
        bar.stop()


def _ignore(_first: int, _second: int) -> None:
    return None
