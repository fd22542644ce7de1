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

import click

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
    "account_file",
    type=AccountSource(dir_okay=False, path_type=Path),
    required=True,
    metavar="FILE|aws|aws://PROFILE",
    help=ACCOUNT_HELP,
)
@click.option("--principal", metavar="ARN", help="The role or user to propose a policy for.")
@click.option("--all", "every", is_flag=True, help="Every principal with usage.")
@click.option("--by", "by", metavar="NAME", help="Who proposes (default ALPHA_USER or login).")
@model_options
@workflow_options
def propose(
    *,
    sources: tuple[str, ...],
    account_file: str | Path,
    principal: str | None,
    every: bool,
    by: str | None,
    output: str,
    store: str | None,
    config: str | None,
    now: str | None,
    reasoner: str | None,
    engine: str | None,
) -> None:
    """Generate least-privilege proposals from usage and store them for approval."""
    from alpha.app import GenerateRequest, Proposed
    from alpha.cli.workflow_render import console, emit_json, findings, percent, state_text

    if every == (principal is not None):
        raise click.UsageError("give either --principal ARN or --all")
    app = application_of(
        store=store, config=config, now=now, user=by, reasoner=reasoner, engine=engine
    )
    request = GenerateRequest(str(account_file), sources, principal)
    text = output != "json"
    out = console()

    def told(item: Proposed) -> None:
        """Each proposal in full as it is stored (the run keeps only a summary of it)."""
        verb = "stored" if item.created else "already stored (identical content), unchanged"
        reduction = (item.proposal.document.get("diff") or {}).get("privilege_reduction")
        out.print(
            f"[bold]{item.proposal.short_id}[/bold] {item.proposal.principal}: {verb}; "
            f"{state_text(item.state.value)}; "
            f"privilege reduction {percent(reduction)}"
        )
        findings(item.proposal, out)

    with spinner("reading logs and generating proposals"):
        result = app.propose(request, on_progress=note, on_stored=told if text else None)
    if not text:
        emit_json(result.to_dict())
    else:
        if result.account_imported:
            out.print(f"imported {account_file} as the working copy {result.account_copy!r}")
        elif result.account_copy.startswith("aws-account-"):
            out.print(f"read {account_file} live: these proposals roll out to live IAM")
        for failure in result.failures:
            out.print(f"[red]no proposal[/red] for {failure.principal}: {failure.reason}")
    if result.blocked:
        sys.exit(1)


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
