"""What the pull request and its commit say."""

from __future__ import annotations

import json

from alpha.iac.model import FileEdit, Placement, Unplaced
from alpha.iac.pr_text import MAX_DIFF, commit_message, pull_request_body, pull_request_title
from tests.iac.helpers import NEW_POLICY, change, step

DOCUMENT = {
    "rationale": "Kept the 2 used actions. " * 10,
    "diff": {"privilege_reduction": 0.9876},
    "risk_signal": {"probability_of_break": 0.18, "rationale": "Observed 12 calls."},
    "guardrail_violations": [
        {"code": "WILDCARD_ACTION", "severity": "high", "blocks": True, "message": "s3:*"}
    ],
    "blocked": True,
}


def placement(edits: tuple[FileEdit, ...] = (), *unplaced: Unplaced) -> Placement:
    proposal = change("orders-api", step("delete", "orders-api-access"))
    return Placement(proposal, edits, ("t.yaml: rewritten",), unplaced)


def test_the_body_has_the_id_risk_findings_changes_and_diff() -> None:
    edit = FileEdit("t.yaml", "a: 1\n", "a: 2\n")
    body = pull_request_body(placement((edit,)), DOCUMENT)
    assert f"**Proposal:** `{'ab' * 32}`" in body
    assert "**Privilege reduction:** 99%" in body
    assert "**Risk of breaking:** 18%" in body
    assert "Observed 12 calls." in body
    assert "**WILDCARD_ACTION** (high, blocks approval): s3:*" in body
    assert "- t.yaml: rewritten" in body
    assert "```diff\n--- a/t.yaml\n+++ b/t.yaml\n@@ -1 +1 @@\n-a: 1\n+a: 2\n```" in body
    assert "Could not be placed" not in body
    assert "> **Blocked by guardrails:** merging this pull request will not approve" in body
    assert pull_request_title(placement()) == f"Least privilege for orders-api (alpha {'ab' * 6})"


def test_what_could_not_be_placed_is_said_with_the_policy() -> None:
    body = pull_request_body(placement((), Unplaced("detach X", "not attached here")), {})
    assert "- detach X: not attached here" in body
    policy = body.split("```json\n")[1].split("\n```")[0]
    assert json.loads(policy) == NEW_POLICY


def test_a_long_diff_is_cut_to_fit_github_s_limit() -> None:
    edit = FileEdit("big.json", "", "x\n" * 50_000)
    body = pull_request_body(placement((edit,)), DOCUMENT)
    assert len(body) < 65_536
    assert "(cut: see the pull request's files)" in body
    assert MAX_DIFF < 65_536


def test_the_commit_carries_the_rationale_and_the_id() -> None:
    message = commit_message(placement(), DOCUMENT)
    subject, _, rest = message.partition("\n\n")
    assert subject == f"alpha: least privilege for orders-api ({'ab' * 6})"
    rationale = rest.split("\n\n")[0]
    assert all(len(line) <= 72 for line in rationale.splitlines())
    assert "Kept the 2 used actions." in rest
    assert f"Proposal: {'ab' * 32}" in rest
