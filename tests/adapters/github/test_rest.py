"""`GitHubRest` over real HTTP against the local fake: GitHub's rate limits are waited out
(Retry-After, x-ratelimit-reset, a secondary limit, 429) and the request made again, never
dropped; server errors are retried then said; refusals are one clear line."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from alpha.adapters.github.errors import GitHubError
from alpha.adapters.github.rest import GitHubRest, rate_limit_wait
from alpha.iac.ports import PullRequestDraft, Repository
from tests.fakes.change_requester import FakeChangeRequester
from tests.fakes.github_rest import FakeGitHub, running_github

SHOP = Repository("shop", "infra")
DRAFT = PullRequestDraft(SHOP, "alpha/x", "main", "title", "body")
NOW = 1_800_000_000.0


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    with running_github(FakeChangeRequester(), prefix="/api/v3") as fake:
        yield fake


@pytest.fixture(scope="module")
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10) as made:
        yield made


def rest(
    github: FakeGitHub, client: httpx.Client, waits: list[float], token: str | None = None
) -> GitHubRest:
    return GitHubRest(
        client,
        token=token or github.token,
        api_url=github.url,
        sleeper=waits.append,
        clock=lambda: NOW,
    )


@pytest.mark.parametrize(
    "limit",
    [
        (403, {"Retry-After": "7"}, "", 7.0),
        (429, {"Retry-After": "3"}, "", 3.0),
        (403, {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(NOW) + 120)}, "", 121.0),
        (403, {}, "You have exceeded a secondary rate limit", 60.0),
        (429, {}, "slow down", 60.0),
        (
            403,
            {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(NOW) + 99_999)},
            "",
            3600.0,
        ),
    ],
    ids=["retry-after", "429-retry-after", "reset", "secondary", "429", "reset-capped"],
)
def test_a_rate_limit_is_waited_out_and_the_request_made_again(
    github: FakeGitHub, client: httpx.Client, limit: tuple[int, dict[str, str], str, float]
) -> None:
    status, headers, message, wait = limit
    waits: list[float] = []
    github.limit_next(status, headers, message)
    github.limit_next(status, headers, message)
    pull = rest(github, client, waits).open_pull_request(DRAFT)
    assert waits == [wait, wait]
    assert pull.number == 1
    posts = [r for r in github.requests if r.method == "POST"]
    assert len(posts) == 3  # two limited, one made: the pull request was opened once
    assert len(github.host.pulls()) == 1
    assert posts[-1].headers["Authorization"] == f"Bearer {github.token}"
    assert posts[-1].headers["X-GitHub-Api-Version"] == "2022-11-28"
    assert posts[-1].path == "/api/v3/repos/shop/infra/pulls"


def test_a_forbidden_answer_that_is_no_rate_limit_is_not_retried() -> None:
    response = httpx.Response(403, json={"message": "Resource not accessible by integration"})
    assert rate_limit_wait(response, NOW) is None


def test_server_errors_are_retried_with_backoff_then_said(
    github: FakeGitHub, client: httpx.Client
) -> None:
    waits: list[float] = []
    for _ in range(2):
        github.queued.append((502, {}, {"message": "Bad Gateway"}))
    assert rest(github, client, waits).open_pull_request(DRAFT).number == 1
    assert waits == [2.0, 4.0]
    for _ in range(5):
        github.queued.append((500, {}, {"message": "boom"}))
    with pytest.raises(GitHubError, match="could not be reached after 5 tries"):
        rest(github, client, []).pull_request(SHOP, 1)


def test_refusals_are_one_clear_line(github: FakeGitHub, client: httpx.Client) -> None:
    with pytest.raises(GitHubError, match=r"refused the token.*GITHUB_TOKEN"):
        rest(github, client, [], token="wrong").open_pull_request(DRAFT)
    github.queued.append((403, {}, {"message": "Resource not accessible by integration"}))
    with pytest.raises(GitHubError, match="Pull requests: read and write"):
        rest(github, client, []).open_pull_request(DRAFT)
    with pytest.raises(GitHubError, match="shop/infra#9: not found"):
        rest(github, client, []).pull_request(SHOP, 9)


def test_an_unreachable_host_is_said() -> None:
    waits: list[float] = []
    with httpx.Client(timeout=1) as client:
        dead = GitHubRest(client, token="t", api_url="http://127.0.0.1:9", sleeper=waits.append)
        with pytest.raises(GitHubError, match="could not be reached"):
            dead.pull_request(SHOP, 1)
    assert len(waits) == 4
