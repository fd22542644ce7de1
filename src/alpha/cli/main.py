"""Entry point of the `alpha` command. Commands live in their own modules and load lazily."""

from __future__ import annotations

import importlib
import logging
import sys
from typing import Any

import click

from alpha import __version__
from alpha.errors import AlphaError

# name -> "module:attribute"; loaded only when the command runs, so `alpha --help` stays fast.
COMMANDS: dict[str, str] = {
    "account": "alpha.cli.account:account",
    "simulate": "alpha.cli.simulate:simulate",
    "check-access": "alpha.cli.compare:check_access",
    "diff": "alpha.cli.compare:diff",
    "lint": "alpha.cli.lint:lint",
    "normalise": "alpha.cli.lint:normalise",
    "usage": "alpha.cli.usage:usage",
    "generate": "alpha.cli.generate:generate",
    "scan": "alpha.cli.scan:scan",
    "propose": "alpha.cli.proposals:propose",
    "proposals": "alpha.cli.proposals:proposals",
    "approve": "alpha.cli.proposals:approve",
    "reject": "alpha.cli.proposals:reject",
    "rollout": "alpha.cli.rollout_cmd:rollout",
    "rollback": "alpha.cli.rollout_cmd:rollback",
    "status": "alpha.cli.rollout_cmd:status",
    "demo": "alpha.cli.demo:demo",
    "store": "alpha.cli.store_cmd:store",
    "monitor": "alpha.cli.monitor_cmd:monitor",
    "slack": "alpha.cli.slack_cmd:slack",
    "pr": "alpha.cli.pr_cmd:pr",
    "serve": "alpha.cli.serve_cmd:serve",
    "mcp": "alpha.cli.mcp_cmd:mcp",
    "org": "alpha.cli.org_cmd:org",
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, _, attribute = target.partition(":")
        command: click.Command = getattr(importlib.import_module(module_name), attribute)
        return command


def _print_version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if not value or ctx.resilient_parsing:
        return
    from alpha.catalog import load_catalog

    version = load_catalog().version
    click.echo(
        f"alpha {__version__} (IAM catalog {version.version}, "
        f"updated {version.updated_at:%Y-%m-%d})"
    )
    ctx.exit()


@click.group(cls=LazyGroup)
@click.option(
    "--version",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_print_version,
    help="Show the version and the IAM catalog's date.",
)
@click.option("-v", "--verbose", count=True, help="Log more (-vv for debug).")
def cli(verbose: int) -> None:
    """ALPHA: least privilege for AWS IAM, proven before it is applied."""
    level = {0: logging.WARNING, 1: logging.INFO}.get(verbose, logging.DEBUG)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")


def main(argv: list[str] | None = None) -> Any:
    """Run the CLI; an `AlphaError` becomes one line on stderr and exit code 2."""
    with_nul = next((a for a in (sys.argv[1:] if argv is None else argv) if "\0" in a), None)
    if with_nul is not None:
        # No file, folder or value can hold a NUL; said here once for every option (click's
        # own path check and SQLite would otherwise raise ValueError: a traceback).
        from alpha.policy.user_files import one_line

        shown = one_line(with_nul)
        click.echo(
            f"alpha: error: {shown}: embedded null byte (no name or value holds one)", err=True
        )
        sys.exit(2)
    try:
        result = cli.main(args=argv, prog_name="alpha", standalone_mode=False)
        if isinstance(result, int):  # not standalone, click returns `Exit`'s code instead
            sys.exit(result)
        return result
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(2 if exc.exit_code == 2 else exc.exit_code)
    except click.exceptions.Abort:
        click.echo("alpha: aborted", err=True)
        sys.exit(130)
    except AlphaError as exc:
        click.echo(f"alpha: error: {exc}", err=True)
        sys.exit(2)
