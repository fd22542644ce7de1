"""`alpha generate`: least-privilege policy proposals from CloudTrail usage.

Exit codes: 0 when every proposal can go to approval; 1 when a proposal has blocking
guardrail violations (the house rule: findings that block exit 1; the proposals are still
written); 2 for bad input (unknown principal, unreadable files, no usage).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

import click

from alpha.cli.usage import time_window

FORMATS = ("table", "json")


@click.command()
@click.option("--principal", metavar="ARN", help="The role or user to propose a policy for.")
@click.option(
    "--all", "every", is_flag=True, help="Every principal in the snapshot that has usage."
)
@click.option(
    "--usage",
    "sources",
    metavar="SOURCE",
    multiple=True,
    required=True,
    help="CloudTrail logs: a folder, file, s3://bucket/prefix or lookup://REGION (repeatable).",
)
@click.option(
    "--account",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="`aws iam get-account-authorization-details` output.",
)
@click.option(
    "--guardrails",
    "guardrails_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="alpha.toml with a [guardrails] table (ALPHA_* variables apply on top).",
)
@click.option("--format", "output", type=click.Choice(FORMATS), default="table", show_default=True)
@click.option("--since", metavar="DATE", help="From this day or ISO time (UTC unless given).")
@click.option("--until", metavar="DATE", help="Up to this time; a day alone includes that day.")
@click.option(
    "--store",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path(".alpha") / "usage.duckdb",
    show_default=True,
    help="The DuckDB file usage is kept in between runs.",
)
def generate(
    *,
    principal: str | None,
    every: bool,
    sources: tuple[str, ...],
    account: Path,
    guardrails_file: Path | None,
    output: str,
    since: str | None,
    until: str | None,
    store: Path,
) -> None:
    """Propose a least-privilege policy from what the principal really did: never wider than
    today (proven), still allowing every call seen (replayed), explained, risk-scored and
    checked against the guardrails. Exit 1 when a proposal has blocking violations."""
    from alpha.app import GenerateRequest
    from alpha.cli.generate_render import render_json, render_terminal
    from alpha.cli.workflow_options import report_application
    from alpha.generate.errors import GenerateError

    if every == (principal is not None):
        raise click.UsageError("give either --principal ARN or --all")
    request = GenerateRequest(str(account), sources, principal, time_window(since, until))
    app = report_application(store, guardrails_file)
    run = app.generate(request, on_progress=_progress).run
    if run.failures:
        first = run.failures[0]
        raise GenerateError(first.reason)
    proposals = list(run.proposals)
    if principal is not None and not proposals:
        raise GenerateError(f"{principal}: no usage in {', '.join(sources)}")
    if output == "json":
        render_json(proposals, single=principal is not None)
    else:
        render_terminal(proposals)
    if any(p.blocked for p in proposals):
        sys.exit(1)


def _progress(message: str) -> None:
    click.echo(message, err=True)


__all__: Sequence[str] = ("generate",)
