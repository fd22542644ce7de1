"""`alpha demo`: the whole loop on the bundled sample, in a fresh folder, in seconds."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.console import Console

from alpha.cli.console import stdout_console
from alpha.cli.workflow_options import FORMATS

if TYPE_CHECKING:
    from alpha.demo.run import DemoResult

DEFAULT_DIR = Path("alpha-demo")


@click.command()
@click.option(
    "--dir",
    "folder",
    type=click.Path(file_okay=False, path_type=Path),
    default=DEFAULT_DIR,
    show_default=True,
    help="Where to write the sample and the store (cleared first if an earlier demo's).",
)
@click.option("--format", "output", type=click.Choice(FORMATS), default="table", show_default=True)
def demo(folder: Path, output: str) -> None:
    """Scan, propose, approve and roll out on a sample account: one rollout succeeds, one is
    rolled back automatically when its canary meets AccessDenied. No AWS account needed."""
    from alpha.cli.workflow_render import emit_json, render_status
    from alpha.demo.run import run_demo

    out = stdout_console()
    quiet = output == "json"
    result = run_demo(folder, lambda step: None if quiet else _render(step, out))
    if quiet:
        emit_json({**result.to_dict(), "try": _commands(result)})
        return
    render_status(result.status, out)
    out.print()
    out.print("[bold]Explore the store the demo left:[/bold]")
    for command in _commands(result):
        out.print(f"  {command}")
    out.print("Approve from Slack: docs/slack.md, then `alpha slack serve` in that folder.")


def _commands(result: DemoResult) -> list[str]:
    relative = os.path.relpath(result.folder)
    shown = result.folder if relative.startswith("..") else Path(relative)
    ids = {p.principal.rpartition("/")[2]: p.short_id for p in result.proposals}
    orders, reports = ids.get("orders-api", "<ID>"), ids.get("report-builder", "<ID>")
    alpha = _program()
    return [
        f"cd {shown}",
        f"{alpha} proposals list",
        f"{alpha} proposals diff {orders}",
        f"{alpha} proposals show {reports}",
        f"{alpha} status",
        f"{alpha} proposals export-account --out account-after.json",
        f"{alpha} pr {orders} --repo YOUR-IAC-CLONE  # a pull request to your IaC: docs/github.md",
        f"{alpha} serve   # the web console on this store: open http://127.0.0.1:8080/",
    ]


def _program() -> str:
    """`alpha` when that is what the shell finds; else the full path of the running one (after
    `make demo`, it lives in the project's .venv, which is not on PATH)."""
    running = Path(sys.argv[0]).resolve() if sys.argv and sys.argv[0] else None
    on_path = shutil.which("alpha")
    if running is None or running.name != "alpha":
        return "alpha"
    if on_path is not None and Path(on_path).resolve() == running:
        return "alpha"
    return str(running)


def _render(step: object, out: Console) -> None:
    from alpha.cli.workflow_render import findings, render_diff, state_text
    from alpha.demo.run import Decided, Proposed, Said, Scanned, Section, StageRan

    if isinstance(step, Section):
        out.print()
        out.rule(f"[bold]{step.title}[/bold]", align="left")
    elif isinstance(step, Said):
        out.print(step.text)
    elif isinstance(step, Scanned):
        _render_scan(step, out)
    elif isinstance(step, Proposed):
        render_diff(step.proposal, out)
        findings(step.proposal, out)
    elif isinstance(step, Decided):
        name = step.proposal.principal.rpartition("/")[2]
        if step.refused is None:
            out.print(f"[green]approved[/green] {name} by {step.by}")
        else:
            out.print(f"[red]refused[/red] {step.by} approving {name}: {step.refused}")
    elif isinstance(step, StageRan):
        result = step.result
        name = step.proposal.principal.rpartition("/")[2]
        out.print(
            f"{step.at:%Y-%m-%d %H:%M}Z {name:<15} {step.stage.value:<10} -> "
            f"{state_text(result.state.value)}: {result.detail}"
        )


def _render_scan(step: object, out: Console) -> None:
    from alpha.cli.workflow_render import short_principal
    from alpha.demo.run import Scanned

    assert isinstance(step, Scanned)
    from rich.table import Table

    table = Table()
    for name in ("rank", "principal", "score", "unused", "flags"):
        table.add_column(name)
    for score in step.report.scores:
        data = score.to_dict()
        flags = ", ".join(str(f.get("code")) for f in data.get("flags") or [])
        table.add_row(
            str(data.get("rank")),
            short_principal(str(data.get("principal"))),
            f"{data.get('score', 0):,.0f}",
            f"{data.get('unused_share', 0):.0%}",
            f"[red]{flags}[/red]" if flags else "",
        )
    out.print(table)
