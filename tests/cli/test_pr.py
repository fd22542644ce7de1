"""The GitHub loop through the CLI, on real git (a bare repository as GitHub's copy) and the
local fake of GitHub's REST API: propose from the demo sample, `alpha pr` writes the proposal
into the CloudFormation template and opens the pull request, a reviewer approves and it is
merged, `alpha pr sync` makes that the proposal's approval by the reviewer. The pull request's
author cannot approve."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from alpha.demo.sample import ROLLOUT_AT, write_sample
from alpha.iac.ports import ReviewState
from tests.adapters.github.repos import SHOP, Remote, make_remote
from tests.cli.workflow_helpers import alpha
from tests.fakes.change_requester import FakeChangeRequester
from tests.fakes.github_rest import FakeGitHub, running_github
from tests.iac.helpers import DATA

TEMPLATE = "stacks/shop.yaml"
DEPLOYER = """# The CI deployer: Terraform, not CloudFormation.
resource "aws_iam_role" "ci_deployer" {
  name               = "ci-deployer"
  assume_role_policy = data.aws_iam_policy_document.codebuild_trust.json
}

resource "aws_iam_role_policy_attachment" "ci_admin" {
  role       = aws_iam_role.ci_deployer.name
  policy_arn = "arn:aws:iam::aws:policy/AdministratorAccess"
}
"""
USERS = "dana-ops=dana,sam-reviews=sam"


def at(hours: int, minutes: int = 0) -> str:
    return (ROLLOUT_AT + timedelta(hours=hours, minutes=minutes)).isoformat()


@dataclass
class World:
    remote: Remote
    github: FakeGitHub
    ids: dict[str, str]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    folder = tmp_path_factory.mktemp("pr")
    paths = write_sample(folder)
    template = (DATA / "cloudformation" / "shop.yaml").read_text()
    files = {TEMPLATE: template, "deploy/ci.tf": DEPLOYER, "README.md": "# shop infra\n"}
    remote = make_remote(folder / "git", files)
    host = FakeChangeRequester(author="dana-ops", heads=remote.heads)
    with pytest.MonkeyPatch.context() as patch, running_github(host) as github:
        patch.chdir(folder)
        for name in ("ALPHA_STORE", "ALPHA_CONFIG", "ALPHA_LOGS", "ALPHA_USER"):
            patch.delenv(name, raising=False)
        patch.setenv("ALPHA_STORE_REPLAY", "true")
        patch.setenv("GITHUB_TOKEN", github.token)
        patch.setenv("ALPHA_GITHUB_API_URL", github.url)
        patch.setenv("ALPHA_GITHUB_USERS", USERS)
        proposed = alpha(
            "propose", "--all", "--usage", "cloudtrail", "--account", paths.account.name,
            "--by", "dana", "--now", at(-3), "--format", "json",
        )  # fmt: skip
        assert proposed.code in (0, 1), proposed.err
        ids = {p["principal"].rpartition("/")[2]: p["id"] for p in proposed.json()["proposals"]}
        yield World(remote, github, ids)


def state_of(proposal_id: str) -> str:
    listed = alpha("proposals", "list", "--format", "json").json()
    return str(next(row["state"] for row in listed if row["id"] == proposal_id))


def test_a_merged_approved_pull_request_approves_the_proposal(world: World) -> None:
    orders = world.ids["orders-api"]
    opened = alpha("pr", orders[:12], "--repo", str(world.remote.clone), "--now", at(-2))
    assert opened.code == 0, opened.err
    assert "opened pull request #1: https://github.com/shop/infra/pull/1" in opened.out
    assert "orders-api-access rewritten as alpha-least-privilege" in opened.out

    # The fake GitHub has the pull request, from the branch pushed to the bare remote.
    [pull] = world.github.host.pulls()
    branch = f"alpha/least-privilege-{orders[:12]}"
    assert (pull.head, pull.base, pull.head_sha) == (branch, "main", world.remote.head(branch))
    title, body = world.github.host.body(SHOP, 1)
    assert orders[:12] in title
    assert f"**Proposal:** `{orders}`" in body
    assert "Risk of breaking:" in body
    assert "### Guardrail findings" in body
    assert "+        - PolicyName: alpha-least-privilege" in body
    template = YAML(typ="rt").load(world.remote.show(branch, TEMPLATE))
    policies = template["Resources"]["OrdersApiRole"]["Properties"]["Policies"]
    assert policies[0]["PolicyName"] == "alpha-least-privilege"
    assert "Proposal: " + orders in world.remote.log(branch)

    waiting = alpha("pr", "sync", orders[:12], "--now", at(-2, 5), "--format", "json")
    assert [o["status"] for o in waiting.json()] == ["waiting"]

    world.github.host.review(SHOP, 1, "sam-reviews", ReviewState.APPROVED)
    world.github.host.merge(SHOP, 1, by="sam-reviews")
    synced = alpha("pr", "sync", "--now", at(-2, 10))
    assert synced.code == 0, synced.err
    assert "approved" in synced.out
    assert state_of(orders) == "approved"
    shown = alpha("proposals", "show", orders[:12], "--format", "json").json()
    approvals = [e for e in shown["audit"] if e["action"] == "approve"]
    assert [(e["actor"], e["reason"].startswith("GitHub shop/infra#1")) for e in approvals] == [
        ("sam", True)
    ]
    # Run again: nothing changes, and alpha pr says the pull request is already open.
    again = alpha("pr", "sync", orders[:12], "--now", at(-2, 15), "--format", "json")
    assert [o["status"] for o in again.json()] == ["decided"]
    reopened = alpha("pr", orders[:12], "--repo", str(world.remote.clone), "--now", at(-2, 20))
    assert "already opened: https://github.com/shop/infra/pull/1" in reopened.out


def test_the_author_of_the_pull_request_cannot_approve(world: World) -> None:
    builder = world.ids["report-builder"]
    opened = alpha(
        "pr", builder[:12], "--repo", str(world.remote.clone), "--now", at(-1), "--format", "json"
    )
    assert opened.code == 0, opened.err
    number = opened.json()["number"]
    world.github.host.review(SHOP, number, "dana-ops", ReviewState.APPROVED)
    world.github.host.merge(SHOP, number, by="dana-ops")
    synced = alpha("pr", "sync", builder[:12], "--now", at(-1, 5), "--format", "json")
    [outcome] = synced.json()
    assert outcome["status"] == "refused"
    assert "dana-ops is the pull request's author, who cannot approve" in outcome["detail"]
    assert state_of(builder) == "proposed"


def test_without_a_token_the_compare_url_is_printed(
    world: World, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("GITHUB_TOKEN")
    deployer = world.ids["ci-deployer"]
    refused = alpha("pr", deployer[:12], "--repo", str(tmp_path), "--now", at(0))
    assert refused.code == 2
    assert refused.err.startswith("alpha: error: ")
    assert "not a git clone" in refused.err
    ran = alpha("pr", deployer[:12], "--repo", str(world.remote.clone), "--now", at(0, 5))
    branch = f"alpha/least-privilege-{deployer[:12]}"
    expected = f"https://github.com/shop/infra/compare/main...{branch}?expand=1"
    assert f"no GITHUB_TOKEN: open the pull request at {expected}" in ran.out
    # The role's inline policy is not in the repository: said, exit 1; the rest is placed.
    assert ran.code == 1, ran.err
    assert "could not place delete inline policy ci-deployer-access" in ran.out
    tf = world.remote.show(branch, "deploy/ci.tf")
    assert "AdministratorAccess" not in tf
    assert 'resource "aws_iam_role_policy" "ci_deployer_alpha_least_privilege" {' in tf
    assert tf.startswith(DEPLOYER.split('resource "aws_iam_role_policy_attachment"', maxsplit=1)[0])
    assert len(world.github.host.pulls()) == 2  # none opened without a token


def test_sync_of_a_proposal_without_a_pull_request_is_one_line(world: World) -> None:
    ran = alpha("pr", "sync", "abcdef123456")
    assert ran.code == 2
    assert ran.err.startswith("alpha: error: no proposal has an id starting with")
