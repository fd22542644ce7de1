"""The pull-request use cases over `MemoryBackends`, the shared fake `ChangeRequester` and real
git: a merged pull request stands as the approval only through `Application.approve` (bound
to the content, separation of duties, guardrails, audited), and only with a valid review;
the webhook does the same for the pull request it names, once its signature is right."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest

from alpha.app import AppError, Application, GenerateRequest, Settings
from alpha.app.github_settings import GithubSettings
from alpha.app.github_webhook import handle_github_webhook, signature_of
from alpha.app.pull_requests import OPENED, REFUSED, PullRequestRequest, PullRequests
from alpha.demo.sample import ROLLOUT_AT
from alpha.iac.ports import ChangeRequester, ReviewState
from alpha.store.model import ProposalState
from tests.adapters.github.repos import SHOP, Remote, make_remote
from tests.app.conftest import ACCOUNT, LOGS, PROPOSER
from tests.fakes.change_requester import FakeChangeRequester
from tests.fakes.memory_backends import MemoryBackends
from tests.fakes.memory_usage_source import MemoryUsageSource
from tests.iac.helpers import DATA

SECRET = "webhook-secret-of-the-test"
USERS = {"dana-ops": "dana", "sam-reviews": "sam", "dana-alt": "dana", "lee-gh": "lee"}


@dataclass
class Shop:
    app: Application
    pulls: PullRequests
    host: FakeChangeRequester
    remote: Remote
    ids: dict[str, str]

    def ship(self, name: str) -> int:
        request = PullRequestRequest(self.ids[name], self.remote.clone)
        shipped = self.pulls.open(request)
        assert shipped.number is not None
        return shipped.number


@pytest.fixture(scope="module")
def proposed(
    sample: tuple[dict[str, Any], dict[str, Any]],
) -> tuple[MemoryBackends, dict[str, str]]:
    """The sample proposed once for the module; each test works on a copy."""
    account, logs = sample
    backends = MemoryBackends(ROLLOUT_AT)
    backends.add_account(ACCOUNT, account)
    source = backends.sources[LOGS] = MemoryUsageSource(LOGS)
    for key, records in logs.items():
        source.put(key, records)
    settings = Settings(store=Path("unused.db"), usage_store=Path("unused"), user=PROPOSER)
    found = Application(settings, backends).propose(GenerateRequest(ACCOUNT, (LOGS,))).proposed
    return backends, {p.principal.rpartition("/")[2]: p.id for p in found}


@pytest.fixture
def shop(proposed: tuple[MemoryBackends, dict[str, str]], tmp_path: Path) -> Shop:
    backends, ids = copy.deepcopy(proposed)
    github = GithubSettings(users=USERS, webhook_secret=SECRET, token="t")
    settings = Settings(store=tmp_path / "unused.db", usage_store=tmp_path / "u", user=PROPOSER)
    app = Application(replace(settings, github=github), backends)
    template = (DATA / "cloudformation" / "shop.yaml").read_text()
    deployer = 'resource "aws_iam_role" "ci" {\n  name = "ci-deployer"\n}\n'
    remote = make_remote(tmp_path, {"shop.yaml": template, "ci.tf": deployer})
    host = FakeChangeRequester(author="dana-ops", heads=remote.heads)

    @contextmanager
    def requester() -> Iterator[ChangeRequester | None]:
        yield host

    return Shop(app, PullRequests(app, requester=requester), host, remote, ids)


def test_the_pull_request_is_recorded_in_the_audit_log(shop: Shop) -> None:
    number = shop.ship("orders-api")
    with shop.app.backends.open_store() as store:
        [event] = [e for e in store.audit(shop.ids["orders-api"]) if e.action == OPENED]
    assert event.actor == PROPOSER
    assert event.details["repository"] == "shop/infra"
    assert event.details["number"] == number
    assert event.details["commit"] == shop.host.pull_request(SHOP, number).head_sha
    assert event.details["base"] == "main"


@pytest.mark.parametrize(
    ("reviews", "expected"),
    [
        ([("dana-alt", ReviewState.APPROVED)], "cannot approve"),  # maps to the proposer
        (
            [("lee-gh", ReviewState.CHANGES_REQUESTED), ("sam-reviews", ReviewState.APPROVED)],
            "changes requested by lee-gh",
        ),
        ([("octocat", ReviewState.APPROVED)], "octocat is not mapped to an approver"),
        ([("dana-ops", ReviewState.APPROVED)], "dana-ops is the pull request's author"),
        ([], "no approving review"),
    ],
    ids=["separation-of-duties", "changes-requested", "unmapped", "author", "no-review"],
)
def test_a_merge_without_a_valid_approval_approves_nothing(
    shop: Shop, reviews: list[tuple[str, ReviewState]], expected: str
) -> None:
    proposal = shop.ids["orders-api"]
    number = shop.ship("orders-api")
    for reviewer, state in reviews:
        shop.host.review(SHOP, number, reviewer, state)
    shop.host.merge(SHOP, number)
    for _ in range(2):
        [outcome] = shop.pulls.sync(proposal[:12])
        assert outcome.status == "refused"
        assert expected in outcome.detail
    with shop.app.backends.open_store() as store:
        assert store.proposal_state(proposal) is ProposalState.PROPOSED
        refusals = [e for e in store.audit(proposal) if e.action == REFUSED]
    assert len(refusals) == 1  # said once, however often sync runs


def test_a_commit_pushed_after_alpha_s_is_not_the_proposal(shop: Shop) -> None:
    number = shop.ship("orders-api")
    pushed = shop.host.pull_request(SHOP, number).head_sha
    shop.host.review(SHOP, number, "sam-reviews", ReviewState.APPROVED)
    shop.host.push(SHOP, number, "e" * 40)
    shop.host.merge(SHOP, number)
    [outcome] = shop.pulls.sync()
    assert outcome.status == "refused"
    assert f"is not the commit alpha pushed ({pushed[:12]})" in outcome.detail


def test_an_approval_of_an_older_commit_does_not_count(shop: Shop) -> None:
    number = shop.ship("orders-api")
    shop.host.review(SHOP, number, "sam-reviews", ReviewState.APPROVED, commit="d" * 40)
    shop.host.merge(SHOP, number)
    [outcome] = shop.pulls.sync()
    assert "approved dddddddddddd, not the commit alpha pushed" in outcome.detail


def test_guardrails_still_block_an_approval_from_github(shop: Shop) -> None:
    """ci-deployer's proposal keeps an admin grant: no review makes it approvable."""
    number = shop.ship("ci-deployer")
    shop.host.review(SHOP, number, "sam-reviews", ReviewState.APPROVED)
    shop.host.merge(SHOP, number)
    [outcome] = shop.pulls.sync()
    assert outcome.status == "refused"
    assert "@sam-reviews (sam) cannot approve" in outcome.detail
    assert "guardrail" in outcome.detail.lower()


def test_open_closed_and_approved(shop: Shop) -> None:
    number = shop.ship("orders-api")
    assert [o.status for o in shop.pulls.sync()] == ["waiting"]
    shop.host.review(SHOP, number, "sam-reviews", ReviewState.APPROVED)
    shop.host.merge(SHOP, number, by="sam-reviews")
    [approved] = shop.pulls.sync()
    assert (approved.status, approved.approver) == ("approved", "sam")
    with shop.app.backends.open_store() as store:
        latest = store.latest_approval(shop.ids["orders-api"])
    assert latest is not None
    assert (latest.approver, latest.approved, latest.proposal_hash) == (
        "sam",
        True,
        shop.ids["orders-api"],
    )
    assert latest.comments.startswith(f"GitHub shop/infra#{number}: merged")
    deployer = shop.ship("ci-deployer")
    shop.host.close(SHOP, deployer)
    outcomes = {o.proposal_id: o for o in shop.pulls.sync()}
    assert outcomes[shop.ids["ci-deployer"]].detail.endswith("was closed without merging")
    assert outcomes[shop.ids["orders-api"]].status == "decided"


def test_sync_of_a_proposal_without_a_pull_request_is_said(shop: Shop) -> None:
    with pytest.raises(AppError, match="no pull request"):
        shop.pulls.sync(shop.ids["orders-api"][:12])


def webhook(shop: Shop, event: str, payload: object, secret: str = SECRET) -> tuple[int, str]:
    body = json.dumps(payload).encode()
    headers = {"X-GitHub-Event": event, "X-Hub-Signature-256": signature_of(secret, body)}
    reply = handle_github_webhook(shop.pulls, headers, body)
    return reply.status, reply.message


def test_the_webhook_approves_what_sync_would(shop: Shop) -> None:
    number = shop.ship("orders-api")
    event = {
        "action": "closed",
        "repository": {"full_name": "shop/infra"},
        "pull_request": {"number": number},
    }
    assert webhook(shop, "pull_request", event)[0] == 200  # open: waiting
    shop.host.review(SHOP, number, "sam-reviews", ReviewState.APPROVED)
    shop.host.merge(SHOP, number)
    status, message = webhook(shop, "pull_request_review", event)
    assert status == 200
    assert "approved" in message
    with shop.app.backends.open_store() as store:
        assert store.proposal_state(shop.ids["orders-api"]) is ProposalState.APPROVED


@pytest.mark.parametrize(
    ("event", "payload", "secret", "status"),
    [
        ("pull_request", {}, "not-the-secret", 401),
        ("ping", {"zen": "hi"}, SECRET, 200),
        ("push", {}, SECRET, 202),
        ("pull_request", {"repository": {}}, SECRET, 400),
        (
            "pull_request",
            {"repository": {"full_name": "shop/infra"}, "pull_request": {"number": 99}},
            SECRET,
            202,
        ),
    ],
    ids=["forged", "ping", "other-event", "bad-payload", "not-ours"],
)
def test_the_webhook_refuses_or_ignores_the_rest(
    shop: Shop, event: str, payload: object, secret: str, status: int
) -> None:
    assert webhook(shop, event, payload, secret)[0] == status
    with shop.app.backends.open_store() as store:
        assert all(e.action != "approve" for e in store.audit(None))


def test_the_webhook_needs_a_secret(shop: Shop) -> None:
    github = replace(shop.app.settings.github, webhook_secret=None)
    app = Application(replace(shop.app.settings, github=github), shop.app.backends)
    reply = handle_github_webhook(PullRequests(app), {}, b"{}")
    assert reply.status == 503
