"""`alpha scan`: every principal of an account ranked by excess, with its flags.

Reads the account snapshot, brings the usage store up to date with the sources (as `alpha
usage` does), then ranks. Exit status: 0; 1 when `--fail-on` names a flag some principal has
(every principal counts, not only those `--top` shows); 2 on an error. Findings do not fail the
run by default: a scan is a report, and an account almost always has some; a pipeline that
must block on, say, admin-equivalent roles asks for it with `--fail-on admin`.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from alpha.app.org_report_file import DEFAULT_ORG_REPORT
from alpha.cli.org_options import chosen_org, org_flags, org_options, org_request, read_org
from alpha.cli.paths import ACCOUNT_HELP, AccountSource
from alpha.cli.usage import read_progress, time_window
from alpha.scan.model import FLAG_CODES, ScanReport

if TYPE_CHECKING:
    from alpha.app.backends import Backends
    from alpha.app.org_scanning import OrgRequest

FORMATS = ("table", "json")


def _flag_codes(_ctx: click.Context, _param: click.Parameter, value: str | None) -> frozenset[str]:
    if not value:
        return frozenset()
    codes = frozenset(part.strip().lower() for part in value.split(",") if part.strip())
    unknown = sorted(codes - set(FLAG_CODES))
    if unknown:
        raise click.BadParameter(
            f"unknown flag {', '.join(unknown)}: choose from {', '.join(FLAG_CODES)}"
        )
    return codes


@click.command()
@click.option(
    "--account",
    "account_file",
    metavar="FILE|aws|aws://PROFILE",
    type=AccountSource(dir_okay=False, path_type=Path),
    help=ACCOUNT_HELP,
)
@click.option(
    "--usage",
    "sources",
    multiple=True,
    required=True,
    metavar="SOURCE",
    help="CloudTrail logs: a folder, a file, s3://bucket/prefix or lookup://REGION "
    "(repeat for several).",
)
@click.option("--since", metavar="DATE", help="From this day or ISO time (UTC unless given).")
@click.option("--until", metavar="DATE", help="Up to this time; a day alone includes that day.")
@click.option(
    "--store",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path(".alpha") / "usage.duckdb",
    show_default=True,
    help="The DuckDB file usage is kept in between runs.",
)
@click.option("--format", "output", type=click.Choice(FORMATS), default="table", show_default=True)
@click.option("--top", type=click.IntRange(min=1), help="Show only the N highest ranked.")
@click.option(
    "--fail-on",
    "fail_on",
    metavar="FLAGS",
    callback=_flag_codes,
    help=f"Exit 1 when any principal has one of these flags (comma-separated: "
    f"{', '.join(FLAG_CODES)}).",
)
@org_options
@click.option(
    "--save",
    is_flag=True,
    help="With --org: keep the report in --org-report for the web console's /org page "
    "(a report that covers no account does not replace the one saved before).",
)
@click.option(
    "--org-report",
    "org_report",
    type=click.Path(dir_okay=False, path_type=Path),
    default=DEFAULT_ORG_REPORT,
    show_default=True,
    help="Where --save keeps the organisation report.",
)
def scan(
    *,
    account_file: str | Path | None,
    sources: tuple[str, ...],
    since: str | None,
    until: str | None,
    store: Path,
    output: str,
    top: int | None,
    fail_on: frozenset[str],
    org: str | None,
    units: tuple[str, ...],
    org_tags: tuple[str, ...],
    org_accounts: tuple[str, ...],
    save: bool,
    org_report: Path,
) -> None:
    """Rank the account's roles and users by excess: grants never used in the window,
    weighted by access level (Permissions management 5, Write 3, Read 1, Tagging 1, List
    0.5). Flags principals that are admin-equivalent, can escalate privileges, made no
    allowed call in the window, or are shared by people whose actions never overlap (split);
    lists the people behind shared roles (see docs/people.md)."""
    from alpha.app import ScanRequest
    from alpha.app.scanning import scan as scan_usage
    from alpha.cli.scan_render import render_json, render_table, warn_problems
    from alpha.cli.workflow_options import report_backends

    flags = org_flags(org, units, org_tags, org_accounts)
    org_settings = read_org(flags)
    if chosen_org(account_file, flags, org_settings):
        window = time_window(since, until)
        backends = report_backends(store, org=org_settings)
        wanted = org_request(org_settings, sources, window)
        _scan_org(backends, wanted, output, top, fail_on, save_to=org_report if save else None)
        return
    if save:
        raise click.UsageError("--save keeps an organisation's report: give --org too")
    request = ScanRequest(str(account_file), sources, time_window(since, until))
    with read_progress() as (on_start, on_progress):
        outcome = scan_usage(report_backends(store), request, on_start, on_progress)
    warn_problems(outcome.problems, outcome.unlisted)
    result = outcome.report
    if output == "json":
        render_json(result, top)
    else:
        render_table(result, top)
    _exit_on(result, fail_on)


def _scan_org(
    backends: Backends,
    request: OrgRequest,
    output: str,
    top: int | None,
    fail_on: frozenset[str],
    *,
    save_to: Path | None,
) -> None:
    """The organisation's report: accounts by excess, the worst principals, escalation paths,
    unused roles, and the accounts not covered (also warned about on stderr)."""
    from alpha.app.org_report_file import save_org_report
    from alpha.app.org_scanning import scan_organization
    from alpha.cli.org_render import render_org_json, render_org_table, warn_not_covered
    from alpha.cli.scan_render import warn_problems

    with read_progress() as (on_start, on_progress):
        outcome = scan_organization(backends, request, on_start, on_progress)
    warn_problems(outcome.problems, outcome.unlisted)
    warn_not_covered(outcome.report.not_covered)
    if output == "json":
        render_org_json(outcome.report)
    else:
        render_org_table(outcome.report, top)
    if save_to is not None:
        save_org_report(save_to, outcome.report, datetime.now(UTC))
        click.echo(f"saved the organisation report to {save_to}", err=True)
    _exit_flagged(outcome.report.flagged(fail_on), fail_on)


def _exit_on(result: ScanReport, codes: frozenset[str]) -> None:
    _exit_flagged(len(result.flagged(codes)), codes)


def _exit_flagged(count: int, codes: frozenset[str]) -> None:
    if count:
        click.echo(
            f"alpha: {count} principal{'' if count == 1 else 's'} flagged "
            f"{' or '.join(sorted(codes))} (--fail-on)",
            err=True,
        )
        sys.exit(1)
