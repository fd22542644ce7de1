"""The sandbox replays under the SCP/RCP levels its proposal was made under (recorded in the
proposal document): calls those levels deny are counted apart, not as the proposal's breakage."""

from __future__ import annotations

from datetime import timedelta

from alpha.policy.org_policies import OrgGuardrails
from alpha.policy.org_record import recorded_guardrails
from alpha.rollout.stages import Judgement, StageSettings, Verdict, judge_sandbox
from tests.fakes.scripted_monitor import Call, ScriptedMonitor
from tests.generate.factories import ROLE, T1
from tests.generate.test_generator_org import REGIONS, propose
from tests.policy.org_examples import prod_guardrails

CALLS = [
    Call(ROLE, T1, "s3:GetObject", "arn:aws:s3:::reports/a.csv", region="eu-west-1"),
    Call(ROLE, T1, "ec2:DescribeInstances", "*", region="us-east-1"),
    Call(ROLE, T1, "ec2:DescribeInstances", "*", region="us-east-1"),
    Call(ROLE, T1, "sqs:SendMessage", "arn:aws:sqs:eu-west-1:111122223333:jobs"),  # no region
]


def judge(calls: list[Call], org: OrgGuardrails | None) -> Judgement:
    monitor = ScriptedMonitor()
    monitor.add(*calls)
    monitor.covered = T1 + timedelta(days=1)
    document = propose(prod_guardrails()).to_dict()
    settings = StageSettings(bake=timedelta(hours=1))
    return judge_sandbox(monitor, [ROLE], document["proposed_policy"], T1, settings, org=org)


def test_calls_the_recorded_levels_deny_are_counted_apart() -> None:
    org = recorded_guardrails(propose(prod_guardrails()).to_dict())
    judged = judge(CALLS, org)
    assert judged.verdict is Verdict.PASSED
    assert judged.metrics["replayed_calls"] == 2
    assert judged.metrics["would_be_denied"] == 0
    assert judged.metrics["denied_by_org"] == 2
    assert judged.metrics["denied_by_org_examples"] == [
        f"ec2:DescribeInstances on *: denied by {REGIONS}"
    ]
    assert "2 call(s) the organization's SCPs/RCPs deny (not the proposal)" in judged.detail


def test_the_proposals_own_breakage_still_fails_under_the_levels() -> None:
    org = recorded_guardrails(propose(prod_guardrails()).to_dict())
    extra = Call(ROLE, T1, "s3:PutObject", "arn:aws:s3:::reports/b.csv", region="eu-west-1")
    judged = judge([*CALLS, extra], org)
    assert judged.verdict is Verdict.FAILED
    assert judged.metrics["would_be_denied"] == 1
    assert "s3:PutObject on arn:aws:s3:::reports/b.csv" in judged.detail


def test_without_levels_nothing_is_put_on_the_organization() -> None:
    judged = judge(CALLS, None)
    assert judged.verdict is Verdict.PASSED
    assert judged.metrics["replayed_calls"] == 4
    assert "denied_by_org" not in judged.metrics
