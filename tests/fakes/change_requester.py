"""`FakeChangeRequester`: the one shared fake of `alpha.iac.ports.ChangeRequester`, pull
requests kept in memory with GitHub's rules (one open pull request per branch, numbers
counted per repository, a review on the head commit unless told otherwise). Tests drive
what people do on the host through `review`, `merge`, `push` and `close`; the fake GitHub
REST server (tests/adapters/github/fake_github.py) serves the same object over HTTP."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from alpha.iac.errors import IacError
from alpha.iac.ports import PullRequest, PullRequestDraft, Repository, Review, ReviewState

HeadResolver = Callable[[Repository, str], str | None]


def _made_up_head(repository: Repository, branch: str) -> str:
    return hashlib.sha1(f"{repository.full_name}:{branch}".encode()).hexdigest()


@dataclass
class _Pull:
    pull: PullRequest
    title: str
    body: str
    reviews: list[Review] = field(default_factory=list)


class FakeChangeRequester:
    """`author` is whom the token belongs to; `heads` says which commit a branch is at (by
    default a made-up one; the end-to-end tests read the bare remote)."""

    def __init__(self, *, author: str = "alpha-bot", heads: HeadResolver | None = None) -> None:
        self.author = author
        self.heads = heads or _made_up_head
        self._pulls: dict[tuple[str, int], _Pull] = {}
        self._review_ids = 0
        self._clock = datetime(2026, 11, 1, tzinfo=UTC)

    # The port ----------------------------------------------------------------------------
    def open_pull_request(self, draft: PullRequestDraft) -> PullRequest:
        head = self.heads(draft.repository, draft.head)
        if head is None:
            raise IacError(f"{draft.repository.full_name}: no branch {draft.head} to merge")
        for found in self._pulls.values():
            pull = found.pull
            if pull.repository == draft.repository and pull.head == draft.head and pull.open:
                return pull
        number = 1 + sum(1 for (repo, _) in self._pulls if repo == draft.repository.full_name)
        url = f"https://github.com/{draft.repository.full_name}/pull/{number}"
        pull = PullRequest(
            draft.repository, number, url, self.author, draft.head, head, draft.base, True, False
        )
        self._pulls[(draft.repository.full_name, number)] = _Pull(pull, draft.title, draft.body)
        return pull

    def pull_request(self, repository: Repository, number: int) -> PullRequest:
        return self._get(repository, number).pull

    def reviews(self, repository: Repository, number: int) -> tuple[Review, ...]:
        return tuple(self._get(repository, number).reviews)

    # What people do on the host ----------------------------------------------------------
    def review(
        self,
        repository: Repository,
        number: int,
        reviewer: str,
        state: ReviewState = ReviewState.APPROVED,
        commit: str | None = None,
    ) -> Review:
        found = self._get(repository, number)
        self._review_ids += 1
        self._clock += timedelta(minutes=1)
        review = Review(
            self._review_ids, reviewer, state, commit or found.pull.head_sha, self._clock
        )
        found.reviews.append(review)
        return review

    def merge(self, repository: Repository, number: int, by: str = "maintainer") -> None:
        found = self._get(repository, number)
        found.pull = replace(found.pull, open=False, merged=True, merged_by=by)

    def close(self, repository: Repository, number: int) -> None:
        found = self._get(repository, number)
        found.pull = replace(found.pull, open=False)

    def push(self, repository: Repository, number: int, sha: str) -> None:
        found = self._get(repository, number)
        found.pull = replace(found.pull, head_sha=sha)

    def body(self, repository: Repository, number: int) -> tuple[str, str]:
        found = self._get(repository, number)
        return found.title, found.body

    def pulls(self) -> list[PullRequest]:
        return [p.pull for p in self._pulls.values()]

    def _get(self, repository: Repository, number: int) -> _Pull:
        found = self._pulls.get((repository.full_name, number))
        if found is None:
            raise IacError(f"{repository.full_name}#{number}: no such pull request")
        return found
