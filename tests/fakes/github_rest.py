"""A local fake of the GitHub REST endpoints alpha uses, over real HTTP, serving a
`FakeChangeRequester` in GitHub's wire format:

    POST /repos/{owner}/{repo}/pulls               201, or 422 "A pull request already exists"
    GET  /repos/{owner}/{repo}/pulls?head=&state=  the open pull requests of a branch
    GET  /repos/{owner}/{repo}/pulls/{n}           200 or 404
    GET  /repos/{owner}/{repo}/pulls/{n}/reviews   paginated (per_page, page, Link: rel="next")

Every request needs `Authorization: Bearer <token>` (401 otherwise) and is recorded. Tests
queue rate-limit answers (`limit_next`) that the next requests get before the real one.
An optional `prefix` (`/api/v3`) serves it as GitHub Enterprise Server does.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

from alpha.iac.errors import IacError
from alpha.iac.ports import PullRequest, PullRequestDraft, Repository, Review
from tests.fakes.change_requester import FakeChangeRequester
from tests.fakes.local_http import FakeServer, serving

_PULLS = re.compile(r"/repos/([^/]+)/([^/]+)/pulls(?:/(\d+)(/reviews)?)?")


@dataclass(frozen=True, slots=True)
class Recorded:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any


@dataclass
class FakeGitHub:
    host: FakeChangeRequester
    token: str = "test-token"
    prefix: str = ""
    page_size: int = 100
    url: str = ""
    requests: list[Recorded] = field(default_factory=list)
    queued: list[tuple[int, dict[str, str], dict[str, Any]]] = field(default_factory=list)

    def limit_next(self, status: int, headers: dict[str, str], message: str = "") -> None:
        """The next request gets this answer instead (GitHub's rate-limit responses)."""
        self.queued.append((status, headers, {"message": message or "API rate limit exceeded"}))


def pull_json(pull: PullRequest) -> dict[str, Any]:
    return {
        "number": pull.number,
        "html_url": pull.url,
        "state": "open" if pull.open else "closed",
        "merged": pull.merged,
        "merged_at": "2026-11-01T12:00:00Z" if pull.merged else None,
        "merged_by": {"login": pull.merged_by} if pull.merged_by else None,
        "user": {"login": pull.author},
        "head": {"ref": pull.head, "sha": pull.head_sha},
        "base": {"ref": pull.base},
    }


def review_json(review: Review) -> dict[str, Any]:
    submitted = review.submitted_at
    return {
        "id": review.id,
        "user": {"login": review.reviewer},
        "state": review.state.value,
        "commit_id": review.commit,
        "submitted_at": submitted.isoformat().replace("+00:00", "Z") if submitted else None,
    }


class _Handler(BaseHTTPRequestHandler):
    server: FakeServer

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def _handle(self, method: str) -> None:
        fake = self.server.fake
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        body = json.loads(raw) if raw else None
        query = parse_qs(parts.query)
        fake.requests.append(Recorded(method, parts.path, query, dict(self.headers), body))
        if fake.queued:
            status, headers, answer = fake.queued.pop(0)
            self._reply(status, answer, headers)
            return
        if self.headers.get("Authorization") != f"Bearer {fake.token}":
            self._reply(401, {"message": "Bad credentials"})
            return
        found = _PULLS.fullmatch(parts.path.removeprefix(fake.prefix))
        if found is None:
            self._reply(404, {"message": "Not Found"})
            return
        repository = Repository(found.group(1), found.group(2))
        try:
            self._route(method, repository, found, query, body)
        except IacError:
            self._reply(404, {"message": "Not Found"})

    def _route(
        self,
        method: str,
        repository: Repository,
        found: re.Match[str],
        query: dict[str, list[str]],
        body: Any,
    ) -> None:
        host = self.server.fake.host
        number, reviews = found.group(3), found.group(4)
        if method == "POST" and number is None:
            self._open(repository, body)
        elif number is None:
            branch = query.get("head", [":"])[0].partition(":")[2]
            pulls = [p for p in host.pulls() if p.repository == repository and p.head == branch]
            self._reply(200, [pull_json(p) for p in pulls if p.open])
        elif reviews is None:
            self._reply(200, pull_json(host.pull_request(repository, int(number))))
        else:
            self._reviews(repository, int(number), query)

    def _open(self, repository: Repository, body: dict[str, Any]) -> None:
        host = self.server.fake.host
        if any(
            p.repository == repository and p.head == body["head"] and p.open for p in host.pulls()
        ):
            message = f"A pull request already exists for {repository.owner}:{body['head']}."
            self._reply(422, {"message": "Validation Failed", "errors": [{"message": message}]})
            return
        draft = PullRequestDraft(
            repository, body["head"], body["base"], body["title"], body["body"]
        )
        try:
            pull = host.open_pull_request(draft)
        except IacError:
            errors = [{"resource": "PullRequest", "field": "head", "code": "invalid"}]
            self._reply(422, {"message": "Validation Failed", "errors": errors})
            return
        self._reply(201, pull_json(pull))

    def _reviews(self, repository: Repository, number: int, query: dict[str, list[str]]) -> None:
        fake = self.server.fake
        every = fake.host.reviews(repository, number)
        size = min(int(query.get("per_page", ["30"])[0]), fake.page_size)
        page = int(query.get("page", ["1"])[0])
        chunk = every[(page - 1) * size : page * size]
        headers = {}
        if page * size < len(every):
            base = f"{fake.url}/repos/{repository.full_name}/pulls/{number}/reviews"
            headers["Link"] = f'<{base}?per_page={size}&page={page + 1}>; rel="next"'
        self._reply(200, [review_json(r) for r in chunk], headers)

    def _reply(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the tests read `FakeGitHub.requests` instead."""


@contextmanager
def running_github(host: FakeChangeRequester, **options: Any) -> Iterator[FakeGitHub]:
    """The fake on a free port in a thread; `fake.url` is the API's base URL."""
    fake = FakeGitHub(host, **options)
    with serving(_Handler, fake) as url:
        fake.url = url + fake.prefix
        yield fake
