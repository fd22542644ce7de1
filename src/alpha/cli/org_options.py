"""`--org SOURCE` and its filters, shared by `scan`, `generate`, `propose` and `alpha org`."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:
    from alpha.app.org_scanning import OrgRequest
    from alpha.app.org_settings import OrgFlags, OrgSettings
    from alpha.usage.ports import TimeWindow

F = TypeVar("F", bound=Callable[..., Any])

ORG_HELP = (
    "Every account of an organisation instead of one: `aws` / `aws://PROFILE` (AWS "
    "Organizations, each account's IAM through [org] role / ALPHA_ORG_ROLE) or a folder "
    "`alpha org export` wrote (ALPHA_ORG; [org] source). Not with --account."
)


def org_options(command: F) -> F:
    """Add `--org`, `--ou`, `--org-tag` and `--org-account`; the command receives them as
    `org`, `units`, `org_tags` and `org_accounts`."""
    options = [
        click.option("--org", "org", metavar="DIR|aws|aws://PROFILE", help=ORG_HELP),
        click.option(
            "--ou",
            "units",
            multiple=True,
            metavar="ID",
            help="Only accounts under this OU, nested OUs included (repeatable).",
        ),
        click.option(
            "--org-tag",
            "org_tags",
            multiple=True,
            metavar="KEY=VALUE",
            help="Only accounts with this tag (repeatable: all must hold).",
        ),
        click.option(
            "--org-account",
            "org_accounts",
            multiple=True,
            metavar="ID",
            help="Only this account (repeatable).",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def org_flags(
    org: str | None,
    units: tuple[str, ...],
    org_tags: tuple[str, ...],
    org_accounts: tuple[str, ...],
) -> OrgFlags:
    from alpha.app.org_settings import OrgFlags

    return OrgFlags(org, units, org_tags, org_accounts)


def read_org(flags: OrgFlags) -> OrgSettings:
    """The organisation's settings for the commands without workflow settings (flags, ALPHA_*,
    then ALPHA_CONFIG or ./alpha.toml's [org])."""
    from alpha.app.org_settings import read_org_settings

    return read_org_settings(flags, os.environ, Path.cwd())


def chosen_org(account: object | None, flags: OrgFlags, settings: OrgSettings) -> bool:
    """True: the command covers the organisation; False: the one `--account`."""
    if account is not None:
        if flags.source or flags.filters:
            raise click.UsageError("give either --account or --org (and its filters), not both")
        return False
    if settings.source is None:
        raise click.UsageError("give --account FILE|aws or --org DIR|aws (or set ALPHA_ORG)")
    return True


def org_request(
    settings: OrgSettings,
    sources: tuple[str, ...],
    window: TimeWindow,
    *,
    principal: str | None = None,
    keep_unmapped: bool = True,
) -> OrgRequest:
    from dataclasses import replace

    from alpha.app.org_scanning import OrgRequest

    wanted = settings.wanted
    if principal is not None and principal.count(":") >= 5:
        wanted = replace(wanted, ids=(principal.split(":")[4],))  # only the principal's account
    if settings.source is None:
        raise click.UsageError("give --org DIR|aws (or set ALPHA_ORG)")
    return OrgRequest(
        settings.source,
        sources,
        window,
        wanted,
        settings.max_parallel,
        principal=principal,
        keep_unmapped=keep_unmapped,
    )
