"""Output of `alpha generate`: the proposal objects as JSON, or the diff side by side."""

from __future__ import annotations

import json
from collections.abc import Sequence

import click

from alpha.cli.console import stdout_console
from alpha.generate.model import PolicyProposal
from alpha.policy.serialize import to_json


def render_json(proposals: Sequence[PolicyProposal], *, single: bool) -> None:
    """Exactly the proposal object (or, for --all, a list of them) on stdout."""
    if single:
        click.echo(json.dumps(proposals[0].to_dict(), indent=2))
    else:
        click.echo(json.dumps([p.to_dict() for p in proposals], indent=2))


def render_terminal(proposals: Sequence[PolicyProposal]) -> None:

    console = stdout_console()
    if len(proposals) == 1:
        _render_one(console, proposals[0])
        return
    render_summary([summary_row(p) for p in proposals])


def _render_one(console: object, proposal: PolicyProposal) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.syntax import Syntax
    from rich.table import Table

    from alpha.cli.model_render import engine_lines, reasoner_lines

    assert isinstance(console, Console)
    diff = proposal.diff
    risk = proposal.reasoning.risk_signal
    console.print(f"[bold]{proposal.principal}[/bold]")
    console.print(
        f"privilege reduction [bold green]{diff.privilege_reduction:.0%}[/bold green] "
        f"({diff.removed_grants:,} of {diff.existing_grants:,} grants removed, "
        f"{diff.change_summary}); risk of break "
        f"[bold {_risk_colour(risk.probability_of_break)}]"
        f"{risk.probability_of_break:.1%}[/]; replay {proposal.replay.allowed}/"
        f"{proposal.replay.observed} calls"
    )
    table = Table(expand=True, show_lines=False)
    table.add_column("existing", style="red", ratio=1)
    table.add_column("proposed", style="green", ratio=1)
    table.add_row(
        Syntax(to_json(diff.existing_policy), "json", theme="ansi_dark", word_wrap=True),
        Syntax(to_json(proposal.proposed_policy), "json", theme="ansi_dark", word_wrap=True),
    )
    console.print(table)
    for item in proposal.inferred:
        console.print(f"[cyan]inferred[/cyan] {item.action} on {item.resource}: {item.reason}")
    for violation in proposal.violations:
        colour = "red" if violation.blocks else "yellow"
        console.print(
            f"[{colour}]{violation.code}[/] {violation.path or '(policy)'}: {violation.message}"
        )
    for dropped in proposal.replay.removed_by_guardrails:
        console.print(f"[yellow]removed by guardrails[/yellow] {dropped.action} {dropped.resource}")
    for unchecked in proposal.replay.unchecked:
        console.print(
            f"[yellow]not checked[/yellow] {unchecked.action} on {unchecked.resource} "
            f"({unchecked.count} calls): {unchecked.reason}"
        )
    for step in proposal.plan.steps:
        target = step.arn or step.name
        console.print(
            f"[bold]{step.action}[/bold] {step.kind} {target}"
            + (f"  [dim]{step.note}[/dim]" if step.note else "")
        )
    document = proposal.to_dict()
    for line in (*engine_lines(document), *reasoner_lines(document)):
        console.print(line)
    for note in (*proposal.notes, *proposal.reasoning.remediation_notes):
        console.print(f"[dim]- {escape(note)}[/dim]")
    console.print(escape(proposal.reasoning.rationale))


def summary_row(p: PolicyProposal) -> tuple[str, ...]:
    """One proposal's line in the --all table: all the table keeps of it."""
    risk = p.reasoning.risk_signal.probability_of_break
    blocking = sum(1 for v in p.violations if v.blocks)
    return (
        p.principal,
        str(len(p.proposed_policy.statements)),
        f"{p.diff.privilege_reduction:.0%}",
        f"[{_risk_colour(risk)}]{risk:.1%}[/]",
        f"{p.replay.allowed}/{p.replay.observed}",
        f"[red]{blocking} blocking[/red]" if blocking else "[green]ok[/green]",
    )


def render_summary(rows: Sequence[tuple[str, ...]]) -> None:
    from rich.table import Table

    table = Table(title=f"{len(rows)} proposals")
    for name in ("principal", "statements", "reduction", "risk", "replay", "guardrails"):
        table.add_column(name, justify="left" if name == "principal" else "right", overflow="fold")
    for row in rows:
        table.add_row(*row)
    stdout_console().print(table)


class JsonArrayWriter:
    """Writes a JSON array to stdout one element at a time, byte for byte as
    `json.dumps(elements, indent=2)` would, so a run over thousands of principals never
    holds them all."""

    def __init__(self) -> None:
        self._count = 0

    def add(self, element: object) -> None:
        text = json.dumps(element, indent=2).replace("\n", "\n  ")
        click.echo(("[\n  " if self._count == 0 else ",\n  ") + text, nl=False)
        self._count += 1

    def close(self) -> None:
        click.echo("[]" if self._count == 0 else "\n]")


def _risk_colour(probability: float) -> str:
    return "green" if probability < 0.05 else "yellow" if probability < 0.2 else "red"
