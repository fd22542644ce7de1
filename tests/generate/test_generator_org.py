"""Proposals under the organization's SCP/RCP levels (AWS's example SCPs at root, OU and
account): proof on identity policies, replay with org denials apart, levels recorded, grants
the SCPs deny kept and said so, reasoning naming removed access the SCPs already block."""

from __future__ import annotations

import pytest

from alpha.catalog import load_catalog
from alpha.generate import ProposalGenerator, UsageContext
from alpha.generate.model import PolicyProposal
from alpha.generate.org_replay import EXACT_DENIALS, NOT_A_BREAKAGE
from alpha.generate.scoping import common_pattern
from alpha.guardrails import parse_config
from alpha.policy.compare import NoNewAccess, no_new_access
from alpha.policy.org_policies import OrgGuardrails
from alpha.policy.org_record import recorded_guardrails
from alpha.usage.aggregate import UsageRow
from tests.generate.factories import ALLOW_ALL, ROLE, T0, T1, row, single_role
from tests.policy.org_examples import prod_guardrails

__all__ = ["REGIONS", "propose"]

CONTEXT = UsageContext((T0, T1), events=100, principals=1, data_events_logged=True)
REGIONS = "SCP 'DenyRegions' (p-denyregi) at OU 'Prod' (ou-ab12-prod0001)"
ROWS = [
    row("s3:GetObject", "arn:aws:s3:::reports/a.csv", 5, regions=("eu-west-1",)),
    # made in us-east-1 before the region SCP was attached to Prod
    row("ec2:DescribeInstances", "*", 2, regions=("us-east-1",)),
    # no region in the logs: the region SCP cannot be judged, so nothing is claimed
    row("sqs:SendMessage", "arn:aws:sqs:eu-west-1:111122223333:jobs", 3),
]


def propose(org: OrgGuardrails, rows: list[UsageRow] = ROWS) -> PolicyProposal:
    generator = ProposalGenerator(
        load_catalog(), single_role(ALLOW_ALL), parse_config("", "t.toml", {}), org=org
    )
    return generator.propose(ROLE, rows, CONTEXT)


def test_the_replay_counts_org_denials_apart_from_breakage() -> None:
    proposal = propose(prod_guardrails())
    replay = proposal.replay
    assert replay.observed == replay.allowed == 3  # the proposal breaks nothing
    (denied,) = replay.denied_by_org
    assert (denied.action, denied.count) == ("ec2:DescribeInstances", 2)
    assert denied.reason == f"denied by {REGIONS}: {NOT_A_BREAKAGE}"
    assert replay.to_dict()["denied_by_org"][0]["reason"] == denied.reason


def test_grants_the_scps_deny_today_are_kept_and_the_proposal_says_so() -> None:
    plain, under = propose(OrgGuardrails()), propose(prod_guardrails())
    assert under.proposed_policy == plain.proposed_policy
    assert any(
        "ec2:DescribeInstances" in s.action.patterns for s in under.proposed_policy.statements
    )
    assert any("deny today (replay.denied_by_org)" in note for note in under.notes)
    assert not any("denied_by_org" in note for note in plain.notes)


def test_the_proof_holds_on_identity_policies_so_on_effective_access_too() -> None:
    proposal = propose(prod_guardrails())
    existing = single_role(ALLOW_ALL).effective_policies(ROLE).documents
    assert no_new_access(existing, [proposal.proposed_policy], load_catalog()) == NoNewAccess()


def test_the_proposal_records_its_levels() -> None:
    document = propose(prod_guardrails()).to_dict()
    assert recorded_guardrails(document) == prod_guardrails()
    assert "organization" not in propose(OrgGuardrails()).to_dict()
    # the management account's proposals are made under no levels
    assert "organization" not in propose(prod_guardrails(management=True)).to_dict()


def test_the_reasoning_names_removed_access_the_organization_blocks() -> None:
    rationale = propose(prod_guardrails()).reasoning.rationale
    assert "The organization's policies deny 2 of the removed actions anyway" in rationale
    assert (
        "organizations:LeaveOrganization (denied by SCP 'DenyLeaveOrganization' (p-denyleav) "
        "at the root (r-ab12)); s3:DeleteBucket (denied by RCP 'DenyBucketDeletion' "
        "(p-denybuck) at account 'prod' (222222222222))" in rationale
    )
    assert "deny anyway" not in propose(OrgGuardrails()).reasoning.rationale


def test_many_denied_resources_of_one_action_are_one_entry_counting_every_call() -> None:
    """A region SCP denies every object a role read there: past `EXACT_DENIALS` resources per
    action and reason, one entry on their common prefix, with every call counted, so a
    proposal does not repeat the same reason for each of thousands of objects."""
    objects = [
        row("s3:GetObject", f"arn:aws:s3:::reports/2024/{n:03d}.csv", 2, regions=("us-east-1",))
        for n in range(EXACT_DENIALS + 1)
    ]
    few = propose(prod_guardrails(), [*objects[:EXACT_DENIALS], ROWS[1]])
    assert len(few.replay.denied_by_org) == EXACT_DENIALS + 1  # each listed
    proposal = propose(prod_guardrails(), [*objects, ROWS[1]])
    replay = proposal.replay
    assert replay.observed == replay.allowed == EXACT_DENIALS + 2
    folded, single = sorted(replay.denied_by_org, key=lambda c: c.action, reverse=True)
    assert (folded.action, folded.resource) == ("s3:GetObject", "arn:aws:s3:::reports/2024/*")
    assert folded.count == 2 * (EXACT_DENIALS + 1)
    assert folded.reason.endswith(f"{NOT_A_BREAKAGE} ({EXACT_DENIALS + 1} resources)")
    assert (single.action, single.count) == ("ec2:DescribeInstances", 2)
    # the note still counts every distinct call the organisation denies
    assert any(f"for {EXACT_DENIALS + 2} observed call(s)" in n for n in proposal.notes)


@pytest.mark.parametrize(
    ("resources", "pattern"),
    [
        (["arn:aws:s3:::b/k1", "arn:aws:s3:::b/k2"], "arn:aws:s3:::b/*"),
        (["arn:aws:s3:::b/k1", "arn:aws:s3:::b/k1"], "arn:aws:s3:::b/k1"),
        (["arn:aws:s3:::a/x", "arn:aws:sqs:eu-west-1:1:q"], "arn:aws:*"),
        (["*", "arn:aws:s3:::b/k"], "*"),
    ],
)
def test_the_common_pattern_is_cut_at_a_separator(resources: list[str], pattern: str) -> None:
    assert common_pattern(resources) == pattern
