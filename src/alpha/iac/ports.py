"""What shipping a proposal to an IaC repository needs from outside: a `ChangeRequester` (open
a pull request, read its state and reviews: GitHub, `alpha.adapters.github.rest`) and a
`Checkout` (a branch of the repository being prepared, committed and pushed: git,
`alpha.adapters.github.git`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

__all__ = [
    "ChangeRequester",
    "Checkout",
    "PullRequest",
    "PullRequestDraft",
    "Repository",
    "Review",
    "ReviewState",
]


@dataclass(frozen=True, slots=True)
class Repository:
    """A hosted repository, `owner/name`."""

    owner: str
    name: str

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"


@dataclass(frozen=True, slots=True)
class PullRequestDraft:
    repository: Repository
    head: str
    base: str
    title: str
    body: str


@dataclass(frozen=True, slots=True)
class PullRequest:
    """A pull request as the host says it is now."""

    repository: Repository
    number: int
    url: str
    author: str
    head: str
    head_sha: str
    base: str
    open: bool
    merged: bool
    merged_by: str | None = None

    @property
    def reference(self) -> str:
        return f"{self.repository.full_name}#{self.number}"


class ReviewState(StrEnum):
    APPROVED = "APPROVED"
    CHANGES_REQUESTED = "CHANGES_REQUESTED"
    COMMENTED = "COMMENTED"
    DISMISSED = "DISMISSED"
    PENDING = "PENDING"


@dataclass(frozen=True, slots=True)
class Review:
    """One submitted review: who, what they said, on which commit."""

    id: int
    reviewer: str
    state: ReviewState
    commit: str
    submitted_at: datetime | None = None


class ChangeRequester(Protocol):
    """Pull requests on a host. Opening one whose branch already has an open pull request
    gives that one back; every call is retried through the host's rate limits."""

    def open_pull_request(self, draft: PullRequestDraft) -> PullRequest: ...

    def pull_request(self, repository: Repository, number: int) -> PullRequest:
        """`IacError` (or the adapter's subclass) when there is no such pull request."""
        ...

    def reviews(self, repository: Repository, number: int) -> tuple[Review, ...]:
        """Every submitted review, oldest first."""
        ...


class Checkout(Protocol):
    """A new branch of the repository, from the base branch on its remote, being prepared."""

    @property
    def repository(self) -> Repository:
        """The hosted repository the remote's URL names."""
        ...

    @property
    def branch(self) -> str: ...

    def compare_url(self, base: str) -> str:
        """Where a person opens the pull request by hand."""
        ...

    def files(self, suffixes: tuple[str, ...]) -> Mapping[str, str]:
        """The text of every tracked file with one of `suffixes`, by path from the root."""
        ...

    def write(self, path: str, text: str) -> None: ...

    def commit_and_push(self, message: str) -> str:
        """Commit everything written on the branch, push it to the remote; the commit's id."""
        ...
