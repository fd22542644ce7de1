"""Output of the organisation commands: `scan --org`'s report, `org show`, and the accounts
not covered (always on stderr too, so a script reading JSON still sees them)."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Sequence

import click
from rich.console import Console

from alpha.cli.console import stdout_console
from alpha.cli.plain_table import print_table
from alpha.cli.scan_render import _flag_text, _short_arn
from alpha.org.model import AccountReadFailure, OrgAccount, Organization
from alpha.org.report import OrgFinding, OrgScanReport
from alpha.scan.model import ADMIN, ESCALATION, UNUSED

_SHOWN = 20


def path_text(account: OrgAccount) -> str:
    return " / ".join(unit.name for unit in account.path)


def warn_not_covered(failures: Sequence[AccountReadFailure]) -> None:
    for failure in failures:
        click.echo(
            f"alpha: warning: account {failure.account_id} not covered: {failure.reason}", err=True
        )


def render_org_json(report: OrgScanReport) -> None:
    sys.stdout.write(json.dumps(report.to_dict(), indent=2) + "\n")
    sys.stdout.flush()


def render_org_table(report: OrgScanReport, top: int | None) -> None:
    console = stdout_console()
    rows = [
        (
            str(rank),
            summary.account.id,
            summary.account.name,
            path_text(summary.account),
            f"{summary.principals:,}",
            f"{summary.excess:,.1f}",
            str(summary.count(ADMIN)),
            str(summary.count(ESCALATION)),
            str(summary.count(UNUSED)),
        )
        for rank, summary in enumerate(report.accounts, start=1)
    ]
    headers = (
        "#",
        "account",
        "name",
        "OU path",
        "principals",
        "excess",
        "admin",
        "escalation",
        "unused",
    )
    print_table(console, "Accounts by excess", headers, rows)
    worst = report.worst[:top] if top else report.worst
    print_table(
        console,
        "Worst principals across the organisation",
        ("account", "principal", "excess", "flags"),
        [_finding_row(f) for f in worst],
    )
    _section(console, "Escalation paths", report.escalation, _escalation_text)
    _section(console, "Unused roles", report.unused_roles, lambda f: "")
    for failure in report.not_covered:
        console.print(
            f"not covered: {failure.account_id}: {failure.reason}", highlight=False, markup=False
        )
    console.print(_summary(report), highlight=False, markup=False)


def _finding_row(finding: OrgFinding) -> tuple[str, str, str, str]:
    flags = "; ".join(_flag_text(flag) for flag in finding.score.flags)
    return (
        finding.account,
        _short_arn(finding.score.principal),
        f"{finding.score.score:,.1f}",
        flags,
    )


def _escalation_text(finding: OrgFinding) -> str:
    return "; ".join(
        _flag_text(flag) for flag in finding.score.flags if flag.code in (ADMIN, ESCALATION)
    )


def _section(
    console: Console,
    title: str,
    findings: Sequence[OrgFinding],
    detail: Callable[[OrgFinding], str],
) -> None:
    shown = findings[:_SHOWN]
    more = f" (first {_SHOWN} of {len(findings):,})" if len(findings) > _SHOWN else ""
    console.print(f"{title}{more}: {'none' if not findings else ''}", highlight=False, markup=False)
    for finding in shown:
        text = detail(finding)
        console.print(
            f"  {finding.account} {_short_arn(finding.score.principal)}"
            + (f": {text}" if text else ""),
            highlight=False,
            markup=False,
        )


def _summary(report: OrgScanReport) -> str:
    covered = len(report.accounts)
    missing = len(report.not_covered)
    return (
        f"{covered:,} account{'' if covered == 1 else 's'} scanned, {missing:,} not covered; "
        f"{report.principals:,} principals: {len(report.escalation):,} with escalation paths "
        f"or admin-equivalent, {len(report.unused_roles):,} unused roles"
    )


def render_organization(
    organization: Organization, accounts: Sequence[OrgAccount], output: str
) -> None:
    if output == "json":
        sys.stdout.write(json.dumps([_account_dict(a) for a in accounts], indent=2) + "\n")
        return
    rows = [
        (
            a.id,
            a.name,
            a.status,
            path_text(a),
            ", ".join(f"{t.key}={t.value}" for t in a.tags),
            str(len(a.guardrails.scps)),
            str(len(a.guardrails.rcps)),
        )
        for a in accounts
    ]
    title = f"Organization {organization.id} (management account {organization.management_account})"
    print_table(
        stdout_console(),
        title,
        ("account", "name", "status", "OU path", "tags", "SCP levels", "RCP levels"),
        rows,
    )


def _account_dict(account: OrgAccount) -> dict[str, object]:
    return {
        "account": account.id,
        "name": account.name,
        "status": account.status,
        "path": [{"id": u.id, "name": u.name} for u in account.path],
        "tags": {t.key: t.value for t in account.tags},
        "scp_levels": len(account.guardrails.scps),
        "rcp_levels": len(account.guardrails.rcps),
    }
