"""`alpha slack serve [--port N]`: the Slack app (buttons, the reject modal, `/alpha`) over HTTP
at /slack/events. `alpha slack flush`: deliver the notifications still waiting in the outbox
(after Slack was down or rate-limited); exit 1 when some still wait."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click

from alpha.cli.workflow_options import application_of

if TYPE_CHECKING:
    from alpha.app.slack_settings import SlackSettings

DEFAULT_PORT = 3000


@click.group()
def slack() -> None:
    """The Slack app and its notifications (see docs/slack.md)."""


@slack.command()
@click.option("--port", type=click.IntRange(0, 65535), default=DEFAULT_PORT, show_default=True)
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Where to listen (0.0.0.0 for every interface, behind a TLS proxy).",
)
@click.option("--store", metavar="FILE", help="The store (default .alpha/alpha.db; ALPHA_STORE).")
@click.option("--config", metavar="FILE", help="Settings file (default ./alpha.toml).")
def serve(port: int, host: str, store: str | None, config: str | None) -> None:
    """Answer Slack: Approve and Reject buttons and the /alpha command."""
    from alpha.app.backends import slack_web_client
    from alpha.slack.bolt_app import build_app
    from alpha.slack.server import serve as start

    application = application_of(store=store, config=config, now=None)
    bolt = build_app(application, slack_web_client(application.settings))
    running = start(bolt, application, host, port)
    # Everything after the start is inside the try: a Ctrl-C that comes while the lines below
    # are written still stops the server (it came before `wait` once, on a busy machine).
    try:
        _say_listening(running.url, application.settings.slack)
        running.wait()
    except KeyboardInterrupt:
        click.echo("alpha: stopping", err=True)
    finally:
        running.stop()


def _say_listening(url: str, slack_settings: SlackSettings) -> None:
    click.echo(f"alpha: Slack app listening on {url} (Ctrl-C to stop)", err=True)
    if not slack_settings.notifies:
        click.echo("alpha: no ALPHA_SLACK_CHANNEL: new proposals are not posted", err=True)
    if not slack_settings.users:
        click.echo(
            "alpha: no Slack user is mapped (ALPHA_SLACK_USERS, [slack] users): nobody can "
            "decide from Slack",
            err=True,
        )


@slack.command()
@click.option("--store", metavar="FILE", help="The store (default .alpha/alpha.db; ALPHA_STORE).")
@click.option("--config", metavar="FILE", help="Settings file (default ./alpha.toml).")
def flush(store: str | None, config: str | None) -> None:
    """Deliver the Slack notifications still waiting; exit 1 if some could not be yet."""
    application = application_of(store=store, config=config, now=None)
    if not application.settings.slack.notifies:
        click.echo(
            "Slack notifications are off (set SLACK_BOT_TOKEN and ALPHA_SLACK_CHANNEL, or "
            "ALPHA_SLACK_WEBHOOK_URL): nothing to deliver"
        )
        return
    waiting = application.flush_notifications()
    if waiting:
        click.echo(f"{waiting} notifications still waiting (Slack refused or rate-limited)")
        sys.exit(1)
    click.echo("every notification delivered")
