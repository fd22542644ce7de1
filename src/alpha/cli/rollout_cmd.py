"""`alpha rollout ID|resume`, `alpha rollback ID`, `alpha status`.

A stage bakes over the logs the rollout watches (`--logs`, ALPHA_LOGS or `[rollout] logs`):
it passes once they cover its bake time with no breach, and until then `rollout` returns with
the stage `baking` (run it again, or `alpha rollout resume`, later), unless `--wait` polls.
A breach rolls the principal back to exactly its state before the rollout, automatically.
Exit codes: 0; 1 when a rollout ended rolled back or failed; 2 for an error.
"""

from __future__ import annotations

import sys
import time

import click

from alpha.cli.workflow_options import application_of, spinner, workflow_options
from alpha.store.model import ProposalState, Stage

STAGE_CHOICES = [*[s.value for s in Stage], "all"]


@click.command()
@click.argument("proposal_id", metavar="ID|resume")
@click.option(
    "--stage",
    type=click.Choice(STAGE_CHOICES),
    default="all",
    show_default=True,
    help="Run up to and including this stage.",
)
@click.option("--bake", metavar="DURATION", help="Bake time of every stage (6h, 30m, 2d).")
@click.option(
    "--logs",
    multiple=True,
    metavar="SOURCE",
    help="CloudTrail to watch while baking (repeatable; else ALPHA_LOGS or [rollout] logs).",
)
@click.option("--wait", is_flag=True, help="Wait for each bake instead of returning.")
@workflow_options
def rollout(
    *,
    proposal_id: str,
    stage: str,
    bake: str | None,
    logs: tuple[str, ...],
    wait: bool,
    output: str,
    store: str | None,
    config: str | None,
    now: str | None,
) -> None:
    """Roll an approved proposal out: sandbox (replay), canary (enforced as a permissions
    boundary), production (the change plan), each watched for its bake time. `alpha rollout
    resume` continues every rollout left in the middle (after a crash, or still baking)."""
    from alpha.cli.workflow_render import console, emit_json, render_run

    app = application_of(
        store=store, config=config, now=now, logs=logs, bake=bake, sleeper=time.sleep
    )
    through = Stage.PRODUCTION if stage == "all" else Stage(stage)
    with spinner("rolling out (baking over the logs)"):
        if proposal_id == "resume":
            results = app.resume(wait=wait)
        else:
            results = [app.roll_out(proposal_id, through, wait=wait)]
    if output == "json":
        emit_json([r.to_dict() for r in results])
    else:
        render_run(results, console())
    if any(r.state in (ProposalState.ROLLED_BACK, ProposalState.FAILED) for r in results):
        sys.exit(1)


@click.command()
@click.argument("proposal_id", metavar="ID")
@click.option("--by", required=True, metavar="NAME", help="Who rolls back.")
@click.option("--reason", default="by hand", show_default=True, help="Why.")
@workflow_options
def rollback(
    *,
    proposal_id: str,
    by: str,
    reason: str,
    output: str,
    store: str | None,
    config: str | None,
    now: str | None,
) -> None:
    """Restore the principal's exact IAM state from before the rollout."""
    from alpha.cli.workflow_render import console, emit_json, render_run

    result = application_of(store=store, config=config, now=now).roll_back(proposal_id, by, reason)
    if output == "json":
        emit_json(result.to_dict())
    else:
        render_run([result], console())


@click.command()
@workflow_options
def status(*, output: str, store: str | None, config: str | None, now: str | None) -> None:
    """A dashboard: proposals by state, their stages, and the metrics (generation success
    rate, approval time, rollout failure rate, privilege reduction)."""
    from alpha.cli.workflow_render import console, emit_json, render_status

    found = application_of(store=store, config=config, now=now).status()
    if output == "json":
        emit_json(found.to_dict())
    else:
        render_status(found, console())
