"""`alpha serve`: the web console on the store of the folder it runs in (the same settings as
the other workflow commands: --store, --config, ALPHA_STORE, alpha.toml)."""

from __future__ import annotations

from pathlib import Path

import click

from alpha.cli.workflow_options import application_of


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to serve on.")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(0, 65535))
@click.option("--store", metavar="FILE", help="The store (default .alpha/alpha.db; ALPHA_STORE).")
@click.option("--config", metavar="FILE", help="Settings file (default ./alpha.toml).")
@click.option(
    "--org-report",
    "org_report",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The organisation report `alpha scan --org ... --save` keeps, shown at /org "
    "(default org-report.json beside the store).",
)
def serve(
    host: str, port: int, store: str | None, config: str | None, org_report: Path | None
) -> None:
    """Serve the web console: proposals, their diffs and risk, approve, reject, roll out and
    back, status. Behind an authenticating proxy set ALPHA_WEB_USER_HEADER ([web] user_header)
    to the header it names the user in; without it only loopback, as the local user."""
    import uvicorn

    from alpha.web import check_bind, create_app
    from alpha.web.server import open_before_serving

    app = application_of(store=store, config=config, now=None)
    check_bind(host, app.settings.web_user_header)
    who = (
        f"users named by the {app.settings.web_user_header} header"
        if app.settings.web_user_header
        else f"the local user {app.settings.user!r}"
    )
    shown = f"[{host}]" if ":" in host else host
    web = create_app(app, org_report)
    click.echo(f"opening {app.settings.store} ...", err=True)
    open_before_serving(web)
    click.echo(f"ALPHA console on http://{shown}:{port}/ for {who}; store {app.settings.store}")
    uvicorn.run(web, host=host, port=port, log_level="warning")
