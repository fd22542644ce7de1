"""A small REST-JSON service on 127.0.0.1 for botocore to talk to over real HTTP.

A service is a list of routes, (method, path pattern, handler); a handler gets the path's
groups and the decoded JSON body and returns a `Reply` or raises `ServiceError` (sent as AWS's
REST-JSON error: the status, `x-amzn-ErrorType` and a `{"message": ...}` body, as Bedrock and
Access Analyzer send them). Every request is kept in `requests` for the tests to read.
"""

from __future__ import annotations

import json
import re
import sys
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote, urlsplit

Handler = Callable[[tuple[str, ...], dict[str, Any], dict[str, str]], "Reply"]


class ServiceError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


@dataclass(frozen=True)
class Reply:
    body: dict[str, Any]
    status: int = 200


@dataclass(frozen=True)
class SeenRequest:
    method: str
    path: str
    query: str
    body: dict[str, Any]
    signed: bool


@dataclass
class Routes:
    routes: list[tuple[str, re.Pattern[str], Handler]] = field(default_factory=list)
    requests: list[SeenRequest] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, method: str, pattern: str, handler: Handler) -> None:
        self.routes.append((method, re.compile(pattern), handler))

    def dispatch(
        self, method: str, target: str, body: dict[str, Any], headers: dict[str, str]
    ) -> Reply:
        parts = urlsplit(target)
        path = unquote(parts.path)
        with self.lock:
            signed = headers.get("authorization", "").startswith("AWS4-HMAC-SHA256 ")
            self.requests.append(SeenRequest(method, path, parts.query, body, signed))
        for wanted, pattern, handler in self.routes:
            found = pattern.fullmatch(path)
            if wanted == method and found:
                query = dict(p.split("=", 1) for p in parts.query.split("&") if "=" in p)
                return handler(found.groups(), body, {**headers, **query})
        raise ServiceError(404, "UnknownOperationException", f"{method} {path}")


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        headers = {k.lower(): v for k, v in self.headers.items()}
        try:
            body = json.loads(raw) if raw else {}
            reply = self.server.routes.dispatch(self.command, self.path, body, headers)
        except ServiceError as error:
            self._reply(error.status, {"message": error.message}, error.code)
            return
        except json.JSONDecodeError:
            self._reply(400, {"message": "body is not JSON"}, "ValidationException")
            return
        self._reply(reply.status, reply.body, None)

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_PUT(self) -> None:
        self._serve()

    def _reply(self, status: int, body: dict[str, Any], error: str | None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
        if error is not None:
            self.send_header("x-amzn-ErrorType", error)
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the tests read `Routes.requests`."""


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, routes: Routes) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.routes = routes

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that gave up (a timeout test) is expected: not a traceback on stderr."""
        if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            super().handle_error(request, client_address)


@contextmanager
def serving(routes: Routes) -> Iterator[str]:
    """Serve `routes` on a free port in a thread; yields the endpoint URL."""
    server = _Server(routes)
    host, port = server.server_address[:2]
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://{host!s}:{port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
