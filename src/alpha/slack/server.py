"""`alpha slack serve`: the Bolt app over HTTP at `/slack/events` (a thread per request), and a
background flush that delivers notifications a refused or rate-limited post left waiting.

Put it behind a TLS-terminating proxy (Slack calls HTTPS URLs only); the app itself speaks
plain HTTP on the port given.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler

from alpha.app import Application
from alpha.errors import AlphaError

__all__ = ["EVENTS_PATH", "FLUSH_EVERY", "Running", "ServeError", "serve"]

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
FLUSH_EVERY = 10.0
"""Seconds between the background flushes of the notification outbox."""


class ServeError(AlphaError):
    """The server cannot listen where it was asked to."""


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        log.info("%s %s", self.address_string(), format % args)


@dataclass
class Running:
    """A server answering in its own thread until `stop`."""

    server: WSGIServer
    threads: list[threading.Thread]
    stopping: threading.Event = field(default_factory=threading.Event)
    served: threading.Event = field(default_factory=threading.Event)  # serve_forever returned

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}{EVENTS_PATH}"

    def wait(self) -> None:
        """Until the server stops. Waits on an event, not by joining its thread: a Ctrl-C that
        lands inside `Thread.join` can leave the thread's lock so that `stop`'s join hangs."""
        while not self.served.wait(0.5):
            pass

    def stop(self) -> None:
        """Stop answering; a flush waiting out Slack's `Retry-After` is not waited for (what it
        has not delivered stays in the outbox)."""
        self.stopping.set()
        self.server.shutdown()
        self.server.server_close()
        answer, flush = self.threads
        answer.join()
        flush.join(timeout=1.0)


def serve(
    bolt: App, application: Application, host: str, port: int, *, flush_every: float = FLUSH_EVERY
) -> Running:
    """Start answering on `host:port` (0: a free port) in the background."""
    try:
        server = make_server(
            host, port, SlackRequestHandler(bolt, EVENTS_PATH), _ThreadingServer, _QuietHandler
        )
    except OSError as exc:
        raise ServeError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
    running = Running(server, [])

    def answer_until_shutdown() -> None:
        try:
            server.serve_forever(0.2)
        finally:
            running.served.set()

    # A daemon: whatever happens to the main thread, the process can end.
    answer = threading.Thread(target=answer_until_shutdown, name="alpha-slack-http", daemon=True)
    flush = threading.Thread(
        target=_flush_until,
        args=(application, running.stopping, flush_every),
        name="alpha-slack-flush",
        daemon=True,
    )
    running.threads += [answer, flush]
    answer.start()
    flush.start()
    return running


def _flush_until(application: Application, stopping: threading.Event, every: float) -> None:
    while not stopping.wait(every):
        try:
            waiting = application.flush_notifications()
        except AlphaError as exc:
            log.error("notifications not flushed: %s", exc)
            continue
        if waiting:
            log.warning("%d Slack notifications still waiting to be delivered", waiting)
