"""Serving a fake web API on a free local port in a thread, for as long as a block runs."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class FakeServer(ThreadingHTTPServer):
    """The server a fake's handler reads its state from (`self.server.fake`)."""

    daemon_threads = True

    def __init__(self, handler: type[BaseHTTPRequestHandler], fake: Any) -> None:
        super().__init__(("127.0.0.1", 0), handler)
        self.fake = fake


@contextmanager
def serving(handler: type[BaseHTTPRequestHandler], fake: Any) -> Iterator[str]:
    """`http://127.0.0.1:PORT` while the block runs; the server is shut down after it."""
    server = FakeServer(handler, fake)
    host, port = server.server_address[:2]
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://{host!s}:{port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
