"""`alpha account show`: what an account snapshot holds, and what applies to a principal;
`alpha account export`: the account (read live with `aws`) written as authorization-details
JSON, the file every `--account` reads back."""

from __future__ import annotations

import gc
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO

import click
from rich.markup import escape

from alpha.account import AccountSnapshot, EffectivePolicies, Principal, Role
from alpha.cli.console import stdout_console
from alpha.cli.paths import ACCOUNT_HELP, AccountSource, UserPath
from alpha.cli.plain_table import print_table
from alpha.policy.serialize import to_document
from alpha.policy.user_files import without_cycle_collection


@click.group()
def account() -> None:
    """Inspect the IAM state of an account (`aws iam get-account-authorization-details`)."""


@account.command()
@click.argument(
    "file", metavar="FILE|aws|aws://PROFILE", type=AccountSource(dir_okay=False, path_type=Path)
)
@click.option("--principal", "principal_arn", metavar="ARN", help="Show what applies to it.")
@click.option("--format", "output", type=click.Choice(["table", "json"]), default="table")
def show(file: Path, principal_arn: str | None, output: str) -> None:
    """Summarise the account (a FILE, or `aws` read live), or what applies to one principal."""
    from alpha.cli.workflow_options import report_backends

    snapshot = report_backends().read_account(str(file))
    if principal_arn is None and output == "json":
        with snapshot_frozen():
            _write_json(sys.stdout, _summary(snapshot))
        return
    if principal_arn is None:
        # A row per principal: rich's objects for 200,000 rows would be rescanned by the
        # garbage collector again and again (a third of the time).
        with without_cycle_collection():
            _print_summary(snapshot)
        return
    effective = snapshot.effective_policies(principal_arn)
    principal = snapshot.principal(principal_arn)
    if output == "json":
        click.echo(json.dumps(_effective(principal, effective), indent=2))
    else:
        _print_effective(principal, effective)


@account.command()
@click.option(
    "--account",
    "source",
    metavar="FILE|aws|aws://PROFILE",
    type=AccountSource(dir_okay=False, path_type=Path),
    default="aws",
    show_default=True,
    help=ACCOUNT_HELP,
)
@click.option(
    "--out", required=True, type=UserPath(dir_okay=False, path_type=Path), help="File to write."
)
def export(source: str | Path, out: Path) -> None:
    """Write the account as `get-account-authorization-details` JSON (pages merged, documents
    decoded): a snapshot to keep, diff, or give to any `--account`."""
    from alpha.account import AccountError
    from alpha.cli.workflow_options import report_backends
    from alpha.policy.user_files import write_output

    backends = report_backends()
    snapshot = backends.read_account(str(source))  # checked as strictly as any --account
    document = backends.account_document(str(source))
    write_output(out, json.dumps(document, indent=2) + "\n", AccountError)
    click.echo(
        f"wrote account {snapshot.account_id or '(unknown)'} to {out}: {len(snapshot.roles)} "
        f"roles, {len(snapshot.users)} users, {len(snapshot.groups)} groups, "
        f"{len(snapshot.policies)} managed policies",
        err=True,
    )


def _kind(principal: Principal) -> str:
    return "role" if isinstance(principal, Role) else "user"


def _summary(snapshot: AccountSnapshot) -> dict[str, Any]:
    """Each list made as it is written: a row per principal at 200,000 roles was 140 MB."""
    return {
        "account_id": snapshot.account_id,
        "principals": (_principal_row(snapshot, p) for p in snapshot.principals),
        "groups": (g.arn for g in snapshot.groups),
        "policies": (
            {
                "arn": p.arn,
                "default_version": p.default_version_id,
                "aws_managed": p.is_aws_managed,
                "attachment_count": p.attachment_count,
                "attached_by": list(snapshot.principals_sharing(p.arn)),
            }
            for p in snapshot.policies
        ),
        "unresolved_policies": snapshot.unresolved_policy_arns,
    }


@contextmanager
def snapshot_frozen() -> Iterator[None]:
    """The collector on, but blind to everything made so far (the snapshot: millions of
    objects it would walk at every full collection). Each `json.dumps` with an indent leaves a
    cycle of closures behind, which the collector must free: paused, they held 200 MB."""
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def _write_json(out: TextIO, members: dict[str, Any]) -> None:
    """`json.dumps(members, indent=2)` byte for byte, for an object whose values are scalars
    or iterables of values, written an item at a time."""
    out.write("{")
    for number, (key, value) in enumerate(members.items()):
        out.write(("," if number else "") + f"\n  {json.dumps(key)}: ")
        if value is None or isinstance(value, str | int | float):
            out.write(json.dumps(value))
            continue
        opened = False
        for item in value:
            out.write(",\n    " if opened else "[\n    ")
            out.write(json.dumps(item, indent=2).replace("\n", "\n    "))
            opened = True
        out.write("\n  ]" if opened else "[]")
    out.write("\n}\n")
    out.flush()


def _principal_row(snapshot: AccountSnapshot, principal: Principal) -> dict[str, Any]:
    effective = snapshot.effective_policies(principal.arn)
    return {
        "arn": principal.arn,
        "kind": _kind(principal),
        "policies": len(effective.identity),
        "boundary": effective.boundary_arn,
        "unresolved": [u.describe() for u in effective.unresolved],
    }


def _effective(principal: Principal, effective: EffectivePolicies) -> dict[str, Any]:
    return {
        "principal": principal.arn,
        "kind": _kind(principal),
        "complete": effective.complete,
        "policies": [
            {
                "kind": applied.origin.kind.value,
                "name": applied.origin.name,
                "arn": applied.origin.arn,
                "group": applied.origin.group,
                "document": to_document(applied.document),
            }
            for applied in effective.identity
        ],
        "boundary": None
        if effective.boundary_arn is None
        else {
            "arn": effective.boundary_arn,
            "document": None if effective.boundary is None else to_document(effective.boundary),
        },
        "unresolved": [u.describe() for u in effective.unresolved],
    }


def _print_summary(snapshot: AccountSnapshot) -> None:
    console = stdout_console()
    rows = []
    for principal in snapshot.principals:
        row = _principal_row(snapshot, principal)
        rows.append(
            (
                _short(principal.arn),
                row["kind"],
                str(row["policies"]),
                _short(row["boundary"] or ""),
                "\n".join(row["unresolved"]),
            )
        )
    columns = ("Principal", "Kind", "Policies", "Boundary", "Unresolved")
    print_table(console, f"Account {snapshot.account_id or '(unknown)'}", columns, rows)
    console.print(
        f"{len(snapshot.roles)} roles, {len(snapshot.users)} users, {len(snapshot.groups)} "
        f"groups, {len(snapshot.policies)} managed policies"
    )


def _short(arn: str) -> str:
    """The part after the account id (`role/service-role/app`); the title names the account."""
    return arn.split(":", 5)[-1]


def _print_effective(principal: Principal, effective: EffectivePolicies) -> None:
    # Names and ARNs are data, never markup: an IAM path may hold `[/]`, which Rich refuses.
    console = stdout_console()
    rows = [
        (applied.origin.describe(), str(len(applied.document.statements)))
        for applied in effective.identity
    ]
    print_table(console, f"Policies of {principal.arn}", ("Origin", "Statements"), rows)
    if effective.boundary_arn is not None:
        console.print(f"Permissions boundary: {escape(effective.boundary_arn)}")
    for unresolved in effective.unresolved:
        console.print(f"[yellow]unresolved:[/] {escape(unresolved.describe())}")
