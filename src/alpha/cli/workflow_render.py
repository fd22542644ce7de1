"""Output of the workflow commands: JSON for scripts (nothing else on stdout), Rich on a
terminal (colour off when stdout is not one)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import click
from rich.console import Console
from rich.syntax import Syntax
from rich.table import Table

from alpha.app.views import diff_view, list_row, policy_text
from alpha.cli.console import stdout_console
from alpha.rollout.engine import RunResult
from alpha.rollout.service import ProposalStatus, Status
from alpha.rollout.targets import target_states
from alpha.store.model import StoredProposal

STATE_COLOURS = {
    "proposed": "cyan",
    "approved": "blue",
    "rejected": "magenta",
    "expired": "dim",
    "sandbox": "yellow",
    "canary": "yellow",
    "production": "yellow",
    "succeeded": "green",
    "rolled_back": "red",
    "failed": "red",
}

STAGE_MARKS = {
    "pending": "·",
    "started": "…",
    "applied": "…",
    "baking": "…",
    "passed": "✓",
    "failed": "✗",
    "rolled_back": "↺",
}


def console() -> Console:
    return stdout_console()


def emit_json(value: Any) -> None:
    click.echo(json.dumps(value, indent=2, default=str))


def state_text(state: str) -> str:
    return f"[{STATE_COLOURS.get(state, 'white')}]{state}[/]"


def short_principal(arn: str) -> str:
    """`role/orders-api` for a role ARN (the account is in the JSON)."""
    parts = arn.split(":", 5)
    return parts[5] if len(parts) == 6 else arn


def percent(value: object) -> str:
    return f"{value:.0%}" if isinstance(value, int | float) else "-"


def render_list(rows: Sequence[dict[str, Any]], out: Console) -> None:
    table = Table(title=f"{len(rows)} proposal{'' if len(rows) == 1 else 's'}")
    table.add_column("id", no_wrap=True)
    table.add_column("principal", overflow="fold")
    table.add_column("state", no_wrap=True)
    for name in ("reduction", "stages", "guardrails"):
        table.add_column(name, overflow="fold")
    for row in rows:
        stages = " ".join(f"{k}{STAGE_MARKS.get(v, '?')}" for k, v in row["stages"].items())
        table.add_row(
            row["short_id"],
            short_principal(row["principal"]),
            state_text(row["state"]),
            percent(row["privilege_reduction"]),
            stages or "-",
            "[red]blocked[/red]" if row["blocked"] else "[green]ok[/green]",
        )
    out.print(table)


def render_diff(proposal: StoredProposal, out: Console) -> None:
    diff = diff_view(proposal)
    summary = f" ({diff['change_summary']})" if diff["change_summary"] else ""
    out.print(
        f"[bold]{proposal.principal}[/bold]  {proposal.short_id}  privilege reduction "
        f"[bold green]{percent(diff['privilege_reduction'])}[/bold green]{summary}"
    )
    table = Table(expand=True)
    table.add_column("existing", style="red", ratio=1)
    table.add_column("proposed", style="green", ratio=1)
    table.add_row(
        Syntax(policy_text(diff["existing_policy"]), "json", theme="ansi_dark", word_wrap=True),
        Syntax(policy_text(diff["proposed_policy"]), "json", theme="ansi_dark", word_wrap=True),
    )
    out.print(table)


def findings(proposal: StoredProposal, out: Console) -> None:
    """Risk, guardrail violations and the change plan of one proposal."""
    document = proposal.document
    risk = document.get("risk_signal") or {}
    probability = risk.get("probability_of_break")
    factors = ", ".join(
        f"{f.get('code')} {f.get('probability', 0):.0%}"
        for f in risk.get("factors") or []
        if f.get("probability")
    )
    out.print(
        f"risk of breaking: [bold]{percent(probability)}[/bold]"
        + (f" ({factors})" if factors else "")
    )
    violations = document.get("guardrail_violations") or []
    if not violations:
        out.print("guardrails: [green]no violations[/green]")
    for v in violations:
        colour = "red" if v.get("blocks") else "yellow"
        blocks = " (blocks approval)" if v.get("blocks") else ""
        out.print(f"guardrail [{colour}]{v.get('code')}[/]{blocks}: {v.get('message')}")
    for line in people_lines(document):
        out.print(line, markup=False, highlight=False)
    for step in document.get("plan") or []:
        target = step.get("arn") or step.get("name")
        out.print(f"  plan: {step.get('action')} {step.get('kind')} {target}")
    from alpha.cli.model_render import engine_lines, reasoner_lines

    for line in (*engine_lines(document), *reasoner_lines(document)):
        out.print(line)


def people_lines(document: dict[str, Any]) -> list[str]:
    """Whose work the proposal might break (session names from CloudTrail: printed plain)."""
    found = document.get("people_at_risk") or {}
    at_risk = found.get("at_risk") or []
    if not at_risk:
        return []
    lines = [f"may break the work of (of {found.get('people')} people using this role):"]
    lines += [f"  {p.get('person')}: {'; '.join(p.get('reasons') or [])}" for p in at_risk]
    if found.get("more"):
        lines.append(f"  ... and {found['more']} more")
    return lines


def render_show(document: dict[str, Any], proposal: StoredProposal, out: Console) -> None:
    out.print(
        f"[bold]{proposal.short_id}[/bold] {proposal.principal}  "
        f"{state_text(document['state'])}  proposed by {proposal.created_by} at "
        f"{proposal.created_at:%Y-%m-%d %H:%M}Z; approval {document['approval']['status']}"
    )
    render_diff(proposal, out)
    findings(proposal, out)
    rationale = proposal.document.get("rationale")
    if rationale:
        from rich.markup import escape

        out.print(f"[dim]{escape(str(rationale))}[/dim]")
    for stage in document["stages"]:
        metrics = stage["metrics"].get("last") or {}
        out.print(
            f"stage {stage['stage']}: {state_text(stage['state'])} "
            f"{stage['metrics'].get('detail', '')} {json.dumps(metrics) if metrics else ''}"
        )
    for event in document["audit"]:
        out.print(
            f"[dim]{event['at'][:16]}[/dim] {event['actor']}: {event['action']} ({event['reason']})"
        )


def render_run(results: Sequence[RunResult], out: Console) -> None:
    if not results:
        out.print("nothing to resume")
    for result in results:
        where = f" at {result.stage.value}" if result.stage is not None else ""
        out.print(
            f"{result.proposal_id[:12]}: {state_text(result.state.value)}{where} - {result.detail}"
        )


def render_status(status: Status, out: Console) -> None:
    render_list([list_row(p) for p in status.proposals], out)
    for found in status.proposals:
        _render_accounts(found, out)
    metrics = status.metrics.to_dict()
    states = ", ".join(f"{state_text(k)} {v}" for k, v in metrics["by_state"].items() if v)
    out.print(f"by state: {states or 'no proposals'}")
    wait = metrics["approval_time_seconds"]["mean"]
    table = Table(title="metrics", show_header=False)
    table.add_column("metric")
    table.add_column("value", justify="right")
    table.add_row("generation success rate", percent(metrics["generation_success_rate"]))
    table.add_row("average approval time", "-" if wait is None else _duration(wait))
    table.add_row(
        "rollout failure rate",
        f"{percent(metrics['rollout_failure_rate'])} of {metrics['rollouts_finished']} finished",
    )
    reduction = metrics["privilege_reduction"]
    table.add_row("privilege reduction (applied)", percent(reduction["applied"]))
    table.add_row("privilege reduction (proposed)", percent(reduction["proposed"]))
    out.print(table)


def _render_accounts(found: ProposalStatus, out: Console) -> None:
    """A fleet proposal's state in each account, in rollout order."""
    targets = target_states(found.proposal, found.state, found.stages)
    if len(targets) < 2:
        return
    out.print(f"{found.proposal.short_id} across {len(targets)} accounts:")
    for target in targets:
        out.print(f"  {target.account} {target.principal}: {target.state}")


def _duration(seconds: float) -> str:
    minutes = round(seconds / 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m"
