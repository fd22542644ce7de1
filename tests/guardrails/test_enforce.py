"""`enforce`: fixes that only narrow, notes for each, blocking violations left in place, and the
sanitised policy never allowing more than the input (checked with `no_new_access`)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alpha.catalog import Catalog
from alpha.guardrails import GuardrailConfig, enforce
from alpha.policy.compare import NoNewAccess, no_new_access
from alpha.policy.evaluate import PolicySet, Request, compile_policy_set
from alpha.policy.model import Policy
from alpha.policy.parse import parse_policy
from alpha.policy.serialize import to_document

ROLE = "arn:aws:iam::123456789012:role/app"
BUCKET = "arn:aws:s3:::data"
REGIONS = ("eu-west-1", "eu-central-1")
CONFIG = GuardrailConfig(
    blocked_actions=("s3:DeleteBucket", "iam:CreateUser"),
    disallowed_services=("gamelift",),
    required_conditions=("aws:RequestedRegion",),
    condition_values={"aws:RequestedRegion": REGIONS},
    passrole_services=("lambda.amazonaws.com",),
    partial_action_wildcards="off",
)


def allow(action: Any, resource: Any = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def policy(*statements: dict[str, Any]) -> Policy:
    return parse_policy({"Version": "2012-10-17", "Statement": list(statements)})


def statements_of(result_policy: Policy) -> list[dict[str, Any]]:
    statements: list[dict[str, Any]] = to_document(result_policy)["Statement"]
    return statements


def test_blocked_exact_action_is_removed_with_a_note(catalog: Catalog) -> None:
    result = enforce(policy(allow(["s3:GetObject", "s3:DeleteBucket"], BUCKET)), catalog, CONFIG)
    assert statements_of(result.policy)[0]["Action"] == "s3:GetObject"
    fix = next(f for f in result.fixes if f.code == "BLOCKED_ACTION")
    assert fix.path == "Statement[0].Action[1]"
    assert "s3:DeleteBucket" in fix.note
    assert "BLOCKED_ACTION" in {v.code for v in result.found}
    assert "BLOCKED_ACTION" not in {v.code for v in result.violations}


def test_disallowed_service_statement_is_dropped_when_nothing_is_left(catalog: Catalog) -> None:
    subject = policy(
        allow("s3:GetObject", f"{BUCKET}/*"), allow(["gamelift:*", "GameLift:CreateFleet"])
    )
    result = enforce(subject, catalog, CONFIG)
    assert [s["Action"] for s in statements_of(result.policy)] == ["s3:GetObject"]
    notes = [f.note for f in result.fixes if f.code == "DISALLOWED_SERVICE"]
    assert any("removed Statement[1]" in note for note in notes)
    assert "DISALLOWED_SERVICE" not in {v.code for v in result.violations}


def test_broad_wildcard_gets_a_deny_rather_than_a_rewrite(catalog: Catalog) -> None:
    result = enforce(policy(allow("s3:*", BUCKET)), catalog, CONFIG)
    statements = statements_of(result.policy)
    assert statements[0]["Action"] == "s3:*"
    assert statements[-1] == {
        "Sid": "GuardrailDeny",
        "Effect": "Deny",
        "Action": "s3:DeleteBucket",
        "Resource": "*",
    }
    assert "BLOCKED_ACTION" not in {v.code for v in result.violations}
    # the wildcard itself still needs a person
    assert "WILDCARD_ACTION" in {v.code for v in result.violations}
    assert result.blocked


def test_deny_sid_does_not_collide(catalog: Catalog) -> None:
    taken = {"Sid": "GuardrailDeny", "Effect": "Deny", "Action": "ec2:*", "Resource": "*"}
    result = enforce(policy(allow("s3:*", BUCKET), taken), catalog, CONFIG)
    sids = [s.get("Sid") for s in statements_of(result.policy)]
    assert sids.count("GuardrailDeny") == 1
    assert "GuardrailDeny1" in sids


def test_required_condition_is_added_to_every_allow(catalog: Catalog) -> None:
    subject = policy(
        allow("s3:GetObject", f"{BUCKET}/*"),
        {"Effect": "Deny", "Action": "s3:PutObject", "Resource": "*"},
        allow(
            "s3:ListBucket",
            BUCKET,
            Condition={"StringEquals": {"aws:RequestedRegion": "eu-west-1"}},
        ),
    )
    result = enforce(subject, catalog, CONFIG)
    statements = statements_of(result.policy)
    assert statements[0]["Condition"] == {"StringEquals": {"aws:RequestedRegion": list(REGIONS)}}
    assert "Condition" not in statements[1]  # Deny statements grant nothing
    assert statements[2]["Condition"] == {"StringEquals": {"aws:RequestedRegion": "eu-west-1"}}
    assert [f.path for f in result.fixes] == ["Statement[0]"]
    assert result.violations == ()
    assert not result.blocked


def test_required_condition_without_values_blocks(catalog: Catalog) -> None:
    config = CONFIG.model_copy(update={"condition_values": {}})
    result = enforce(policy(allow("s3:GetObject", f"{BUCKET}/*")), catalog, config)
    assert result.fixes == ()
    assert result.policy == policy(allow("s3:GetObject", f"{BUCKET}/*"))
    assert [v.code for v in result.violations] == ["MISSING_REQUIRED_CONDITION"]
    assert result.blocked


def test_passrole_only_statement_gets_passed_to_service(catalog: Catalog) -> None:
    region = {"StringEquals": {"aws:RequestedRegion": "eu-west-1"}}
    result = enforce(policy(allow("iam:PassRole", ROLE, Condition=region)), catalog, CONFIG)
    condition = statements_of(result.policy)[0]["Condition"]["StringEquals"]
    assert condition == {
        "aws:RequestedRegion": "eu-west-1",
        "iam:PassedToService": "lambda.amazonaws.com",
    }
    assert result.violations == ()


def test_passrole_is_split_out_of_a_mixed_statement(catalog: Catalog) -> None:
    region = {"StringEquals": {"aws:RequestedRegion": "eu-west-1"}}
    subject = policy(
        allow(["s3:GetObject", "iam:PassRole"], [ROLE, f"{BUCKET}/*"], Condition=region)
    )
    result = enforce(subject, catalog, CONFIG)
    first, moved = statements_of(result.policy)
    assert first["Action"] == "s3:GetObject"
    assert moved["Action"] == "iam:PassRole"
    assert moved["Resource"] == [ROLE, f"{BUCKET}/*"]
    assert moved["Condition"]["StringEquals"]["iam:PassedToService"] == "lambda.amazonaws.com"
    assert "PASSROLE_UNSCOPED" not in {v.code for v in result.violations}


def test_passrole_on_every_role_still_blocks(catalog: Catalog) -> None:
    result = enforce(policy(allow("iam:PassRole")), catalog, CONFIG)
    assert any(f.code == "PASSROLE_UNSCOPED" for f in result.fixes)
    left = [v for v in result.violations if v.code == "PASSROLE_UNSCOPED"]
    assert left
    assert "every role" in left[0].message
    assert result.blocked


def test_passrole_through_a_wildcard_is_not_rewritten(catalog: Catalog) -> None:
    result = enforce(policy(allow("iam:*", ROLE)), catalog, CONFIG)
    assert not any(f.code == "PASSROLE_UNSCOPED" for f in result.fixes)
    assert "PASSROLE_UNSCOPED" in {v.code for v in result.violations}


def test_unfixable_violations_leave_the_policy_alone(catalog: Catalog) -> None:
    subject = policy(allow("*"))
    result = enforce(subject, catalog, GuardrailConfig())
    assert result.policy == subject
    assert result.fixes == ()
    assert result.violations == result.found
    assert {"WILDCARD_ACTION", "WILDCARD_RESOURCE_ON_WRITE", "PRIVILEGE_ESCALATION"} <= {
        v.code for v in result.violations
    }
    assert result.blocked


def test_as_json_is_the_seed_shape(catalog: Catalog) -> None:
    document = enforce(policy(allow("s3:*")), catalog, CONFIG).as_json()
    assert set(document) == {"sanitised_policy", "violations", "fixes", "blocked"}
    assert {"code", "message", "path", "severity", "blocks"} == set(document["violations"][0])
    assert document["sanitised_policy"]["Version"] == "2012-10-17"


# Never wider -----------------------------------------------------------------------------------

ACTIONS = (
    "s3:GetObject",
    "s3:DeleteBucket",
    "s3:Delete*",
    "s3:*",
    "iam:PassRole",
    "iam:Pass*",
    "iam:CreateUser",
    "gamelift:*",
    "gamelift:CreateFleet",
    "ec2:RunInstances",
    "*",
)
RESOURCES = ("*", ROLE, BUCKET, f"{BUCKET}/*", "arn:aws:iam::123456789012:role/*")
CONDITIONS: tuple[dict[str, Any] | None, ...] = (
    None,
    {"StringEquals": {"aws:RequestedRegion": "eu-west-1"}},
    {"StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}},
)


@st.composite
def statements(draw: st.DrawFn) -> dict[str, Any]:
    statement: dict[str, Any] = {
        "Effect": draw(st.sampled_from(["Allow", "Allow", "Deny"])),
        "Action": draw(st.lists(st.sampled_from(ACTIONS), min_size=1, max_size=3, unique=True)),
        "Resource": draw(st.lists(st.sampled_from(RESOURCES), min_size=1, max_size=2, unique=True)),
    }
    condition = draw(st.sampled_from(CONDITIONS))
    if condition is not None:
        statement["Condition"] = condition
    return statement


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(statements(), min_size=1, max_size=4))
def test_sanitised_policy_never_allows_more(
    catalog: Catalog, generated: list[dict[str, Any]]
) -> None:
    original = policy(*generated)
    result = enforce(original, catalog, CONFIG)
    assert no_new_access([original], [result.policy], catalog) == NoNewAccess()
    # fixed violations are gone: nothing blocked or disallowed is granted any more
    assert not {"BLOCKED_ACTION", "DISALLOWED_SERVICE"} & {v.code for v in result.violations}


@pytest.mark.parametrize(
    "action",
    ["s3:GetObject", "s3:DeleteBucket", "iam:PassRole", "gamelift:CreateFleet", "ec2:RunInstances"],
)
def test_sanitised_policy_allows_no_request_the_input_denies(catalog: Catalog, action: str) -> None:
    """The evaluator agrees with `no_new_access` on concrete requests."""
    original = policy(allow(["s3:*", "iam:PassRole", "gamelift:*"], "*"), allow("ec2:*", "*"))
    sanitised = enforce(original, catalog, CONFIG).policy
    before = compile_policy_set(PolicySet(identity=(original,)))
    after = compile_policy_set(PolicySet(identity=(sanitised,)))
    for region in ("eu-west-1", "us-east-1"):
        for service in ("lambda.amazonaws.com", "ec2.amazonaws.com"):
            request = Request(
                action=action,
                resource=ROLE if action == "iam:PassRole" else f"{BUCKET}/k",
                context={
                    "aws:requestedregion": (region,),
                    "iam:passedtoservice": (service,),
                },
            )
            if after.evaluate(request).allowed:
                assert before.evaluate(request).allowed
