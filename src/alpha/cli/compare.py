"""`alpha check-access` (does a proposal add access?) and `alpha diff` (what changes)."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

from alpha.catalog import load_catalog
from alpha.cli.console import stdout_console
from alpha.cli.paths import UserPath
from alpha.policy.compare import (
    AccessCheck,
    Counterexample,
    InternalFinding,
    NewAccess,
    NoNewAccess,
    PossibleNewAccess,
    no_new_access,
)
from alpha.policy.diff import PolicyDiff, diff_policies
from alpha.policy.model import Policy
from alpha.policy.parse import read_policy_file
from alpha.policy.serialize import to_document

_FORMAT = click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Output format.",
)
_PATH = UserPath(path_type=Path, dir_okay=False)


@click.command("check-access")
@click.option(
    "--existing",
    multiple=True,
    required=True,
    type=_PATH,
    help="A policy in force today (JSON); repeat for several.",
)
@click.option(
    "--proposed",
    multiple=True,
    required=True,
    type=_PATH,
    help="A proposed policy (JSON); repeat for several.",
)
@_FORMAT
def check_access(existing: Sequence[Path], proposed: Sequence[Path], output_format: str) -> None:
    """Exit 0 when the proposed policies allow nothing the existing ones do not; otherwise
    exit 1 and show a request that only the proposal allows (or why it may). Exit 2 when a
    counterexample did not hold when checked again: a bug in ALPHA, reported as such."""
    before = _read_all(existing)
    after = _read_all(proposed)
    result = no_new_access(before, after, load_catalog())
    if output_format == "json":
        click.echo(json.dumps(_check_dict(result, proposed), indent=2))
    else:
        click.echo(_check_text(result, proposed, after))
    if isinstance(result, InternalFinding):
        sys.exit(2)
    if not isinstance(result, NoNewAccess):
        sys.exit(1)


def _read_all(paths: Sequence[Path]) -> list[Policy]:
    return [read_policy_file(path) for path in paths]


def _where(statement: Any, files: Sequence[Path]) -> str:
    sid = f" ({statement.sid})" if statement.sid else ""
    return f"{files[statement.policy]}: Statement[{statement.number}]{sid}"


def _example_dict(example: Counterexample) -> dict[str, Any]:
    return {
        "action": example.action,
        "resource": example.resource,
        "context": {key: list(values) for key, values in example.context.items()},
        "future_action": example.future_action,
    }


def _check_dict(result: AccessCheck, files: Sequence[Path]) -> dict[str, Any]:
    if isinstance(result, NoNewAccess):
        return {"new_access": False}
    if isinstance(result, NewAccess):
        return {
            "new_access": True,
            "counterexample": _example_dict(result.counterexample),
            "statement": _where(result.statement, files),
        }
    if isinstance(result, InternalFinding):
        return {
            "new_access": "unknown",
            "internal_error": result.reason,
            "counterexample": _example_dict(result.counterexample),
            "statement": _where(result.statement, files),
        }
    return {
        "new_access": "possible",
        "statement": _where(result.statement, files),
        "reason": result.reason,
    }


def _check_text(result: AccessCheck, files: Sequence[Path], proposed: Sequence[Policy]) -> str:
    if isinstance(result, NoNewAccess):
        return "no new access: the proposed policies allow nothing the existing ones do not"
    if isinstance(result, PossibleNewAccess):
        return f"possible new access at {_where(result.statement, files)}: {result.reason}"
    example = result.counterexample
    context = ", ".join(f"{k}={'|'.join(v)}" for k, v in sorted(example.context.items()))
    statement = proposed[result.statement.policy].statements[result.statement.number]
    body = json.dumps(to_document(Policy((statement,)))["Statement"][0])
    future = " (not in the IAM catalog: an action AWS may add)" if example.future_action else ""
    head = (
        "new access: the proposed policies allow a request the existing ones do not"
        if isinstance(result, NewAccess)
        else "internal error (a bug in ALPHA, please report it): a counterexample did not hold "
        f"when checked again: {result.reason}"
    )
    return "\n".join(
        [
            head,
            f"  action:    {example.action}{future}",
            f"  resource:  {example.resource}",
            f"  context:   {context or '(empty)'}",
            f"  granted by {_where(result.statement, files)}: {body}",
        ]
    )


@click.command("diff")
@click.argument("existing", type=_PATH)
@click.argument("proposed", type=_PATH)
@_FORMAT
@click.option(
    "--all-actions",
    is_flag=True,
    help="List every changed action; by default a service with many is summarised.",
)
def diff(existing: Path, proposed: Path, output_format: str, all_actions: bool) -> None:
    """Actions added and removed, and the share of grants removed (by access level)."""
    result = diff_policies(read_policy_file(existing), read_policy_file(proposed), load_catalog())
    limit = None if all_actions else SERVICE_LIST_LIMIT
    if output_format == "json":
        click.echo(json.dumps(result.to_dict(), indent=2))
    elif sys.stdout.isatty():
        _print_rich(result, limit)
    else:
        click.echo(_diff_text(result, limit))


SERVICE_LIST_LIMIT = 8


def grouped_actions(names: Sequence[str], limit: int | None) -> list[str]:
    """One line per action, except that a service with more than `limit` changed actions
    becomes one line: `ec2 (612 actions: ec2:AcceptAddressTransfer, ... )`."""
    if limit is None:
        return list(names)
    by_service: dict[str, list[str]] = {}
    for name in names:
        by_service.setdefault(name.partition(":")[0], []).append(name)
    lines: list[str] = []
    for service, members in by_service.items():
        if len(members) <= limit:
            lines.extend(members)
        else:
            sample = ", ".join(members[:3])
            lines.append(f"{service} ({len(members)} actions: {sample}, ...)")
    return lines


def _diff_text(result: PolicyDiff, limit: int | None) -> str:
    lines = [f"changes: {result.change_summary}"]
    lines += [f"  + {name}" for name in grouped_actions(result.added_actions, limit)]
    lines += [f"  - {name}" for name in grouped_actions(result.removed_actions, limit)]
    lines.append(
        f"privilege reduction: {result.privilege_reduction:.1%} "
        f"({result.removed_grants} of {result.existing_grants} grants removed)"
    )
    for level in result.by_access_level:
        lines.append(
            f"  {level.access_level.value}: {level.reduction:.1%} "
            f"({level.removed_grants} of {level.existing_grants})"
        )
    return "\n".join(lines)


def _print_rich(result: PolicyDiff, limit: int | None) -> None:
    from rich.table import Table

    console = stdout_console()
    console.print(f"[bold]changes:[/bold] {result.change_summary}")
    for name in grouped_actions(result.added_actions, limit):
        console.print(f"  [green]+ {name}[/green]", highlight=False)
    for name in grouped_actions(result.removed_actions, limit):
        console.print(f"  [red]- {name}[/red]", highlight=False)
    table = Table(title="Privilege reduction")
    for column in ("access level", "grants before", "removed", "reduction"):
        table.add_column(column, justify="left" if column == "access level" else "right")
    for level in result.by_access_level:
        table.add_row(
            level.access_level.value,
            str(level.existing_grants),
            str(level.removed_grants),
            f"{level.reduction:.1%}",
        )
    table.add_row(
        "[bold]overall[/bold]",
        str(result.existing_grants),
        str(result.removed_grants),
        f"[bold]{result.privilege_reduction:.1%}[/bold]",
    )
    console.print(table)
