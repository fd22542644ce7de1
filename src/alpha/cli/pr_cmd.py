"""`alpha pr ID --repo PATH [--remote origin] [--base main]` and `alpha pr sync [ID]`.

`alpha pr ID` writes the proposal into a local clone of the IaC repository, pushes a branch and
opens a pull request (GITHUB_TOKEN; without it, prints the URL to open one by hand). `alpha pr
sync` reads the pull requests' state and reviews: a merged one with an approving review stands
as the approval, by the reviewer. Exit codes: 0; 1 when part of the change could not be placed
in the repository (the pull request says which, and carries the policy); 2 for an error.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from alpha.cli.workflow_options import application_of, spinner, workflow_options


class _DefaultOpen(click.Group):
    """`alpha pr ID ...` is `alpha pr open ID ...`; `alpha pr sync` is the subcommand."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            args = ["open", *args]
        return super().parse_args(ctx, args)


@click.group(cls=_DefaultOpen)
def pr() -> None:
    """Pull requests to the IaC repository: `alpha pr ID --repo PATH`, `alpha pr sync [ID]`."""


@pr.command("open")
@click.argument("proposal_id", metavar="ID")
@click.option(
    "--repo",
    "clone",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    required=True,
    help="A local clone of the IaC repository.",
)
@click.option("--remote", metavar="NAME", help="The remote to push to (default origin).")
@click.option("--base", metavar="BRANCH", help="The branch to merge into (default main).")
@workflow_options
def open_pr(
    *,
    proposal_id: str,
    clone: Path,
    remote: str | None,
    base: str | None,
    output: str,
    store: str | None,
    config: str | None,
    now: str | None,
) -> None:
    """Write the proposal into the repository, push a branch and open a pull request."""
    from rich.markup import escape

    from alpha.app.pull_requests import PullRequestRequest, PullRequests
    from alpha.cli.workflow_render import console, emit_json

    pulls = PullRequests(application_of(store=store, config=config, now=now))
    with spinner("writing the change and opening the pull request"):
        shipped = pulls.open(PullRequestRequest(proposal_id, clone, remote, base))
    if output == "json":
        emit_json(shipped.to_dict())
    else:
        out = console()
        short = shipped.proposal_id[:12]
        if shipped.already:
            out.print(f"{short}: pull request already opened: {shipped.url}", soft_wrap=True)
            return
        out.print(
            f"{short}: pushed {shipped.branch} ({shipped.commit[:12]}) to {shipped.repository}"
        )
        for line in shipped.placed:
            out.print(f"  changed {line}", markup=False, highlight=False, soft_wrap=True)
        for line in shipped.unplaced:
            out.print(
                f"  [yellow]could not place[/yellow] {escape(line)}",
                highlight=False,
                soft_wrap=True,
            )
        if shipped.number is not None:
            out.print(f"opened pull request #{shipped.number}: {shipped.url}", soft_wrap=True)
        else:
            out.print(f"no GITHUB_TOKEN: open the pull request at {shipped.url}", soft_wrap=True)
    if shipped.unplaced:
        sys.exit(1)


@pr.command("sync")
@click.argument("proposal_id", metavar="[ID]", required=False)
@workflow_options
def sync(
    *, proposal_id: str | None, output: str, store: str | None, config: str | None, now: str | None
) -> None:
    """Read the pull requests' state and reviews; a merged, approved one approves its proposal."""
    from alpha.app.pull_requests import PullRequests
    from alpha.cli.workflow_render import console, emit_json

    pulls = PullRequests(application_of(store=store, config=config, now=now))
    outcomes = pulls.sync(proposal_id)
    if output == "json":
        emit_json([o.to_dict() for o in outcomes])
        return
    out = console()
    if not outcomes:
        out.print("no pull requests to follow (open one with alpha pr ID --repo PATH)")
    colours = {"approved": "green", "refused": "red", "waiting": "yellow", "decided": "blue"}
    for o in outcomes:
        colour = colours.get(o.status, "white")
        out.print(f"{o.proposal_id[:12]} {o.pull_request}: [{colour}]{o.status}[/{colour}]")
        out.print(f"  {o.detail}", markup=False, highlight=False, soft_wrap=True)
