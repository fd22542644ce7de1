"""When a merged pull request stands as the approval: each reviewer's last word counts
(comments say nothing, a dismissed review is withdrawn), on the commit alpha pushed."""

from __future__ import annotations

import pytest

from alpha.iac.ports import PullRequest, Repository, Review, ReviewState
from alpha.iac.reviews import Approver, Refusal, merged_approval

PUSHED = "a" * 40
USERS = {"sam-gh": "sam", "lee-gh": "lee", "bot": "dana"}
A, C, R, D = (
    ReviewState.APPROVED,
    ReviewState.COMMENTED,
    ReviewState.CHANGES_REQUESTED,
    ReviewState.DISMISSED,
)


def pull(*, merged: bool = True, open_: bool = False, head: str = PUSHED) -> PullRequest:
    return PullRequest(Repository("o", "r"), 3, "u", "bot", "b", head, "main", open_, merged)


def reviews(*said: tuple[str, ReviewState]) -> tuple[Review, ...]:
    return tuple(Review(i, who, state, PUSHED) for i, (who, state) in enumerate(said))


@pytest.mark.parametrize(
    ("given", "approver"),
    [
        (reviews(("sam-gh", A)), "sam"),
        (reviews(("sam-gh", R), ("sam-gh", A)), "sam"),
        (reviews(("sam-gh", A), ("sam-gh", C)), "sam"),
        (reviews(("lee-gh", R), ("lee-gh", D), ("sam-gh", A)), "sam"),
        (reviews(("sam-gh", A), ("sam-gh", D)), None),
        (reviews(("sam-gh", A), ("lee-gh", R)), None),
        (reviews(("bot", A)), None),
    ],
    ids=[
        "approved",
        "changed-mind",
        "comment-after",
        "dismissed-block",
        "dismissed-approval",
        "blocked",
        "author",
    ],
)
def test_each_reviewer_s_last_word(given: tuple[Review, ...], approver: str | None) -> None:
    verdict = merged_approval(pull(), given, PUSHED, USERS)
    assert (verdict.name if isinstance(verdict, Approver) else None) == approver


def test_open_is_waiting_and_closed_is_final() -> None:
    waiting = merged_approval(pull(merged=False, open_=True), (), PUSHED, USERS)
    closed = merged_approval(pull(merged=False), (), PUSHED, USERS)
    assert waiting == Refusal("o/r#3 is open: not merged yet", final=False)
    assert isinstance(closed, Refusal)
    assert closed.final
