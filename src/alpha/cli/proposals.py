"""`alpha propose`, `alpha proposals list|show|diff|export-account`, `alpha approve|reject`.

Proposals are stored immutable under their content hash: proposing the same content again
changes nothing and says so. The first `propose` imports the account file as the store's
working copy, which rollouts change (never the file); `proposals export-account` writes it out.
An account read live (`--account aws`) is not copied: its proposals roll out to live IAM.
Exit codes: 0; 1 when `propose` stored a proposal whose guardrail violations block approval;
2 for an error (one line on stderr).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from alpha.cli.org_options import chosen_org, org_flags, org_options, org_request
from alpha.cli.paths import ACCOUNT_HELP, AccountSource, UserPath
from alpha.cli.workflow_options import (
    application_of,
    model_options,
    note,
    spinner,
    workflow_options,
)
from alpha.errors import AlphaError
from alpha.policy.user_files import write_output
from alpha.store.model import ProposalState
from alpha.usage.ports import TimeWindow

if TYPE_CHECKING:
    from rich.console import Console

    from alpha.app import Application, Proposed
    from alpha.app.fleet_proposing import FleetRequest
    from alpha.app.org_scanning import OrgRequest
    from alpha.app.org_settings import OrgFlags, OrgSettings
    from alpha.app.proposing import ProposalSummary, ProposeResult

STATES = [s.value for s in ProposalState]


@click.command()
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
    "account_files",
    type=AccountSource(dir_okay=False, path_type=Path),
    multiple=True,
    metavar="FILE|aws|aws://PROFILE",
    help=ACCOUNT_HELP + " Repeat it with --role: one file per account, the canary's first.",
)
@org_options
@click.option("--principal", metavar="ARN", help="The role or user to propose a policy for.")
@click.option("--all", "every", is_flag=True, help="Every principal with usage.")
@click.option(
    "--role",
    metavar="NAME",
    help="The same role (NAME or /path/NAME) in every account given (repeated --account, or "
    "every account of --org DIR|aws holding it, with its filters): one proposal, rolled out "
    "across the accounts (docs/fleet-rollout.md).",
)
@click.option("--by", "by", metavar="NAME", help="Who proposes (default ALPHA_USER or login).")
@model_options
@workflow_options
def propose(
    *,
    sources: tuple[str, ...],
    account_files: tuple[str | Path, ...],
    org: str | None,
    units: tuple[str, ...],
    org_tags: tuple[str, ...],
    org_accounts: tuple[str, ...],
    principal: str | None,
    every: bool,
    role: str | None,
    by: str | None,
    output: str,
    store: str | None,
    config: str | None,
    now: str | None,
    reasoner: str | None,
    engine: str | None,
) -> None:
    """Generate least-privilege proposals from usage and store them for approval."""
    flags = org_flags(org, units, org_tags, org_accounts)
    app = application_of(
        store=store, config=config, now=now, user=by, reasoner=reasoner, engine=engine, org=flags
    )
    if role is not None:
        fleet = _fleet_request(
            role,
            account_files,
            sources,
            (flags, app.settings.org),
            every=every,
            principal=principal,
        )
        _propose_fleet(app, fleet, output)
        return
    if every == (principal is not None):
        raise click.UsageError("give either --principal ARN or --all")
    if len(account_files) > 1:
        raise click.UsageError("give one --account (several only with --role)")
    account_file = account_files[0] if account_files else None
    if chosen_org(account_file, flags, app.settings.org):
        _propose_org(
            app, org_request(app.settings.org, sources, TimeWindow(), principal=principal), output
        )
        return
    _propose_account(app, str(account_file), sources, principal, output)


def _propose_account(
    app: Application,
    account_file: str,
    sources: tuple[str, ...],
    principal: str | None,
    output: str,
) -> None:
    from alpha.app import GenerateRequest
    from alpha.cli.workflow_render import console, emit_json

    request = GenerateRequest(account_file, sources, principal)
    text = output != "json"
    out = console()

    def told(item: Proposed) -> None:
        """Each proposal in full as it is stored (the run keeps only a summary of it)."""
        _print_proposed(item, item.proposal.principal, out)

    with spinner("reading logs and generating proposals"):
        result = app.propose(request, on_progress=note, on_stored=told if text else None)
    if not text:
        emit_json(result.to_dict())
    else:
        _print_result(result, account_file, out)
    if result.blocked:
        sys.exit(1)


def _fleet_request(
    role: str,
    account_files: tuple[str | Path, ...],
    sources: tuple[str, ...],
    org: tuple[OrgFlags, OrgSettings],
    *,
    every: bool,
    principal: str | None,
) -> FleetRequest:
    from alpha.app.fleet_proposing import FleetRequest

    flags, settings = org
    if every or principal is not None:
        raise click.UsageError("--role proposes for one role: leave out --principal and --all")
    if account_files and (flags.source or flags.filters):
        raise click.UsageError("give either --account (repeated) or --org, not both")
    if len(account_files) == 1 or (not account_files and settings.source is None):
        raise click.UsageError("give --org DIR|aws or two --account FILE or more with --role")
    if account_files:
        return FleetRequest(role, tuple(str(a) for a in account_files), sources)
    return FleetRequest(
        role,
        (),
        sources,
        org=settings.source,
        wanted=settings.wanted,
        max_parallel=settings.max_parallel,
    )


def _propose_org(app: Application, request: OrgRequest, output: str) -> None:
    """Each covered account's proposals, stored per principal; accounts not covered are
    listed (and warned about on stderr)."""
    from alpha.app.org_scanning import propose_organization
    from alpha.cli.org_render import warn_not_covered
    from alpha.cli.workflow_render import console, emit_json

    with spinner("reading the organisation, its logs, and generating proposals"):
        result = propose_organization(app, request, on_progress=note)
    warn_not_covered(result.failures)
    if output == "json":
        emit_json(result.to_dict())
    else:
        for account, proposed in result.proposed:
            out = console()
            out.print(f"[bold]account {account.id}[/bold] ({account.name})")
            for summary in proposed.proposed:
                _print_summary(summary, out)
            _print_result(proposed, account.id, out)
        for failure in result.failures:
            console().print(f"not covered: {failure.account_id}: {failure.reason}", markup=False)
    if result.blocked:
        sys.exit(1)


def _propose_fleet(app: Application, request: FleetRequest, output: str) -> None:
    """`propose --role`: one proposal for the role in every account, one rollout later."""
    from alpha.cli.workflow_render import console, emit_json

    role = request.role
    with spinner(f"reading {role} in every account and generating one proposal"):
        result = app.propose_fleet(request, on_progress=note)
    if output == "json":
        emit_json(result.to_dict())
    else:
        out = console()
        for skipped in result.skipped:
            out.print(f"[yellow]left out[/yellow] {skipped}")
        item = result.proposed
        if item is not None:
            accounts = ", ".join(result.fleet.accounts)
            where = (
                f"role {role} in {len(result.fleet.targets)} accounts ({accounts}; canary first)"
            )
            _print_proposed(item, where, out)
        for failure in result.failures:
            out.print(f"[red]no proposal[/red] for {failure.principal}: {failure.reason}")
    if result.blocked:
        sys.exit(1)


def _print_result(result: ProposeResult, account_file: str, out: Console) -> None:
    """What a run says besides its proposals (printed as each was stored)."""
    if result.account_imported:
        out.print(f"imported {account_file} as the working copy {result.account_copy!r}")
    elif result.account_copy.startswith("aws-account-"):
        out.print(f"read {account_file} live: these proposals roll out to live IAM")
    for failure in result.failures:
        out.print(f"[red]no proposal[/red] for {failure.principal}: {failure.reason}")


def _print_summary(summary: ProposalSummary, out: Console) -> None:
    from alpha.cli.workflow_render import percent, state_text

    verb = "stored" if summary.created else "already stored (identical content), unchanged"
    blocked = "; blocked by guardrails" if summary.blocked else ""
    out.print(
        f"[bold]{summary.short_id}[/bold] {summary.principal}: {verb}; "
        f"{state_text(summary.state.value)}; privilege reduction "
        f"{percent(summary.privilege_reduction)}{blocked}"
    )


def _print_proposed(item: Proposed, where: str, out: Console) -> None:
    from alpha.cli.workflow_render import findings, percent, state_text

    verb = "stored" if item.created else "already stored (identical content), unchanged"
    reduction = (item.proposal.document.get("diff") or {}).get("privilege_reduction")
    out.print(
        f"[bold]{item.proposal.short_id}[/bold] {where}: {verb}; "
        f"{state_text(item.state.value)}; privilege reduction {percent(reduction)}"
    )
    findings(item.proposal, out)


@click.group()
def proposals() -> None:
    """Stored proposals: list, show, diff, and the account's working copy."""


@proposals.command("list")
@click.option("--state", type=click.Choice(STATES), help="Only proposals in this state.")
@workflow_options
def list_proposals(
    *, state: str | None, output: str, store: str | None, config: str | None, now: str | None
) -> None:
    """Every stored proposal with its state (JSON: a list of {id, principal, state, ...})."""
    from alpha.cli.workflow_render import console, emit_json, render_list

    app = application_of(store=store, config=config, now=now)
    rows = app.list_proposals(None if state is None else ProposalState(state))
    if output == "json":
        emit_json(rows)
    else:
        render_list(rows, console())


@proposals.command()
@click.argument("proposal_id", metavar="ID")
@workflow_options
def show(
    *, proposal_id: str, output: str, store: str | None, config: str | None, now: str | None
) -> None:
    """The proposal, its risk and guardrail findings, approvals, stages and audit trail."""
    from alpha.cli.workflow_render import console, emit_json, render_show

    found, document = application_of(store=store, config=config, now=now).show(proposal_id)
    if output == "json":
        emit_json(document)
    else:
        render_show(document, found, console())


@proposals.command()
@click.argument("proposal_id", metavar="ID")
@workflow_options
def diff(
    *, proposal_id: str, output: str, store: str | None, config: str | None, now: str | None
) -> None:
    """Today's policies and the proposal side by side."""
    from alpha.cli.workflow_render import console, emit_json, render_diff

    found, document = application_of(store=store, config=config, now=now).diff(proposal_id)
    if output == "json":
        emit_json(document)
    else:
        render_diff(found, console())


@proposals.command("export-account")
@click.option("--account-id", metavar="ID", help="Which account (needed when several).")
@click.option("--out", type=UserPath(dir_okay=False, path_type=Path), help="Write to FILE.")
@workflow_options
def export_account(
    *,
    account_id: str | None,
    out: Path | None,
    output: str,
    store: str | None,
    config: str | None,
    now: str | None,
) -> None:
    """The store's working copy of the account (as rollouts left it), in the
    get-account-authorization-details format."""
    exported = application_of(store=store, config=config, now=now).export_account(account_id)
    text = json.dumps(exported.document, indent=2)
    if out is not None:
        write_output(out, text + "\n", AlphaError)  # a missing folder: one line, exit 2
        if output == "json":
            click.echo(json.dumps({"account_copy": exported.name, "written": str(out)}))
        else:
            click.echo(f"wrote {exported.name} to {out}")
    else:
        click.echo(text)


def _decide(
    proposal_id: str,
    by: str,
    comment: str,
    output: str,
    common: tuple[str | None, str | None, str | None],
    *,
    approve: bool,
) -> None:
    from alpha.cli.workflow_render import console, emit_json, state_text

    store, config, now = common
    app = application_of(store=store, config=config, now=now)
    decision = (app.approve if approve else app.reject)(proposal_id, by, comment)
    if output == "json":
        emit_json(decision.to_dict())
    else:
        verb = "approved" if approve else "rejected"
        console().print(
            f"{decision.proposal_id[:12]} {verb} by {decision.by}: now "
            f"{state_text(decision.state.value)}"
        )
        if decision.answered_execution:
            answered = f"answered the waiting execution {decision.answered_execution}"
            console().print(answered, soft_wrap=True)  # an ARN to copy, never broken


def _decision_command(name: str, *, approve: bool, doc: str) -> click.Command:
    """`alpha approve` and `alpha reject`: the same options, one decision each."""

    def decide(
        *,
        proposal_id: str,
        by: str,
        comment: str,
        output: str,
        store: str | None,
        config: str | None,
        now: str | None,
    ) -> None:
        _decide(proposal_id, by, comment, output, (store, config, now), approve=approve)

    decide.__doc__ = doc
    verb = "approves" if approve else "rejects"
    decorated = workflow_options(decide)
    decorated = click.option("--comment", default="", help="Why.")(decorated)
    decorated = click.option("--by", required=True, metavar="NAME", help=f"Who {verb}.")(decorated)
    decorated = click.argument("proposal_id", metavar="ID")(decorated)
    return click.command(name)(decorated)


approve = _decision_command(
    "approve",
    approve=True,
    doc="Approve a proposal (not your own: separation of duties; not one that guardrails block).",
)
reject = _decision_command("reject", approve=False, doc="Reject a proposal.")
