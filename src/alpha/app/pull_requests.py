"""Shipping a proposal to the IaC repository as a pull request, and a merged pull request
standing as the proposal's approval.

`open`: in a local clone, the principal's policies are found and rewritten (`alpha.iac`), the
change committed on `alpha/least-privilege-<id>` with the rationale, pushed, and a pull request
opened (or, without a token, the compare URL given). `sync`: each pull request's state and
reviews are read; a merged one with an approving review of the commit alpha pushed is an
approval by the reviewer (their GitHub login mapped to an approver's name), made through
`Application.approve`, so it is bound to the proposal's content, checked for separation of
duties and guardrails, and audited like any other.

Which pull request belongs to which proposal is kept in the audit log (`Store.append_audit`,
action `pull_request`, details: repository, number, url, branch, base, commit): it is durable,
append-only and in every store, and the `Store` port needs nothing new.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alpha.app.application import Application
from alpha.app.backends import open_change_requester, open_checkout
from alpha.app.errors import AppError
from alpha.errors import AlphaError
from alpha.iac.model import Placement, policy_change
from alpha.iac.place import TEMPLATE_SUFFIXES, place
from alpha.iac.ports import ChangeRequester, Checkout, PullRequestDraft, Repository
from alpha.iac.pr_text import commit_message, pull_request_body, pull_request_title
from alpha.iac.reviews import Approver, merged_approval
from alpha.store.model import AuditEvent, ProposalState, StoredProposal

__all__ = [
    "OPENED",
    "PUSHED",
    "REFUSED",
    "PullRequestRequest",
    "PullRequests",
    "ShippedChange",
    "SyncOutcome",
]

OPENED = "pull_request"
"""The audit action that records a proposal's pull request."""
PUSHED = "pull_request_branch"
"""The audit action of a branch pushed without a token (no pull request to follow)."""
REFUSED = "pull_request_refused"
"""A merged pull request that did not stand as the approval, and why (audited once)."""

_NOT_SHIPPED = (
    ProposalState.REJECTED,
    ProposalState.EXPIRED,
    ProposalState.ROLLED_BACK,
    ProposalState.FAILED,
)

RequesterFactory = Callable[[], AbstractContextManager[ChangeRequester | None]]
CheckoutFactory = Callable[..., AbstractContextManager[Checkout]]


@dataclass(frozen=True, slots=True)
class PullRequestRequest:
    proposal_id: str
    clone: Path
    remote: str | None = None
    base: str | None = None


@dataclass(frozen=True, slots=True)
class ShippedChange:
    """What `alpha pr` did: the branch and commit pushed, the pull request (or the compare URL
    without a token), what was placed where and what could not be."""

    proposal_id: str
    principal: str
    repository: str
    branch: str
    commit: str
    url: str
    number: int | None
    placed: tuple[str, ...]
    unplaced: tuple[str, ...]
    already: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.proposal_id,
            "principal": self.principal,
            "repository": self.repository,
            "branch": self.branch,
            "commit": self.commit,
            "url": self.url,
            "number": self.number,
            "pull_request_opened": self.number is not None,
            "placed": list(self.placed),
            "unplaced": list(self.unplaced),
            "already_opened": self.already,
        }


@dataclass(frozen=True, slots=True)
class SyncOutcome:
    """One proposal's pull request as `sync` found it: `approved` (by `approver`), `waiting`
    (not merged yet), `refused` (merged or closed, and why it is no approval) or `decided`
    (the proposal is no longer waiting for approval)."""

    proposal_id: str
    pull_request: str
    url: str
    status: str
    detail: str
    approver: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.proposal_id,
            "pull_request": self.pull_request,
            "url": self.url,
            "status": self.status,
            "detail": self.detail,
            "approver": self.approver,
        }


@dataclass(frozen=True, slots=True)
class _Record:
    proposal_id: str
    repository: Repository
    number: int
    url: str
    commit: str

    @property
    def reference(self) -> str:
        return f"{self.repository.full_name}#{self.number}"


class PullRequests:
    """The use cases over an `Application`; the adapters come from app/backends.py unless a
    test gives its own."""

    def __init__(
        self,
        app: Application,
        *,
        requester: RequesterFactory | None = None,
        checkout: CheckoutFactory | None = None,
    ) -> None:
        self.app = app
        self._requester = requester or (lambda: open_change_requester(app.settings))
        self._checkout = checkout or open_checkout

    # alpha pr ID ---------------------------------------------------------------------------
    def open(self, request: PullRequestRequest) -> ShippedChange:
        proposal = self.app.proposal(request.proposal_id)
        with self.app.backends.open_store() as store:
            state = store.proposal_state(proposal.id)
            recorded = _records(store.audit(proposal.id))
        if state in _NOT_SHIPPED:
            raise AppError(f"proposal {proposal.short_id} is {state.value}: nothing to ship")
        if recorded:
            return self._already(proposal, recorded[-1])
        github = self.app.settings.github
        remote, base = request.remote or github.remote, request.base or github.base
        shipped = self._ship(proposal, request.clone, remote, base)
        self._record(shipped, base)
        return shipped

    def _ship(self, proposal: StoredProposal, clone: Path, remote: str, base: str) -> ShippedChange:
        """Write, commit and push the branch; open the pull request when there is a token."""
        branch = f"alpha/least-privilege-{proposal.short_id}"
        with self._checkout(clone, remote=remote, base=base, branch=branch) as checkout:
            placement = self._place(proposal, checkout, clone)
            for edit in placement.edits:
                checkout.write(edit.path, edit.after)
            commit = checkout.commit_and_push(commit_message(placement, proposal.document))
            repository, compare = checkout.repository, checkout.compare_url(base)
        title = pull_request_title(placement)
        body = pull_request_body(placement, proposal.document)
        with self._requester() as requester:
            draft = PullRequestDraft(repository, branch, base, title, body)
            pull = None if requester is None else requester.open_pull_request(draft)
        return ShippedChange(
            proposal.id,
            proposal.principal,
            repository.full_name,
            branch,
            commit,
            compare if pull is None else pull.url,
            None if pull is None else pull.number,
            placement.placed,
            tuple(u.describe() for u in placement.unplaced),
        )

    def _place(self, proposal: StoredProposal, checkout: Checkout, clone: Path) -> Placement:
        change = policy_change(proposal.id, proposal.principal, proposal.document, proposal.plan)
        files = checkout.files(TEMPLATE_SUFFIXES + tuple(_suffixes(self.app.settings.github.files)))
        placement = place(change, files, self.app.settings.github.files)
        if not placement.edits:
            reasons = "; ".join(u.describe() for u in placement.unplaced)
            raise AppError(f"{clone}: nothing to change for {proposal.principal} ({reasons})")
        return placement

    def _already(self, proposal: StoredProposal, record: _Record) -> ShippedChange:
        return ShippedChange(
            proposal.id,
            proposal.principal,
            record.repository.full_name,
            "",
            record.commit,
            record.url,
            record.number,
            (),
            (),
            already=True,
        )

    def _record(self, shipped: ShippedChange, base: str) -> None:
        details = shipped.to_dict() | {"base": base}
        with self.app.backends.open_store() as store:
            store.append_audit(
                at=self.app.backends.clock()(),
                proposal_id=shipped.proposal_id,
                actor=self.app.settings.user,
                action=OPENED if shipped.number is not None else PUSHED,
                reason=(
                    f"opened {shipped.repository}#{shipped.number}"
                    if shipped.number is not None
                    else f"pushed {shipped.branch}; no token to open the pull request"
                ),
                details=details,
            )

    # alpha pr sync [ID] ----------------------------------------------------------------------
    def sync(self, proposal_id: str | None = None) -> list[SyncOutcome]:
        """Every proposal with a pull request (or the one given), checked in turn."""
        with self.app.backends.open_store() as store:
            if proposal_id is not None:
                found = store.proposal(proposal_id) or store.find_proposal(proposal_id)
                proposals = [found]
            else:
                proposals = store.proposals()
            records = [r for p in proposals for r in _records(store.audit(p.id))[-1:]]
        if proposal_id is not None and not records:
            raise AppError(f"proposal {proposals[0].short_id} has no pull request (alpha pr)")
        return self._check(records)

    def sync_pull(self, repository: str, number: int) -> list[SyncOutcome]:
        """The proposal whose pull request is `owner/name#number` (what a webhook names)."""
        with self.app.backends.open_store() as store:
            records = [
                r
                for p in store.proposals()
                for r in _records(store.audit(p.id))[-1:]
                if r.repository.full_name == repository and r.number == number
            ]
        return self._check(records)

    def _check(self, records: list[_Record]) -> list[SyncOutcome]:
        if not records:
            return []
        with self._requester() as requester:
            if requester is None:
                raise AppError("reading pull requests needs GITHUB_TOKEN")
            return [self._check_one(requester, record) for record in records]

    def _check_one(self, requester: ChangeRequester, record: _Record) -> SyncOutcome:
        def outcome(status: str, detail: str, approver: str | None = None) -> SyncOutcome:
            return SyncOutcome(
                record.proposal_id, record.reference, record.url, status, detail, approver
            )

        with self.app.backends.open_store() as store:
            state = store.proposal_state(record.proposal_id)
        if state is not ProposalState.PROPOSED:
            return outcome("decided", f"the proposal is {state.value}")
        pull = requester.pull_request(record.repository, record.number)
        reviews = requester.reviews(record.repository, record.number) if pull.merged else ()
        verdict = merged_approval(pull, reviews, record.commit, self.app.settings.github.users)
        if not isinstance(verdict, Approver):
            if not verdict.final:
                return outcome("waiting", verdict.reason)
            self._refused(record, verdict.reason)
            return outcome("refused", verdict.reason)
        comment = (
            f"GitHub {record.reference}: merged with the approving review of @{verdict.login} "
            f"on {record.commit[:12]}"
        )
        try:
            decision = self.app.approve(record.proposal_id, verdict.name, comment)
        except AlphaError as exc:
            reason = f"@{verdict.login} ({verdict.name}) cannot approve: {exc}"
            self._refused(record, reason)
            return outcome("refused", reason)
        return outcome("approved", comment, decision.by)

    def _refused(self, record: _Record, reason: str) -> None:
        """Audited once per reason: a sync run again says it again without a new event."""
        with self.app.backends.open_store() as store:
            said = {e.reason for e in store.audit(record.proposal_id) if e.action == REFUSED}
            if reason in said:
                return
            store.append_audit(
                at=self.app.backends.clock()(),
                proposal_id=record.proposal_id,
                actor=self.app.settings.user,
                action=REFUSED,
                reason=reason,
                details={"repository": record.repository.full_name, "number": record.number},
            )


def _records(events: list[AuditEvent]) -> list[_Record]:
    return list(_parse(events))


def _parse(events: list[AuditEvent]) -> Iterator[_Record]:
    for event in events:
        details = event.details
        if event.action != OPENED or event.proposal_id is None:
            continue
        owner, _, name = str(details.get("repository", "")).partition("/")
        yield _Record(
            event.proposal_id,
            Repository(owner, name),
            int(details["number"]),
            str(details.get("url", "")),
            str(details.get("commit", "")),
        )


def _suffixes(files: dict[str, str]) -> Iterator[str]:
    """Mapped policy files are read whatever their name ends with."""
    for path in files.values():
        yield Path(path).name
