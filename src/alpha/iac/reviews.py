"""When a merged pull request stands as the approval of its proposal.

It must be merged, with its head still the commit alpha pushed (a later commit could change
the policy the proposal's id stands for), no reviewer's last word "changes requested", and an
approving review of that commit by a reviewer who is not the pull request's author and whose
host login maps to an approver's name. The approval itself then goes through the workflow's
own checks (separation of duties, the approver list, guardrails) like any other.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from alpha.iac.ports import PullRequest, Review, ReviewState

__all__ = ["Approver", "Refusal", "ReviewVerdict", "merged_approval"]


@dataclass(frozen=True, slots=True)
class Approver:
    """The review that stands as the approval, and the approver's name it maps to."""

    login: str
    name: str
    review: Review


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why the pull request does not (yet) stand as the approval; `final` when waiting will
    not change it (closed unmerged, merged without a valid approval)."""

    reason: str
    final: bool


ReviewVerdict = Approver | Refusal


def merged_approval(
    pull: PullRequest, reviews: tuple[Review, ...], pushed: str, users: Mapping[str, str]
) -> ReviewVerdict:
    if not pull.merged:
        if pull.open:
            return Refusal(f"{pull.reference} is open: not merged yet", final=False)
        return Refusal(f"{pull.reference} was closed without merging", final=True)
    if pull.head_sha != pushed:
        return Refusal(
            f"{pull.reference}'s head {pull.head_sha[:12]} is not the commit alpha pushed "
            f"({pushed[:12]}): what was merged may differ from the proposal; approve it with "
            "alpha approve instead",
            final=True,
        )
    latest = _latest_by_reviewer(reviews)
    blocking = sorted(r.reviewer for r in latest if r.state is ReviewState.CHANGES_REQUESTED)
    if blocking:
        return Refusal(f"changes requested by {', '.join(blocking)}", final=True)
    return _approver(pull, latest, pushed, users)


def _latest_by_reviewer(reviews: tuple[Review, ...]) -> list[Review]:
    """Each reviewer's last review that says something (comments change no state)."""
    latest: dict[str, Review] = {}
    for review in reviews:
        if review.state in (ReviewState.APPROVED, ReviewState.CHANGES_REQUESTED):
            latest[review.reviewer] = review
        elif review.state is ReviewState.DISMISSED:
            latest.pop(review.reviewer, None)
    return list(latest.values())


def _approver(
    pull: PullRequest, latest: list[Review], pushed: str, users: Mapping[str, str]
) -> ReviewVerdict:
    reasons: list[str] = []
    author = users.get(pull.author)
    for review in latest:
        who = review.reviewer
        name = users.get(who)
        if who == pull.author or (name is not None and name == author):
            reasons.append(f"{who} is the pull request's author, who cannot approve")
        elif review.commit != pushed:
            reasons.append(f"{who} approved {review.commit[:12]}, not the commit alpha pushed")
        elif name is None:
            reasons.append(f"{who} is not mapped to an approver ([github] users)")
        else:
            return Approver(who, name, review)
    said = "; ".join(reasons) or "no approving review"
    return Refusal(f"{pull.reference} was merged without a valid approval: {said}", final=True)
