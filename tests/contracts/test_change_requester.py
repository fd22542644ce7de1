"""The `ChangeRequester` port, run against every implementation: the shared in-memory fake and
`GitHubRest` over real HTTP against the local fake of GitHub's REST API. The host's side (a
review, a merge) is played on the fake both serve."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from alpha.adapters.github.rest import GitHubRest
from alpha.iac.errors import IacError
from alpha.iac.ports import ChangeRequester, PullRequestDraft, Repository, ReviewState
from tests.fakes.change_requester import FakeChangeRequester
from tests.fakes.github_rest import running_github

SHOP = Repository("shop", "infra")


@dataclass
class Pair:
    requester: ChangeRequester
    host: FakeChangeRequester


@pytest.fixture(params=["fake", "rest"])
def pair(request: pytest.FixtureRequest) -> Iterator[Pair]:
    host = FakeChangeRequester(author="alpha-bot")
    if request.param == "fake":
        yield Pair(host, host)
        return
    with running_github(host, page_size=2) as github, httpx.Client(timeout=10) as client:
        yield Pair(GitHubRest(client, token=github.token, api_url=github.url), host)


def draft(branch: str = "alpha/least-privilege-abc") -> PullRequestDraft:
    return PullRequestDraft(SHOP, branch, "main", "Least privilege", "body")


def test_an_opened_pull_request_is_open_and_unmerged(pair: Pair) -> None:
    pull = pair.requester.open_pull_request(draft())
    assert (pull.repository, pull.number, pull.author) == (SHOP, 1, "alpha-bot")
    assert (pull.head, pull.base, pull.open, pull.merged) == (draft().head, "main", True, False)
    assert pull.url.endswith("/shop/infra/pull/1")
    assert len(pull.head_sha) == 40
    assert pair.requester.pull_request(SHOP, 1) == pull
    assert pair.requester.reviews(SHOP, 1) == ()


def test_opening_the_same_branch_again_gives_the_same_pull_request(pair: Pair) -> None:
    first = pair.requester.open_pull_request(draft())
    assert pair.requester.open_pull_request(draft()) == first
    other = pair.requester.open_pull_request(draft("alpha/other"))
    assert other.number == 2


def test_reviews_come_oldest_first_and_a_merge_is_seen(pair: Pair) -> None:
    pull = pair.requester.open_pull_request(draft())
    pair.host.review(SHOP, 1, "lee", ReviewState.COMMENTED)
    pair.host.review(SHOP, 1, "sam", ReviewState.CHANGES_REQUESTED)
    pair.host.review(SHOP, 1, "sam", ReviewState.APPROVED, commit="f" * 40)
    pair.host.merge(SHOP, 1, by="sam")
    reviews = pair.requester.reviews(SHOP, 1)  # three: more than a page of the REST fake
    assert [(r.reviewer, r.state) for r in reviews] == [
        ("lee", ReviewState.COMMENTED),
        ("sam", ReviewState.CHANGES_REQUESTED),
        ("sam", ReviewState.APPROVED),
    ]
    assert [r.commit for r in reviews] == [pull.head_sha, pull.head_sha, "f" * 40]
    assert reviews[0].submitted_at is not None
    merged = pair.requester.pull_request(SHOP, 1)
    assert (merged.open, merged.merged, merged.merged_by) == (False, True, "sam")


def test_an_unknown_pull_request_is_an_error(pair: Pair) -> None:
    with pytest.raises(IacError, match="shop/infra#7"):
        pair.requester.pull_request(SHOP, 7)


def test_a_branch_the_host_does_not_have_is_an_error(pair: Pair) -> None:
    pair.host.heads = lambda repository, branch: None  # the host has no such branch
    with pytest.raises(IacError):
        pair.requester.open_pull_request(draft())
