"""The options every workflow command takes (`--store`, `--config`, `--now`, `--format`) and
turning them, the environment and alpha.toml into the application (`alpha.app`)."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:
    from alpha.app import Application, Settings
    from alpha.app.backends import ConfiguredBackends
    from alpha.app.org_settings import OrgFlags, OrgSettings

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
            metavar="FILE|URL",
            help="The store: a file (default .alpha/alpha.db) or dynamodb://PREFIX (ALPHA_STORE; "
            "[store] path or url).",
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
    reasoner: str | None = None,
    engine: str | None = None,
    org: OrgFlags | None = None,
) -> Settings:
    """The settings these flags, the environment and alpha.toml give."""
    from alpha.app import Flags, load_settings
    from alpha.app.org_settings import OrgFlags

    flags = Flags(
        config=config,
        store=store,
        logs=logs,
        bake=bake,
        now=now,
        user=user,
        reasoner=reasoner,
        engine=engine,
        org=org or OrgFlags(),
    )
    return load_settings(flags, os.environ, Path.cwd())


def application_of(
    *,
    store: str | None,
    config: str | None,
    now: str | None,
    logs: tuple[str, ...] = (),
    bake: str | None = None,
    user: str | None = None,
    sleeper: Callable[[float], None] | None = None,
    reasoner: str | None = None,
    engine: str | None = None,
    org: OrgFlags | None = None,
) -> Application:
    """The application over the settings these flags, the environment and alpha.toml give."""
    from alpha.app import application_for

    settings = settings_of(
        store=store,
        config=config,
        now=now,
        logs=logs,
        bake=bake,
        user=user,
        reasoner=reasoner,
        engine=engine,
        org=org,
    )
    return application_for(settings, os.environ, sleeper=sleeper)


def model_options(command: F) -> F:
    """`--reasoner` and `--engine`, for the commands that generate proposals."""
    options = [
        click.option(
            "--reasoner",
            type=click.Choice(("local", "bedrock")),
            help="Who explains and scores the proposal: the local reasoner (default) or "
            "Claude on Bedrock (ALPHA_REASONER; [reasoning] reasoner).",
        ),
        click.option(
            "--engine",
            type=click.Choice(("alpha", "access-analyzer")),
            help="Who writes the policy: ALPHA (default) or IAM Access Analyzer's policy "
            "generation, checked the same way (ALPHA_ENGINE; [analyzer] engine).",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


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


def report_backends(
    usage_store: Path | None = None,
    guardrails: Path | None = None,
    *,
    reasoner: str | None = None,
    engine: str | None = None,
    org: OrgSettings | None = None,
) -> ConfiguredBackends:
    """The adapters of the report commands (`account`, `usage`, `scan`, `generate`): they keep
    usage in the DuckDB file `--store` names and read guardrails only from `--guardrails`; no
    workflow store, no alpha.toml of their own (the reasoner and the engine: flag, then
    variable). Light: no use case is imported."""
    from alpha.app.backends import ConfiguredBackends
    from alpha.app.model_settings import resolve_analyzer, resolve_reasoning
    from alpha.app.org_settings import OrgSettings
    from alpha.app.settings import DEFAULT_STORE, DEFAULT_USAGE_STORE, Settings

    settings = Settings(
        store=Path.cwd() / DEFAULT_STORE,
        usage_store=usage_store or Path.cwd() / DEFAULT_USAGE_STORE,
        user=os.environ.get("ALPHA_USER", ""),
        config_file=guardrails,
        reasoning=resolve_reasoning(reasoner, os.environ),
        analyzer=resolve_analyzer(engine, os.environ),
        org=org or OrgSettings(),
    )
    return ConfiguredBackends(settings, os.environ)
