"""The options every workflow command takes (`--store`, `--config`, `--now`, `--format`) and
turning them, the environment and alpha.toml into `Settings`."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import click

from alpha.cli.settings import Flags, Settings, load_settings

FORMATS = ("table", "json")
F = TypeVar("F", bound=Callable[..., Any])


def workflow_options(command: F) -> F:
    """Add the shared options; the command receives them as `common` (a dict)."""
    options = [
        click.option(
            "--format", "output", type=click.Choice(FORMATS), default="table", show_default=True
        ),
        click.option(
            "--store",
            metavar="FILE",
            help="The store (default .alpha/alpha.db; ALPHA_STORE; [store] path).",
        ),
        click.option(
            "--config", metavar="FILE", help="Settings file (default ./alpha.toml; ALPHA_CONFIG)."
        ),
        click.option(
            "--now",
            metavar="TIME",
            help="Act as of this UTC time, to replay past logs (ALPHA_NOW).",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def settings_of(
    *,
    store: str | None,
    config: str | None,
    now: str | None,
    logs: tuple[str, ...] = (),
    bake: str | None = None,
    user: str | None = None,
) -> Settings:
    flags = Flags(config=config, store=store, logs=logs, bake=bake, now=now, user=user)
    return load_settings(flags, os.environ, Path.cwd())


@contextmanager
def spinner(message: str) -> Iterator[None]:
    """A transient spinner on stderr while long work runs, only on a terminal."""
    if not sys.stderr.isatty():
        yield
        return
    from rich.console import Console

    with Console(stderr=True).status(message):
        yield


def note(message: str) -> None:
    """A progress line on stderr, only on a terminal (scripts get nothing but the output)."""
    if sys.stderr.isatty():
        click.echo(message, err=True)
