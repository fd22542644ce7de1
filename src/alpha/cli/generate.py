"""`alpha generate`: least-privilege policy proposals from CloudTrail usage.

Exit codes: 0 when every proposal can go to approval; 1 when a proposal has blocking
guardrail violations (the house rule: findings that block exit 1; the proposals are still
written); 2 for bad input (unknown principal, unreadable files, no usage), or when a principal
of `--all` could not be proposed for (a warning each; the others are still written).

With `--all` each proposal is written out as soon as it is made and then let go, so memory
holds the proposals being made, not every principal's.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import click

from alpha.cli.org_options import chosen_org, org_flags, org_options, org_request, read_org
from alpha.cli.paths import ACCOUNT_HELP, AccountSource
from alpha.cli.usage import time_window
from alpha.cli.workflow_options import model_options
from alpha.generate.model import GenerationFailure, PolicyProposal
from alpha.generate.run import Outcome

if TYPE_CHECKING:
    from alpha.app.backends import Backends
    from alpha.app.org_scanning import OrgRequest

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
    type=AccountSource(dir_okay=False, path_type=Path),
    metavar="FILE|aws|aws://PROFILE",
    help=ACCOUNT_HELP,
)
@org_options
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
@model_options
@click.option(
    "--drop-unmapped",
    is_flag=True,
    help="Drop today's grants of services whose calls ALPHA cannot map (kept by default: "
    "those calls would fail).",
)
def generate(
    *,
    principal: str | None,
    every: bool,
    sources: tuple[str, ...],
    account: str | Path | None,
    org: str | None,
    units: tuple[str, ...],
    org_tags: tuple[str, ...],
    org_accounts: tuple[str, ...],
    guardrails_file: Path | None,
    output: str,
    since: str | None,
    until: str | None,
    store: Path,
    reasoner: str | None,
    engine: str | None,
    drop_unmapped: bool,
) -> None:
    """Propose a least-privilege policy from what the principal really did: never wider than
    today (proven), still allowing every call seen (replayed), explained, risk-scored and
    checked against the guardrails. Exit 1 when a proposal has blocking violations."""
    from alpha.app import GenerateRequest
    from alpha.app.proposing import prepare
    from alpha.cli.workflow_options import report_backends

    if every == (principal is not None):
        raise click.UsageError("give either --principal ARN or --all")
    flags = org_flags(org, units, org_tags, org_accounts)
    org_settings = read_org(flags)
    backends = report_backends(
        store, guardrails_file, reasoner=reasoner, engine=engine, org=org_settings
    )
    if chosen_org(account, flags, org_settings):
        window = time_window(since, until)
        found = org_request(
            org_settings, sources, window, principal=principal, keep_unmapped=not drop_unmapped
        )
        _every(_org_outcomes(backends, found), output)
        return
    request = GenerateRequest(
        str(account), sources, principal, time_window(since, until), not drop_unmapped
    )
    stream = prepare(backends, request, _progress)
    if principal is not None:
        _one(list(stream.outcomes()), principal, sources, output)
    else:
        _every(stream.outcomes(), output)


def _one(outcomes: list[Outcome], principal: str, sources: tuple[str, ...], output: str) -> None:
    from alpha.cli.generate_render import render_json, render_terminal
    from alpha.generate.errors import GenerateError

    for outcome in outcomes:
        if isinstance(outcome, GenerationFailure):
            raise GenerateError(outcome.reason)
    proposals = [o for o in outcomes if isinstance(o, PolicyProposal)]
    _progress(f"{len(proposals)} proposals")
    if not proposals:
        raise GenerateError(f"{principal}: no usage in {', '.join(sources)}")
    if output == "json":
        render_json(proposals, single=True)
    else:
        render_terminal(proposals)
    if proposals[0].blocked:
        sys.exit(1)


def _every(outcomes: Iterator[Outcome], output: str) -> None:
    """Each proposal written (or kept as a table row) as it is made, then let go: a run over
    thousands of principals holds one at a time. A principal that cannot be proposed for is
    a warning, and the run ends with exit 2 once the others are written."""
    from alpha.cli.generate_render import JsonArrayWriter, render_summary, summary_row

    writer = JsonArrayWriter() if output == "json" else None
    rows: list[tuple[str, ...]] = []
    made = failed = blocked = 0
    for outcome in outcomes:
        if isinstance(outcome, GenerationFailure):
            click.echo(
                f"alpha: warning: no proposal for {outcome.principal}: {outcome.reason}", err=True
            )
            failed += 1
            continue
        made += 1
        blocked += outcome.blocked
        if writer is not None:
            writer.add(outcome.to_dict())
        else:
            rows.append(summary_row(outcome))
    if writer is not None:
        writer.close()
    else:
        render_summary(rows)
    _progress(f"{made} proposals" + (f", {failed} failed" if failed else ""))
    if failed:
        click.echo(f"alpha: error: {failed} principal(s) could not be proposed for", err=True)
        sys.exit(2)
    if blocked:
        sys.exit(1)


def _org_outcomes(backends: Backends, request: OrgRequest) -> Iterator[Outcome]:
    """Every covered account's outcomes in turn; an account not covered is a warning."""
    from alpha.app.org_scanning import generate_organization
    from alpha.cli.org_render import warn_not_covered
    from alpha.org import AccountReadFailure

    for item in generate_organization(backends, request, _progress):
        if isinstance(item, AccountReadFailure):
            warn_not_covered([item])
            continue
        _progress(f"account {item.account.id} ({item.account.name}):")
        yield from item.stream.outcomes()


def _progress(message: str) -> None:
    click.echo(message, err=True)


__all__: Sequence[str] = ("generate",)
