"""SCPs and RCPs in the evaluator, with AWS's documented example policies across root, OU and
account levels: which layer decides, the exemptions, and the reasons by name and level."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alpha.policy.evaluate import (
    Decision,
    PolicySet,
    Request,
    compile_policy_set,
)
from alpha.policy.matchers import PolicyLayer, is_service_linked
from alpha.policy.model import Policy
from alpha.policy.org_blocks import OrgBlocks
from alpha.policy.org_policies import OrgGuardrails
from alpha.policy.org_record import (
    OrgRecordError,
    guardrails_from_dict,
    guardrails_to_dict,
    recorded_guardrails,
)
from alpha.policy.parse import parse_policy
from tests.policy.org_examples import ACCOUNT, prod_guardrails, s3_only_sandbox

ADMIN = parse_policy(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
)
ROLE = f"arn:aws:iam::{ACCOUNT}:role/app"
SESSION = f"arn:aws:sts::{ACCOUNT}:assumed-role/app/i-0abc"
LINKED = (
    f"arn:aws:iam::{ACCOUNT}:role/aws-service-role/elasticbeanstalk.amazonaws.com/"
    "AWSServiceRoleForElasticBeanstalk"
)
LINKED_SESSION = f"arn:aws:sts::{ACCOUNT}:assumed-role/AWSServiceRoleForECS/ecs"
Context = dict[str, tuple[str, ...]]
IN_EU: Context = {"aws:RequestedRegion": ("eu-west-1",)}
IN_US: Context = {"aws:RequestedRegion": ("us-east-1",)}
SECURE: Context = {"aws:SecureTransport": ("true",)}


def decide(
    guardrails: OrgGuardrails,
    action: str,
    resource: str = "*",
    context: Mapping[str, tuple[str, ...]] | None = None,
) -> tuple[Decision, tuple[str, ...]]:
    evaluator = compile_policy_set(guardrails.policy_set((ADMIN,), principal=ROLE))
    result = evaluator.evaluate(Request(action, resource, context or {}, principal=ROLE))
    return result.decision, guardrails.reasons(result, action)


REGIONS = "SCP 'DenyRegions' (p-denyregi) at OU 'Prod' (ou-ab12-prod0001)"


@pytest.mark.parametrize(
    ("action", "resource", "context", "decision", "reason"),
    [
        ("ec2:DescribeInstances", "*", IN_EU, Decision.ALLOWED, None),
        ("ec2:DescribeInstances", "*", IN_US, Decision.EXPLICITLY_DENIED, f"denied by {REGIONS}"),
        # NotAction exempts the global services outside the regions
        ("iam:ListRoles", "*", IN_US, Decision.ALLOWED, None),
        ("sts:GetCallerIdentity", "*", IN_US, Decision.ALLOWED, None),
        (
            "organizations:LeaveOrganization",
            "*",
            IN_EU,
            Decision.EXPLICITLY_DENIED,
            "denied by SCP 'DenyLeaveOrganization' (p-denyleav) at the root (r-ab12)",
        ),
        (
            "ec2:RunInstances",
            "arn:aws:ec2:eu-west-1:222222222222:instance/*",
            {**IN_EU, "ec2:MetadataHttpTokens": ("optional",)},
            Decision.EXPLICITLY_DENIED,
            "denied by SCP 'RequireIMDSv2' (p-requirei) at OU 'Prod' (ou-ab12-prod0001)",
        ),
        (
            "ec2:RunInstances",
            "arn:aws:ec2:eu-west-1:222222222222:instance/*",
            {**IN_EU, "ec2:MetadataHttpTokens": ("required",)},
            Decision.ALLOWED,
            None,
        ),
        # An RCP: the bucket (no account in its ARN) counts as the account's
        (
            "s3:DeleteBucket",
            "arn:aws:s3:::reports",
            {**IN_EU, **SECURE},
            Decision.EXPLICITLY_DENIED,
            "denied by RCP 'DenyBucketDeletion' (p-denybuck) at account 'prod' (222222222222)",
        ),
        (
            "s3:GetObject",
            "arn:aws:s3:::reports/a.csv",
            {**IN_EU, "aws:SecureTransport": ("false",)},
            Decision.EXPLICITLY_DENIED,
            "denied by RCP 'EnforceSecureTransport' (p-enforces) at OU 'Prod' (ou-ab12-prod0001)",
        ),
    ],
)
def test_aws_example_policies_across_levels(
    action: str,
    resource: str,
    context: dict[str, tuple[str, ...]],
    decision: Decision,
    reason: str | None,
) -> None:
    evaluator = compile_policy_set(prod_guardrails().policy_set((ADMIN,), principal=ROLE))
    result = evaluator.evaluate(Request(action, resource, context, principal=ROLE))
    assert result.decision is decision
    assert prod_guardrails().reasons(result, action) == ((reason,) if reason else ())


def test_the_region_deny_exempts_the_roles_it_names() -> None:
    bypass = f"arn:aws:iam::{ACCOUNT}:role/Role1AllowedToBypassThisSCP"
    evaluator = compile_policy_set(prod_guardrails().policy_set((ADMIN,), principal=bypass))
    context = {**IN_US, "aws:PrincipalArn": (bypass,)}
    assert evaluator.evaluate(Request("ec2:DescribeInstances", "*", context, bypass)).allowed


def test_a_level_without_an_allow_is_named() -> None:
    decision, reasons = decide(s3_only_sandbox(), "ec2:DescribeInstances")
    assert decision is Decision.IMPLICITLY_DENIED
    assert reasons == ("no SCP at OU 'Sandbox' (ou-ab12-sand0001) allows ec2:DescribeInstances",)
    assert decide(s3_only_sandbox(), "s3:PutObject")[0] is Decision.ALLOWED


@pytest.mark.parametrize(
    ("resource", "account", "denied"),
    [
        ("arn:aws:s3:::reports", None, True),  # no account in the ARN: the caller's
        ("arn:aws:sqs:eu-west-1:222222222222:jobs", None, False),  # sqs: not DeleteBucket
        ("arn:aws:s3:::reports", "999999999999", False),  # another account's bucket
        ("arn:aws:s3:::reports", ACCOUNT, True),
    ],
)
def test_rcps_apply_to_resources_in_the_account(
    resource: str, account: str | None, denied: bool
) -> None:
    action = "s3:DeleteBucket" if resource.startswith("arn:aws:s3") else "sqs:DeleteQueue"
    evaluator = compile_policy_set(prod_guardrails().policy_set((ADMIN,), principal=ROLE))
    request = Request(action, resource, {**IN_EU, **SECURE}, ROLE, resource_account=account)
    assert (evaluator.evaluate(request).decision is Decision.EXPLICITLY_DENIED) is denied


def test_rcps_apply_only_to_the_services_aws_lists() -> None:
    only_rcp = OrgGuardrails(rcps=prod_guardrails().rcps)
    # EnforceSecureTransport names sts/s3/sqs/secretsmanager/kms; an RCP naming ec2 is inert
    ec2_deny = parse_policy(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"},
                {"Effect": "Deny", "Principal": "*", "Action": "ec2:*", "Resource": "*"},
            ],
        }
    )
    evaluator = compile_policy_set(PolicySet((ADMIN,), rcps=(ec2_deny,)))
    assert evaluator.evaluate(Request("ec2:RunInstances", "*", principal=ROLE)).allowed
    assert decide(only_rcp, "s3:DeleteBucket", "arn:aws:s3:::b", SECURE)[0] is (
        Decision.EXPLICITLY_DENIED
    )


@pytest.mark.parametrize("principal", [LINKED, LINKED_SESSION])
def test_service_linked_roles_are_exempt_from_scps_and_rcps(principal: str) -> None:
    assert is_service_linked(principal)
    levels = prod_guardrails()
    assert levels.in_force_for(principal).empty
    # even when the levels are passed to the evaluator directly
    raw = PolicySet((ADMIN,), scps=levels.scp_documents(), rcps=levels.rcp_documents())
    evaluator = compile_policy_set(raw)
    for action, resource in (
        ("organizations:LeaveOrganization", "*"),
        ("s3:DeleteBucket", "arn:aws:s3:::reports"),
    ):
        assert evaluator.evaluate(Request(action, resource, IN_US, principal)).allowed


def test_the_management_account_is_exempt() -> None:
    levels = prod_guardrails(management=True)
    assert levels.in_force_for(ROLE).empty
    assert decide(levels, "organizations:LeaveOrganization", "*", IN_EU)[0] is Decision.ALLOWED
    assert not is_service_linked(ROLE)
    assert not is_service_linked(SESSION)


def test_allowed_results_name_the_org_statements_they_needed() -> None:
    evaluator = compile_policy_set(prod_guardrails().policy_set((ADMIN,), principal=ROLE))
    result = evaluator.evaluate(Request("s3:GetObject", "arn:aws:s3:::b/k", {**IN_EU, **SECURE}))
    kinds = {ref.kind for ref in result.statements}
    assert kinds == {PolicyLayer.IDENTITY, PolicyLayer.SCP, PolicyLayer.RCP}


def test_blocked_everywhere_counts_only_unconditional_denies_on_every_resource() -> None:
    blocks = OrgBlocks(prod_guardrails())
    assert blocks.why_blocked("organizations:LeaveOrganization") == (
        "denied by SCP 'DenyLeaveOrganization' (p-denyleav) at the root (r-ab12)"
    )
    assert blocks.why_blocked("s3:DeleteBucket") == (
        "denied by RCP 'DenyBucketDeletion' (p-denybuck) at account 'prod' (222222222222)"
    )
    # conditional (regions, IMDSv2, root user, transport): usable under some context
    for action in ("ec2:RunInstances", "ec2:TerminateInstances", "s3:GetObject"):
        assert blocks.why_blocked(action) is None
    assert OrgBlocks(s3_only_sandbox()).blocked(["ec2:RunInstances", "s3:GetObject"]) == {
        "ec2:RunInstances": "no SCP at OU 'Sandbox' (ou-ab12-sand0001) allows ec2:RunInstances"
    }


def test_levels_round_trip_through_a_proposal_record() -> None:
    levels = prod_guardrails()
    record = guardrails_to_dict(levels)
    assert guardrails_from_dict(record, "x") == levels
    assert recorded_guardrails({"organization": record}) == levels
    assert recorded_guardrails({}) == OrgGuardrails()


@pytest.mark.parametrize(
    ("record", "message"),
    [
        ([], "p must be an object"),
        ({"scps": {}}, "p: scps must be a list of levels"),
        ({"scps": [{"kind": "galaxy"}]}, "p: scps[0].kind must be one of root, ou, account"),
        (
            {"rcps": [{"kind": "ou", "id": "ou-1", "name": "A", "policies": [{"id": 1}]}]},
            "p: rcps[0].policies[0].id must be a string",
        ),
        ({"management": "yes"}, "p: management must be true or false"),
    ],
)
def test_a_bad_record_names_the_field(record: object, message: str) -> None:
    with pytest.raises(OrgRecordError, match=message.replace("[", r"\[").replace("]", r"\]")):
        guardrails_from_dict(record, "p")


# Properties ------------------------------------------------------------------------------

ACTIONS = st.sampled_from(
    [
        "s3:GetObject",
        "s3:DeleteBucket",
        "ec2:RunInstances",
        "ec2:DescribeInstances",
        "iam:CreateRole",
        "organizations:LeaveOrganization",
        "kms:Decrypt",
        "sqs:SendMessage",
    ]
)
PATTERNS = st.sampled_from(["*", "s3:*", "ec2:*", "ec2:Describe*", "iam:*", "kms:Decrypt"])
RESOURCES = st.sampled_from(["*", "arn:aws:s3:::b/k", "arn:aws:ec2:eu-west-1:1:instance/i"])
CONTEXTS = st.sampled_from([{}, IN_EU, IN_US, {**IN_EU, **SECURE}])


@st.composite
def levels(draw: st.DrawFn) -> Policy:
    statements = draw(
        st.lists(
            st.fixed_dictionaries(
                {
                    "Effect": st.sampled_from(["Allow", "Deny"]),
                    "Action": st.lists(PATTERNS, min_size=1, max_size=2),
                    "Resource": st.just("*"),
                }
            ),
            min_size=1,
            max_size=3,
        )
    )
    return parse_policy({"Version": "2012-10-17", "Statement": statements})


ALLOW_ALL = parse_policy(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
)


@dataclass(frozen=True)
class Case:
    """A policy set with SCP and RCP levels, a request, and a level to add on one side."""

    scps: tuple[Policy, ...]
    rcps: tuple[Policy, ...]
    identity: Policy
    extra: Policy
    scp_side: bool
    request: Request

    def decision(self, added: Policy | None = None) -> Decision:
        scps, rcps = self.scps, self.rcps
        if added is not None and self.scp_side:
            scps = (*scps, added)
        elif added is not None:
            rcps = (*rcps, added)
        policy_set = PolicySet((self.identity,), scps=scps, rcps=rcps)
        return compile_policy_set(policy_set).evaluate(self.request).decision


@st.composite
def cases(draw: st.DrawFn) -> Case:
    request = Request(draw(ACTIONS), draw(RESOURCES), draw(CONTEXTS), ROLE)
    return Case(
        tuple(draw(st.lists(levels(), max_size=3))),
        tuple(draw(st.lists(levels(), max_size=2))),
        draw(levels()),
        draw(levels()),
        draw(st.booleans()),
        request,
    )


@settings(max_examples=200, deadline=None)
@given(case=cases())
def test_an_allow_all_level_changes_nothing(case: Case) -> None:
    assert case.decision(ALLOW_ALL) is case.decision()


@settings(max_examples=200, deadline=None)
@given(case=cases())
def test_adding_a_level_never_turns_a_deny_into_an_allow(case: Case) -> None:
    if case.decision() is not Decision.ALLOWED:
        assert case.decision(case.extra) is not Decision.ALLOWED
