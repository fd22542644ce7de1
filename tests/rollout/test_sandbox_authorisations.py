"""The sandbox reads each call as generation does (`alpha.usage.authorisations`): what it
cannot check (an unmapped call, a resource the logs do not name) is counted and named, never
replayed as a made-up request nor passed off as replayed."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from alpha.rollout.stages import StageSettings, Verdict, judge_sandbox
from alpha.usage.authorisations import unmapped_action
from tests.fakes.scripted_monitor import Call, ScriptedMonitor
from tests.rollout.factories import APP, T0

PROPOSAL: dict[str, Any] = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::data/*"},
        {"Effect": "Allow", "Action": "cloudwatch:PutMetricData", "Resource": "*"},
    ],
}


def judge(
    *calls: tuple[str, str], proposal: dict[str, Any] = PROPOSAL
) -> tuple[Verdict, str, dict[str, object]]:
    monitor = ScriptedMonitor()
    monitor.add(*(Call(APP, T0 + timedelta(minutes=1), a, r) for a, r in calls))
    monitor.covered = T0 + timedelta(hours=2)
    found = judge_sandbox(monitor, [APP], proposal, T0, StageSettings(bake=timedelta(hours=1)))
    return found.verdict, found.detail, found.metrics


def test_calls_it_cannot_check_are_counted_and_named_not_replayed() -> None:
    verdict, detail, metrics = judge(
        ("s3:GetObject", "arn:aws:s3:::data/a"),
        ("cloudwatch:PutMetricData", "*"),  # `*` is the real request: replayed on it
        ("athena:StartQueryExecution", "*"),  # the logs do not name the workgroup
        (unmapped_action("rdsdata.amazonaws.com", "New"), "*"),
    )
    assert verdict is Verdict.PASSED
    assert metrics["replayed_calls"] == 2
    assert metrics["would_be_denied"] == 0
    assert metrics["unchecked_calls"] == 2
    assert "2 call(s) could not be checked" in detail
    examples = " ".join(str(e) for e in metrics["unchecked_examples"])  # type: ignore[attr-defined]
    assert "athena:StartQueryExecution" in examples
    assert "rdsdata.amazonaws.com New" in examples


def test_a_known_call_the_proposal_denies_still_fails() -> None:
    verdict, detail, _ = judge(("s3:GetObject", "arn:aws:s3:::other/a"))
    assert verdict is Verdict.FAILED
    assert "s3:GetObject on arn:aws:s3:::other/a" in detail


ROLE = "arn:aws:iam::111122223333:role/task"
TASK = "arn:aws:ecs:eu-west-1:111122223333:task-definition/web:3"
FUNCTION = "arn:aws:lambda:eu-west-1:111122223333:function:f"


def passing(*services: str) -> dict[str, Any]:
    """A proposal allowing RunTask and CreateFunction, and PassRole for `services` only."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": ["ecs:RunTask", "lambda:CreateFunction"],
                "Resource": "*",
            },
            {
                "Effect": "Allow",
                "Action": "iam:PassRole",
                "Resource": ROLE,
                "Condition": {"StringEquals": {"iam:PassedToService": list(services)}},
            },
        ],
    }


def test_a_passed_role_is_checked_for_the_service_its_call_passes_it_to() -> None:
    """ECS RunTask passes its task role to ecs-tasks.amazonaws.com (not ecs.amazonaws.com):
    the sandbox replays PassRole with that iam:PassedToService."""
    calls = (("ecs:RunTask", TASK), ("iam:PassRole", ROLE))
    verdict, _, metrics = judge(*calls, proposal=passing("ecs-tasks.amazonaws.com"))
    assert verdict is Verdict.PASSED
    assert metrics["replayed_calls"] == 2
    assert metrics["unchecked_calls"] == 0
    verdict, detail, _ = judge(*calls, proposal=passing("lambda.amazonaws.com"))
    assert verdict is Verdict.FAILED
    assert f"iam:PassRole on {ROLE}" in detail


def test_a_role_passed_by_calls_to_two_services_is_unchecked_when_only_one_allows() -> None:
    calls = (("ecs:RunTask", TASK), ("lambda:CreateFunction", FUNCTION), ("iam:PassRole", ROLE))
    both = passing("ecs-tasks.amazonaws.com", "lambda.amazonaws.com")
    assert judge(*calls, proposal=both)[2]["unchecked_calls"] == 0
    verdict, _, metrics = judge(*calls, proposal=passing("lambda.amazonaws.com"))
    assert verdict is Verdict.PASSED  # the logs do not say which call passed the role
    assert metrics["unchecked_calls"] == 1
