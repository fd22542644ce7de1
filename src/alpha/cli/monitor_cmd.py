"""`alpha monitor publish SOURCE...`: publish the `ALPHA/IAM` metrics of every CloudTrail
delivery of the sources not published before (see `alpha.app.monitoring`), for the CloudWatch
monitor and for dashboards and alarms.

Run it on a schedule (every few minutes) or from S3 notifications. Exit codes: 0; 1 when a
delivery could not be read (it is tried again next run) or had records that could not be;
2 for an error (nothing of the failed request is recorded as published).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from alpha.app.monitoring import PublishReport

FORMATS = ("table", "json")


@click.group()
def monitor() -> None:
    """CloudWatch metrics of what principals' calls did."""


@monitor.command()
@click.argument("sources", nargs=-1, required=True)
@click.option(
    "--usage-store",
    metavar="FILE",
    help="The usage store (default .alpha/usage.duckdb; ALPHA_USAGE_STORE; [rollout] "
    "usage_store); the ledger of published deliveries is kept beside it.",
)
@click.option("--config", metavar="FILE", help="Settings file (default ./alpha.toml).")
@click.option("--now", metavar="TIME", help="Act as of this UTC time (ALPHA_NOW).")
@click.option("--format", "output", type=click.Choice(FORMATS), default="table", show_default=True)
def publish(
    *,
    sources: tuple[str, ...],
    usage_store: str | None,
    config: str | None,
    now: str | None,
    output: str,
) -> None:
    """Read the new deliveries of SOURCE... (folders, s3://bucket/prefix) into the usage
    store and publish per principal and minute Calls, AccessDenied and IAMErrorRate, then a
    DeliveredUntil marker, to CloudWatch (namespace ALPHA/IAM)."""
    from alpha.app import Flags, application_for, load_settings

    flags = Flags(config=config, usage_store=usage_store, now=now)
    settings = load_settings(flags, os.environ, Path.cwd())
    report = application_for(settings, os.environ).publish_metrics(sources)
    if output == "json":
        from alpha.cli.workflow_render import emit_json

        emit_json(report.to_dict())
    else:
        _render(report)
    if report.problems or report.unread:
        sys.exit(1)


def _render(report: PublishReport) -> None:
    covered = "no events" if report.covered_until is None else report.covered_until.isoformat()
    click.echo(
        f"published {report.deliveries} new deliveries: {report.points} data points for "
        f"{len(report.principals)} principals, logs up to {covered}"
    )
    click.echo(f"already published: {report.already}")
    if report.left_out:
        click.echo(
            f"left out: {report.left_out} points older than 14 days or over 2 hours ahead "
            "(CloudWatch takes no others)"
        )
    for key in report.changed:
        click.echo(f"changed after publishing, not published again: {key}", err=True)
    if report.unread:
        click.echo(f"unread records: {report.unread} (published as UnreadRecords)", err=True)
    for problem in report.problems:
        click.echo(f"problem: {problem.describe()}", err=True)
