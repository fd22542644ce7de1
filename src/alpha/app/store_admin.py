"""Looking after the store's hash chain: its head (to keep elsewhere and check later) and
sealing (keying the chain with HMAC, or changing its key). These concern the SQLite store,
the one whose file others could edit; every other command checks the chain as it opens it."""

from __future__ import annotations

from alpha.app.errors import SettingsError
from alpha.app.settings import Settings
from alpha.store.chain import ChainHead

__all__ = ["seal_store", "store_head"]


def store_head(settings: Settings) -> ChainHead:
    """The chain's last entry, after checking the whole store (and the anchor, if set)."""
    from alpha.adapters.local.sqlite_store import SQLiteStore

    if settings.store_url is not None:
        from alpha.adapters.aws.dynamodb_store import DynamoDBStore
        from alpha.app.backends import open_configured_store

        store = open_configured_store(settings)
        assert isinstance(store, DynamoDBStore)
        try:
            return store.chain_head()
        finally:
            store.close()
    _require_store(settings)
    with SQLiteStore(settings.store, key=settings.store_key, anchor=settings.store_anchor) as store:
        return store.chain_head()


def seal_store(settings: Settings, new_key: bytes) -> ChainHead:
    """Key the store's chain with `new_key` (opened with the key it has now, if any)."""
    from alpha.adapters.local.sqlite_store import SQLiteStore

    if settings.store_url is not None:
        raise SettingsError(
            f"{settings.store_url}: a DynamoDB store's audit chain cannot be sealed afterwards "
            "(its items are never updated); it is keyed from its first entry when "
            "ALPHA_STORE_KEY is set as its tables are made"
        )
    _require_store(settings)
    with SQLiteStore(settings.store, key=settings.store_key, anchor=settings.store_anchor) as store:
        return store.seal(new_key)


def _require_store(settings: Settings) -> None:
    if not settings.store.is_file():
        raise SettingsError(f"{settings.store}: no store there (give --store, or ALPHA_STORE)")
