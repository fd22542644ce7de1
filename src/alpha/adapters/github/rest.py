"""`GitHubRest`: the `ChangeRequester` over GitHub's REST API (github.com, or GitHub Enterprise
Server at its `/api/v3` base), with the httpx client it is given.

Rate limits are waited out, never turned into a failure: a 429, or a 403 that says so
(`Retry-After`, `x-ratelimit-remaining: 0` with `x-ratelimit-reset`, or a secondary rate
limit's message), is retried after the time GitHub gives. Server errors and dropped
connections are retried a few times with backoff, then said.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

import httpx

from alpha.adapters.github.errors import GitHubError
from alpha.iac.ports import PullRequest, PullRequestDraft, Repository, Review, ReviewState

__all__ = ["DEFAULT_API_URL", "GitHubRest", "rate_limit_wait"]

logger = logging.getLogger(__name__)

DEFAULT_API_URL = "https://api.github.com"
API_VERSION = "2022-11-28"
LONGEST_WAIT = 3_600.0
"""A rate limit resets within the hour; a longer reset is a skewed clock."""
SECONDARY_WAIT = 60.0
"""GitHub's advice for a secondary rate limit that gives no time: wait at least a minute."""


def rate_limit_wait(response: httpx.Response, now: float) -> float | None:
    """How long GitHub asks to wait before the request is made again, or None when the
    response is no rate limit."""
    if response.status_code not in (403, 429):
        return None
    headers = response.headers
    retry_after = headers.get("retry-after", "").strip()
    if retry_after.isdigit():
        return min(float(retry_after), LONGEST_WAIT)
    reset = headers.get("x-ratelimit-reset", "").strip()
    if headers.get("x-ratelimit-remaining") == "0" and reset.isdigit():
        return min(max(float(reset) - now, 0.0) + 1.0, LONGEST_WAIT)
    if response.status_code == 429 or "rate limit" in response.text.lower():
        return SECONDARY_WAIT
    return None


class GitHubRest:
    def __init__(
        self,
        client: httpx.Client,
        *,
        token: str,
        api_url: str = DEFAULT_API_URL,
        sleeper: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
        retries: int = 4,
    ) -> None:
        self._client = client
        self._token = token
        self._api = api_url.rstrip("/")
        self._sleep = sleeper
        self._clock = clock
        self._retries = retries

    # The port ----------------------------------------------------------------------------
    def open_pull_request(self, draft: PullRequestDraft) -> PullRequest:
        repository = draft.repository
        body = {"title": draft.title, "head": draft.head, "base": draft.base, "body": draft.body}
        response = self._call("POST", f"/repos/{repository.full_name}/pulls", json=body)
        if response.status_code == 422 and "already exists" in response.text:
            return self._existing(repository, draft.head)
        return _pull(repository, self._json(response, repository.full_name))

    def pull_request(self, repository: Repository, number: int) -> PullRequest:
        response = self._call("GET", f"/repos/{repository.full_name}/pulls/{number}")
        return _pull(repository, self._json(response, f"{repository.full_name}#{number}"))

    def reviews(self, repository: Repository, number: int) -> tuple[Review, ...]:
        found: list[Review] = []
        url: str | None = f"{self._api}/repos/{repository.full_name}/pulls/{number}/reviews"
        params: dict[str, Any] | None = {"per_page": 100}
        while url is not None:
            response = self._call("GET", url, params=params)
            found.extend(
                _review(r) for r in self._json(response, f"{repository.full_name}#{number}")
            )
            url, params = response.links.get("next", {}).get("url"), None
        return tuple(found)

    # HTTP --------------------------------------------------------------------------------
    def _existing(self, repository: Repository, branch: str) -> PullRequest:
        response = self._call(
            "GET",
            f"/repos/{repository.full_name}/pulls",
            params={"head": f"{repository.owner}:{branch}", "state": "open"},
        )
        found = self._json(response, repository.full_name)
        if not found:
            raise GitHubError(
                f"{repository.full_name}: GitHub says a pull request exists for "
                f"{branch} but lists none"
            )
        return _pull(repository, found[0])

    def _call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        url = path if path.startswith("http") else f"{self._api}{path}"
        headers = {
            "Accept": "application/vnd.github+json",
            "Authorization": f"Bearer {self._token}",
            "X-GitHub-Api-Version": API_VERSION,
            "User-Agent": "alpha-iam",
        }
        failures = 0
        while True:
            try:
                response = self._client.request(method, url, headers=headers, **kwargs)
            except httpx.TransportError as exc:
                failures += 1
                self._give_up_after(failures, f"{method} {url}: {exc}")
                continue
            wait = rate_limit_wait(response, self._clock())
            if wait is not None:
                logger.warning("GitHub rate limit on %s %s: waiting %.0f s", method, url, wait)
                self._sleep(wait)
                continue
            if response.status_code >= 500:
                failures += 1
                self._give_up_after(failures, f"{method} {url}: HTTP {response.status_code}")
                continue
            return response

    def _give_up_after(self, failures: int, what: str) -> None:
        if failures > self._retries:
            raise GitHubError(f"GitHub could not be reached after {failures} tries ({what})")
        self._sleep(min(2.0**failures, 30.0))

    def _json(self, response: httpx.Response, what: str) -> Any:
        if response.is_success:
            return response.json()
        message = _message(response)
        status = response.status_code
        if status == 401:
            raise GitHubError(f"GitHub refused the token ({message}): check GITHUB_TOKEN")
        if status == 403:
            raise GitHubError(
                f"{what}: the token may not do this ({message}); it needs Pull requests: "
                "read and write on the repository"
            )
        if status == 404:
            raise GitHubError(f"{what}: not found, or the token cannot see it")
        raise GitHubError(f"{what}: GitHub answered {status}: {message}")


def _message(response: httpx.Response) -> str:
    try:
        data = response.json()
    except ValueError:
        return response.text[:200] or response.reason_phrase
    message = str(data.get("message", "")) if isinstance(data, dict) else ""
    errors = data.get("errors") if isinstance(data, dict) else None
    details = "; ".join(str(e.get("message", e)) for e in errors or [] if isinstance(e, dict))
    return f"{message}: {details}" if details else message or response.reason_phrase


def _login(user: Any) -> str:
    return str(user.get("login")) if isinstance(user, dict) else "ghost"


def _pull(repository: Repository, data: dict[str, Any]) -> PullRequest:
    merged_by = data.get("merged_by")
    return PullRequest(
        repository=repository,
        number=int(data["number"]),
        url=str(data["html_url"]),
        author=_login(data.get("user")),
        head=str(data["head"]["ref"]),
        head_sha=str(data["head"]["sha"]),
        base=str(data["base"]["ref"]),
        open=data.get("state") == "open",
        merged=bool(data.get("merged") or data.get("merged_at")),
        merged_by=_login(merged_by) if merged_by else None,
    )


def _review(data: dict[str, Any]) -> Review:
    submitted = data.get("submitted_at")
    state = str(data.get("state"))  # a state GitHub adds later changes nothing here
    return Review(
        id=int(data["id"]),
        reviewer=_login(data.get("user")),
        state=ReviewState(state) if state in ReviewState.__members__ else ReviewState.COMMENTED,
        commit=str(data.get("commit_id") or ""),
        submitted_at=datetime.fromisoformat(submitted.replace("Z", "+00:00"))
        if submitted
        else None,
    )
