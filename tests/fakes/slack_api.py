"""`FakeSlack`: a local HTTP server speaking the parts of Slack ALPHA uses, recording every
call: the Web API (`/api/<method>`: auth.test, chat.postMessage, chat.update,
chat.postEphemeral, views.open), incoming webhooks (`/webhook/...`) and response URLs
(`/response/...`). Faults are queued per method: `fault("chat.postMessage", 429,
retry_after=1)` answers the next such call with a 429 and that `Retry-After`, `fault(..., 500)`
with a server error; `down = True` refuses every call with a 503; `gone = True` answers
as for a deleted message (no update, no reply in its thread)."""

from __future__ import annotations

import itertools
import json
import threading
from collections import defaultdict, deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

TOKEN = "xoxb-test-token"
CHANNEL = "C0ALPHA01"
BOT_USER = "U0ALPHABOT"


@dataclass(frozen=True, slots=True)
class Call:
    """One request as it arrived: the path after the kind (`chat.postMessage`, a webhook's
    id), its JSON or form body, and whether it carried the bot token."""

    kind: str
    name: str
    body: dict[str, Any]
    authorized: bool


@dataclass(frozen=True, slots=True)
class Fault:
    status: int
    retry_after: int | None


class FakeSlack:
    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.faults: dict[str, deque[Fault]] = defaultdict(deque)
        self.down = False
        self.gone = False  # the messages posted so far were deleted
        self.refuse_blocks = False  # answer invalid_blocks to a message with blocks
        self.lock = threading.Lock()
        self._ts = itertools.count(1)
        self.url = ""

    # What tests ask --------------------------------------------------------------------------
    def fault(
        self, name: str, status: int, *, retry_after: int | None = None, times: int = 1
    ) -> None:
        with self.lock:
            self.faults[name].extend(Fault(status, retry_after) for _ in range(times))

    def api(self, method: str | None = None) -> list[Call]:
        """The Web API calls Slack answered (not those a fault or `down` refused), of one
        method or all."""
        with self.lock:
            return [c for c in self.calls if c.kind == "api" and method in (None, c.name)]

    def posts(self) -> list[dict[str, Any]]:
        return [c.body for c in self.api("chat.postMessage")]

    def webhooks(self) -> list[dict[str, Any]]:
        with self.lock:
            return [c.body for c in self.calls if c.kind == "webhook"]

    def responses(self) -> list[dict[str, Any]]:
        with self.lock:
            return [c.body for c in self.calls if c.kind == "response"]

    @property
    def api_url(self) -> str:
        return f"{self.url}/api/"

    def webhook_url(self, name: str = "T0/B0/secret") -> str:
        return f"{self.url}/webhook/{name}"

    def response_url(self, name: str = "1") -> str:
        return f"{self.url}/response/{name}"

    # Answers ---------------------------------------------------------------------------------
    def answer(
        self, kind: str, name: str, body: dict[str, Any], authorized: bool
    ) -> tuple[int, dict[str, str], Any]:
        with self.lock:
            if self.down:
                return 503, {}, "down"
            pending = self.faults.get(name)
            if pending:
                fault = pending.popleft()
                headers = (
                    {} if fault.retry_after is None else {"Retry-After": str(fault.retry_after)}
                )
                return (
                    fault.status,
                    headers,
                    {"ok": False, "error": "ratelimited"} if fault.status == 429 else "oops",
                )
            self.calls.append(Call(kind, name, body, authorized))
            if kind != "api":
                return 200, {}, "ok"
            if not authorized:
                return 200, {}, {"ok": False, "error": "invalid_auth"}
            return 200, {}, self._result(name, body)

    def _result(self, name: str, body: dict[str, Any]) -> dict[str, Any]:
        if name == "auth.test":
            return {"ok": True, "user_id": BOT_USER, "team_id": "T0ALPHA", "bot_id": "B0ALPHA"}
        if self.refuse_blocks and body.get("blocks"):
            return {"ok": False, "error": "invalid_blocks"}
        if self.gone and name == "chat.update":
            return {"ok": False, "error": "message_not_found"}
        if self.gone and name == "chat.postMessage" and body.get("thread_ts"):
            return {"ok": False, "error": "cannot_reply_to_message"}
        if name == "chat.postMessage":
            ts = f"1700000000.{next(self._ts):06d}"
            return {"ok": True, "channel": body.get("channel"), "ts": ts, "message": {"ts": ts}}
        if name == "chat.update":
            return {"ok": True, "channel": body.get("channel"), "ts": body.get("ts")}
        if name == "chat.postEphemeral":
            return {"ok": True, "message_ts": "1700000000.999999"}
        if name == "views.open":
            return {"ok": True, "view": {"id": "V0ALPHA"}}
        return {"ok": False, "error": "unknown_method"}


def _handler(slack: FakeSlack) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
            if "json" in (self.headers.get("Content-Type") or ""):
                body = json.loads(raw or "{}")
            else:
                body = {k: v[0] for k, v in parse_qs(raw).items()}
            _, kind, name = self.path.split("/", 2)
            authorized = (
                self.headers.get("Authorization") == f"Bearer {TOKEN}" or body.get("token") == TOKEN
            )
            status, headers, answer = slack.answer(kind, name, body, authorized)
            data = (answer if isinstance(answer, str) else json.dumps(answer)).encode()
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            kind_of = "text/plain" if isinstance(answer, str) else "application/json"
            self.send_header("Content-Type", kind_of)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            return None

    return Handler


@contextmanager
def fake_slack() -> Iterator[FakeSlack]:
    slack = FakeSlack()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(slack))
    slack.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield slack
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
