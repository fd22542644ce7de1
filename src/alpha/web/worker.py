"""Every call into the application runs on one worker thread, in turn: the store stays open
between requests on that thread (`alpha.app.held_store`), and SQLite's single writer is never
contended from inside the server. The event loop stays free to answer while a call runs."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from alpha.app import Application

__all__ = ["Worker"]

T = TypeVar("T")


class Worker:
    def __init__(self, application: Application, on_close: Callable[[], None]) -> None:
        self.application = application
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="alpha-web")
        self._on_close = on_close

    async def run(self, call: Callable[[Application], T]) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, call, self.application)

    def call(self, call: Callable[[Application], T]) -> T:
        """`call` on the worker, waited for (outside the event loop)."""
        return self._pool.submit(call, self.application).result()

    def close(self) -> None:
        self._pool.submit(self._on_close).result()
        self._pool.shutdown(wait=True)
