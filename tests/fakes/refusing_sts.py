"""STS in front of moto that refuses `AssumeRole` into some accounts, as STS does when a role's
trust policy does not name the caller (moto assumes any role, even one that does not exist).
Every other request is passed to moto as it came, over HTTP."""

from __future__ import annotations

import urllib.error
import urllib.request
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs

_REFUSAL = """<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <Error>
    <Type>Sender</Type>
    <Code>AccessDenied</Code>
    <Message>User: arn:aws:iam::{caller}:root is not authorized to perform: \
sts:AssumeRole on resource: {role}</Message>
  </Error>
  <RequestId>c6104cbe-af31-11e0-8154-cbc7ccf896c7</RequestId>
</ErrorResponse>
"""


@dataclass(frozen=True)
class RefusingSts:
    """`upstream`: moto's endpoint; `refused`: the accounts no role may be assumed into."""

    upstream: str
    refused: frozenset[str]
    caller: str


class RefusingStsHandler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        fake: RefusingSts = self.server.fake  # type: ignore[attr-defined]
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        form = parse_qs(body.decode())
        role = (form.get("RoleArn") or [""])[0]
        if form.get("Action") == ["AssumeRole"] and role.split(":")[4:5] in (
            [a] for a in fake.refused
        ):
            self._answer(403, _REFUSAL.format(caller=fake.caller, role=role).encode())
            return
        headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
        request = urllib.request.Request(fake.upstream + self.path, body, headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                self._answer(answer.status, answer.read())
        except urllib.error.HTTPError as error:
            self._answer(error.code, error.read())

    def _answer(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "text/xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: object) -> None:  # quiet: the tests read outcomes, not logs
        return
