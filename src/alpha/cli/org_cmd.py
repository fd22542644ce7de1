"""`alpha org show` and `alpha org export`: the organisation as ALPHA reads it.

`show` lists the covered accounts with their OU path, status and how many SCP and RCP levels
are over each. `export --out DIR` writes the organisation folder (organization.json and each
account's authorization details) from Organizations, to scan and propose offline with
`--org DIR`. Accounts that cannot be read are named on stderr with why; the others are
written. Exit 0, or 2 on an error (the organisation itself cannot be read).
"""

from __future__ import annotations

from pathlib import Path

import click

from alpha.cli.org_options import org_flags, org_options, read_org

FORMATS = ("table", "json")


@click.group()
def org() -> None:
    """The organisation: its accounts, OUs and SCP/RCP levels (see docs/org.md)."""


@org.command("show")
@org_options
@click.option("--format", "output", type=click.Choice(FORMATS), default="table", show_default=True)
def show(
    *,
    org: str | None,
    units: tuple[str, ...],
    org_tags: tuple[str, ...],
    org_accounts: tuple[str, ...],
    output: str,
) -> None:
    """The accounts, their OU path, status and SCP/RCP levels (no account's IAM is read)."""
    from alpha.cli.org_render import render_organization
    from alpha.cli.workflow_options import report_backends

    settings = read_org(org_flags(org, units, org_tags, org_accounts))
    if settings.source is None:
        raise click.UsageError("give --org DIR|aws (or set ALPHA_ORG)")
    source = report_backends(org=settings).organization(settings.source)
    organization = source.organization()
    render_organization(organization, organization.select(settings.wanted), output)


@org.command("export")
@org_options
@click.option(
    "--out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="The folder to write (organization.json, accounts/<id>.json).",
)
def export(
    *,
    org: str | None,
    units: tuple[str, ...],
    org_tags: tuple[str, ...],
    org_accounts: tuple[str, ...],
    out: Path,
) -> None:
    """Write the organisation folder: read it once live, then scan and propose offline."""
    from alpha.app.org_reading import AccountRead, export_organization
    from alpha.cli.org_render import warn_not_covered
    from alpha.cli.workflow_options import report_backends

    settings = read_org(org_flags(org, units, org_tags, org_accounts))
    if settings.source is None:
        raise click.UsageError("give --org aws|aws://PROFILE (or set ALPHA_ORG)")
    source = report_backends(org=settings).organization(settings.source)

    def progress(read: object) -> None:
        if isinstance(read, AccountRead):
            click.echo(f"read account {read.account.id} ({read.account.name})", err=True)

    exported = export_organization(
        source, out, settings.wanted, settings.max_parallel, on_account=progress
    )
    warn_not_covered(exported.failures)
    click.echo(
        f"wrote {out} with {len(exported.written)} account(s); {len(exported.failures)} not covered"
    )
