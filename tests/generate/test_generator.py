"""Proposals for one principal: scoping, kept conditions, inferences, plan, quota, guardrails."""

from __future__ import annotations

from typing import Any

import pytest

from alpha.catalog import load_catalog
from alpha.generate import GenerateError, GenerationSettings, ProposalGenerator, UsageContext
from alpha.generate.model import PolicyProposal
from alpha.guardrails import parse_config
from alpha.policy.compare import NoNewAccess, no_new_access
from alpha.policy.evaluate import PolicySet, Request, compile_policy_set
from alpha.policy.model import ResourceList, Statement
from alpha.usage.aggregate import UsageRow
from tests.generate.factories import (
    ACCOUNT,
    ALLOW_ALL,
    ROLE,
    T0,
    T1,
    managed,
    role,
    row,
    single_role,
    snapshot,
)

CONTEXT = UsageContext((T0, T1), events=100, principals=1, data_events_logged=True)


def propose(
    snap: Any, rows: list[UsageRow], guardrails: str = "", **settings: Any
) -> PolicyProposal:
    generator = ProposalGenerator(
        load_catalog(),
        snap,
        parse_config(guardrails, "test.toml", {}),
        settings=GenerationSettings(**settings),
    )
    return generator.propose(ROLE, rows, CONTEXT)


def allows(proposal: PolicyProposal, action: str, resource: str, **context: str) -> bool:
    evaluator = compile_policy_set(PolicySet(identity=(proposal.proposed_policy,)))
    ctx = {k.replace("_", ":", 1): (v,) for k, v in context.items()}
    return evaluator.evaluate(Request(action, resource, ctx)).allowed


def statement_for(proposal: PolicyProposal, action: str) -> Statement:
    return next(s for s in proposal.proposed_policy.statements if action in s.action.patterns)


def resources_of(statement: Statement) -> tuple[str, ...]:
    assert isinstance(statement.resource, ResourceList)
    return statement.resource.patterns


def test_few_objects_stay_exact_and_the_proposal_is_proven_and_replayed() -> None:
    rows = [row("s3:GetObject", f"arn:aws:s3:::reports/2026/{i}.csv") for i in range(3)]
    proposal = propose(single_role(ALLOW_ALL), rows)
    s3 = statement_for(proposal, "s3:GetObject")
    assert s3.resource is not None
    assert s3.resource.patterns == tuple(f"arn:aws:s3:::reports/2026/{i}.csv" for i in range(3))
    assert s3.sid == "S3ReadReports"
    assert proposal.replay.observed == proposal.replay.allowed == 3
    assert not allows(proposal, "s3:GetObject", "arn:aws:s3:::reports/other.csv")
    existing = single_role(ALLOW_ALL).effective_policies(ROLE).documents
    assert no_new_access(existing, [proposal.proposed_policy], load_catalog()) == NoNewAccess()


def test_many_objects_become_the_tightest_prefix_never_above_the_bucket() -> None:
    rows = [
        row("s3:GetObject", f"arn:aws:s3:::data-lake/raw/{y}/{m:02d}/part-{i}.parquet")
        for y in (2025, 2026)
        for m in range(1, 13)
        for i in range(2)
    ]
    proposal = propose(single_role(ALLOW_ALL), rows, max_exact_resources=5)
    resource = statement_for(proposal, "s3:GetObject").resource
    assert resource is not None
    assert resource.patterns == (
        "arn:aws:s3:::data-lake/raw/2025/*",
        "arn:aws:s3:::data-lake/raw/2026/*",
    )
    assert proposal.replay.allowed == len(rows)


def test_a_prefix_the_existing_grant_does_not_cover_falls_back_to_exact_arns() -> None:
    keys = [f"arn:aws:s3:::b/in/{i}" for i in range(8)]
    existing = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": keys}
    proposal = propose(single_role(existing), [row("s3:GetObject", k) for k in keys])
    resource = statement_for(proposal, "s3:GetObject").resource
    assert resource is not None
    assert resource.patterns == tuple(sorted(keys))


def test_actions_without_resources_get_star_and_unknown_resources_today_s_patterns() -> None:
    existing = [
        {"Effect": "Allow", "Action": "ec2:DescribeInstances", "Resource": "*"},
        {"Effect": "Allow", "Action": "sqs:*", "Resource": "arn:aws:sqs:eu-west-1:*:jobs-*"},
    ]
    rows = [row("ec2:DescribeInstances", "*"), row("sqs:SendMessage", "*")]
    proposal = propose(single_role(*existing), rows)
    assert resources_of(statement_for(proposal, "ec2:DescribeInstances")) == ("*",)
    sqs = statement_for(proposal, "sqs:SendMessage")
    assert resources_of(sqs) == ("arn:aws:sqs:eu-west-1:*:jobs-*",)
    assert proposal.replay.allowed == 2


def test_region_and_source_ip_conditions_of_the_existing_grant_are_kept() -> None:
    existing = {
        "Effect": "Allow",
        "Action": "s3:*",
        "Resource": "*",
        "Condition": {
            "StringEquals": {"aws:RequestedRegion": "eu-west-1"},
            "IpAddress": {"aws:SourceIp": "10.0.0.0/8"},
        },
    }
    rows = [row("s3:GetObject", "arn:aws:s3:::b/k", regions=("eu-west-1",))]
    proposal = propose(single_role(existing), rows)
    kept = {(c.key, c.values) for c in statement_for(proposal, "s3:GetObject").conditions}
    assert kept == {("aws:RequestedRegion", ("eu-west-1",)), ("aws:SourceIp", ("10.0.0.0/8",))}
    assert proposal.replay.allowed == 1


def test_a_conditional_deny_is_copied_into_the_proposal() -> None:
    deny = {
        "Sid": "OnlyEu",
        "Effect": "Deny",
        "NotAction": "iam:*",
        "Resource": "*",
        "Condition": {"StringNotEquals": {"aws:RequestedRegion": "eu-west-1"}},
    }
    proposal = propose(single_role(ALLOW_ALL, deny), [row("sqs:SendMessage", "*")])
    assert proposal.proposed_policy.statements[-1].sid == "OnlyEu"
    assert not allows(proposal, "sqs:SendMessage", "*", aws_RequestedRegion="us-east-1")


def test_calls_no_identity_policy_allows_are_listed_not_granted() -> None:
    existing = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}
    proposal = propose(
        single_role(existing),
        [row("s3:GetObject", "arn:aws:s3:::b/k"), row("sqs:SendMessage", "*")],
    )
    assert [c.action for c in proposal.replay.not_granted_today] == ["sqs:SendMessage"]
    assert proposal.replay.observed == proposal.replay.allowed == 1


@pytest.mark.parametrize(
    ("calls", "existing", "action", "resource", "condition_key"),
    [
        (
            [("s3:GetObject", "arn:aws:s3:::b/k")],
            [ALLOW_ALL],
            "s3:ListBucket",
            "arn:aws:s3:::b",
            None,
        ),
        (
            [("sqs:ReceiveMessage", "arn:aws:sqs:eu-west-1:111122223333:q")],
            [ALLOW_ALL],
            "kms:Decrypt",
            "arn:aws:kms:eu-west-1:111122223333:key/*",
            "kms:ViaService",
        ),
        (
            [("ec2:CreateVolume", "arn:aws:ec2:eu-west-1:111122223333:volume/*")],
            [ALLOW_ALL],
            "ec2:CreateTags",
            "arn:aws:ec2:eu-west-1:111122223333:*/*",
            "ec2:CreateAction",
        ),
    ],
)
def test_each_inferred_kind_is_added_marked_and_within_today(
    calls: list[tuple[str, str]],
    existing: list[dict[str, Any]],
    action: str,
    resource: str,
    condition_key: str | None,
) -> None:
    proposal = propose(single_role(*existing), [row(a, r) for a, r in calls])
    inferred = [i for i in proposal.inferred if i.action == action]
    assert [i.resource for i in inferred] == [resource]
    assert inferred[0].reason
    statement = statement_for(proposal, action)
    assert statement.sid is not None
    assert statement.sid.startswith("Inferred")
    assert [c.key for c in statement.conditions] == ([condition_key] if condition_key else [])


def test_kms_is_not_inferred_when_today_grants_no_kms() -> None:
    existing = {"Effect": "Allow", "Action": "sqs:*", "Resource": "*"}
    proposal = propose(
        single_role(existing), [row("sqs:ReceiveMessage", "arn:aws:sqs:eu-west-1:1:q")]
    )
    assert not [i for i in proposal.inferred if i.action.startswith("kms:")]


def test_pass_role_is_inferred_for_passed_roles_with_passed_to_service() -> None:
    from alpha.generate import ObservedCall
    from alpha.generate.draft import Drafter
    from alpha.generate.existing import ExistingGrants

    passed = f"arn:aws:iam::{ACCOUNT}:role/fn-exec"
    drafter = Drafter(
        ExistingGrants([single_role(ALLOW_ALL).effective_policies(ROLE).documents[0]]),
        load_catalog(),
        account=ACCOUNT,
        roles_by_profile={},
    )
    call = ObservedCall(
        "lambda:CreateFunction",
        f"arn:aws:lambda:eu-west-1:{ACCOUNT}:function:f",
        1,
        passed_roles=(passed,),
    )
    draft = drafter.draft([call], GenerationSettings())
    statement = next(s for s in draft.policy.statements if "iam:PassRole" in s.action.patterns)
    assert statement.resource is not None
    assert statement.resource.patterns == (passed,)
    assert [(c.key, c.values) for c in statement.conditions] == [
        ("iam:PassedToService", ("lambda.amazonaws.com",))
    ]


def test_pass_role_rows_from_usage_become_an_inferred_scoped_grant() -> None:
    """The usage layer records iam:PassRole on the role a call passes; the proposal grants it
    for those roles only, to the service they were passed to, marked as inferred."""
    passed = f"arn:aws:iam::{ACCOUNT}:role/fn-exec"
    rows = [
        row("lambda:CreateFunction", f"arn:aws:lambda:eu-west-1:{ACCOUNT}:function:f", 2),
        row("iam:PassRole", passed, 2),
    ]
    proposal = propose(single_role(ALLOW_ALL), rows)
    statement = statement_for(proposal, "iam:PassRole")
    assert statement.resource is not None
    assert statement.resource.patterns == (passed,)
    assert [(c.key, c.values) for c in statement.conditions] == [
        ("iam:PassedToService", ("lambda.amazonaws.com",))
    ]
    assert [i.action for i in proposal.inferred] == ["iam:PassRole"]
    assert not [v for v in proposal.guardrails.violations if v.code == "PASSROLE_UNSCOPED"]
    other = f"arn:aws:iam::{ACCOUNT}:role/admin"
    assert not allows(
        proposal, "iam:PassRole", other, **{"iam:PassedToService": "lambda.amazonaws.com"}
    )


def test_active_days_make_a_daily_action_look_daily_to_the_risk() -> None:
    rows = [row("s3:GetObject", "arn:aws:s3:::b/k", 30)]
    snap = single_role(ALLOW_ALL)
    generator = ProposalGenerator(load_catalog(), snap, parse_config("", "t.toml", {}))
    guessed = generator.propose(ROLE, rows, CONTEXT)
    exact = generator.propose(ROLE, rows, CONTEXT, {"s3:GetObject": 30})
    assert "lower bound" in guessed.reasoning.risk_signal.rationale
    assert "lower bound" not in exact.reasoning.risk_signal.rationale
    assert (
        exact.reasoning.risk_signal.probability_of_break
        < guessed.reasoning.risk_signal.probability_of_break
    )


def test_a_shared_managed_policy_is_detached_never_edited() -> None:
    arn = f"arn:aws:iam::{ACCOUNT}:policy/shared"
    snap = snapshot(
        [role("app", attached=[arn]), role("other", attached=[arn])],
        [managed(arn, [ALLOW_ALL], 2)],
    )
    proposal = propose(snap, [row("sqs:SendMessage", "*")])
    steps = [s.to_dict() for s in proposal.plan.steps]
    assert steps[0]["action"] == "detach"
    assert steps[0]["arn"] == arn
    assert steps[0]["shared_with"] == [f"arn:aws:iam::{ACCOUNT}:role/other"]
    assert steps[-1]["action"] == "attach"


def test_over_the_quota_it_generalises_and_says_so() -> None:
    rows = [
        row("s3:GetObject", f"arn:aws:s3:::bucket-{b}/d{d}/k{i}")
        for b in range(40)
        for d in range(3)
        for i in range(6)
    ]
    proposal = propose(single_role(ALLOW_ALL), rows)
    assert proposal.notes
    assert "generalised" in proposal.notes[0]
    assert proposal.size <= 6144
    assert proposal.replay.allowed == len(rows)


def test_calls_a_guardrail_removes_are_listed() -> None:
    rows = [row("s3:GetObject", "arn:aws:s3:::b/k"), row("s3:DeleteObject", "arn:aws:s3:::b/k")]
    proposal = propose(
        single_role(ALLOW_ALL), rows, '[guardrails]\nblocked_actions = ["s3:DeleteObject"]\n'
    )
    assert [c.action for c in proposal.replay.removed_by_guardrails] == ["s3:DeleteObject"]
    assert proposal.replay.to_dict()["observed"] == 2
    assert proposal.replay.to_dict()["allowed"] == 1


def test_no_successful_call_is_an_error() -> None:
    denied = UsageRow(ROLE, "s3:GetObject", "arn:aws:s3:::b/k", 0, 3, T0, T1, ())
    with pytest.raises(GenerateError):
        propose(single_role(ALLOW_ALL), [denied])
