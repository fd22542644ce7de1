"""`alpha store head|seal`: the store's hash chain.

Every command checks the chain when it opens the store and refuses a tampered one, naming the
table and row. `head` prints the chain's last entry as `SEQ:HASH`: keep it elsewhere and set
`ALPHA_STORE_ANCHOR` to it, and a store cut back or rewritten since is refused. `seal` keys the
chain with HMAC (`ALPHA_STORE_NEW_KEY`), after which the store opens only with that key in
`ALPHA_STORE_KEY`; keys are taken from the environment only, never from flags or files.
"""

from __future__ import annotations

import os

import click

from alpha.cli.workflow_options import workflow_options


@click.group()
def store() -> None:
    """The store's hash chain: its head, and sealing it with a key."""


@store.command()
@workflow_options
def head(*, output: str, store: str | None, config: str | None, now: str | None) -> None:
    """Check the whole store and print its chain head (SEQ:HASH)."""
    from alpha.app.store_admin import store_head
    from alpha.cli.workflow_options import settings_of
    from alpha.cli.workflow_render import emit_json

    found = store_head(settings_of(store=store, config=config, now=now))
    if output == "json":
        emit_json({"seq": found.seq, "hash": found.hash})
    else:
        click.echo(f"{found.seq}:{found.hash}")


@store.command()
@workflow_options
def seal(*, output: str, store: str | None, config: str | None, now: str | None) -> None:
    """Key the chain with ALPHA_STORE_NEW_KEY (opened with ALPHA_STORE_KEY if it has one)."""
    from alpha.app.errors import SettingsError
    from alpha.app.store_admin import seal_store
    from alpha.app.store_options import parse_store_key
    from alpha.cli.workflow_options import settings_of
    from alpha.cli.workflow_render import emit_json

    text = os.environ.get("ALPHA_STORE_NEW_KEY", "")
    try:
        key = parse_store_key(text)
    except ValueError as exc:
        raise SettingsError(f"ALPHA_STORE_NEW_KEY: {exc}") from exc
    found = seal_store(settings_of(store=store, config=config, now=now), key)
    if output == "json":
        emit_json({"seq": found.seq, "hash": found.hash, "sealed": True})
    else:
        click.echo("sealed; the store now opens only with that key in ALPHA_STORE_KEY")
        click.echo(f"{found.seq}:{found.hash}")
