"""Backends for a long-lived server: the workflow store stays open between requests.

Opening a store checks all of it against its hash chain, which takes seconds on a store of
thousands of proposals; a server opens it once. Each time it is handed out again, the chain's
entries other processes appended since are checked first (`chain_head`, for a store that keeps
one), and every row read is checked as always. Everything else is the inner backends'.

Not thread-safe: one thread at a time uses it (the web console runs every call on one worker).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any, Protocol, runtime_checkable

from alpha.app.backends import Backends
from alpha.store.ports import Store

__all__ = ["HeldStoreBackends"]


@runtime_checkable
class _Chained(Protocol):
    def chain_head(self) -> object: ...


class HeldStoreBackends:
    """`inner`, with its store opened on first use and kept open until `close`."""

    def __init__(self, inner: Backends) -> None:
        self._inner = inner
        self._open = ExitStack()
        self._store: Store | None = None

    @contextmanager
    def open_store(self) -> Iterator[Store]:
        if self._store is None:
            self._store = self._open.enter_context(self._inner.open_store())
        elif isinstance(self._store, _Chained):
            self._store.chain_head()  # what others appended since, checked before any read
        yield self._store

    def close(self) -> None:
        self._store = None
        self._open.close()

    def __getattr__(self, name: str) -> Any:
        # Everything else is the inner backends' own; delegated by name so that a method added
        # to `Backends` needs no copy here (three were missed in a copy that listed them).
        if name.startswith("_"):
            raise AttributeError(name)  # never `_inner` itself, before it is set
        return getattr(self._inner, name)
