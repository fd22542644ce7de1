"""One table per guardrail rule: cases that must be reported (with the place) and cases that
must not, including wildcard forms and Deny statements that take a grant away."""

from __future__ import annotations

from typing import Any, Literal

import pytest

from alpha.catalog import Catalog
from alpha.guardrails import GUARDRAIL_RULES, RULES, GuardrailConfig, check
from alpha.guardrails.config import RuleSetting
from alpha.guardrails.rules import is_full_wildcard
from alpha.policy.findings import Severity
from alpha.policy.model import Policy
from alpha.policy.parse import parse_policy

REGION = {"StringEquals": {"aws:RequestedRegion": "eu-west-1"}}
LAMBDA = {"StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}}
ROLE = "arn:aws:iam::123456789012:role/app"
BUCKET = "arn:aws:s3:::data"


def allow(action: Any, resource: Any = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def deny(action: Any, resource: Any = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Deny", "Action": action, "Resource": resource, **extra}


def policy(*statements: dict[str, Any]) -> Policy:
    return parse_policy({"Version": "2012-10-17", "Statement": list(statements)})


def paths(
    rule: str, statements: list[dict[str, Any]], catalog: Catalog, **config: Any
) -> list[str]:
    """The paths `rule` reports for a policy of `statements`."""
    found = RULES[rule](policy(*statements), catalog, GuardrailConfig(**config))
    return [v.path for v in found]


# WILDCARD_ACTION ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("statements", "expected"),
    [
        ([allow("*")], ["Statement[0].Action[0]"]),
        ([allow(["s3:GetObject", "s3:*"])], ["Statement[0].Action[1]"]),
        ([allow("*:GetObject")], ["Statement[0].Action[0]"]),
        ([allow("ec2:*?")], ["Statement[0].Action[0]"]),
        ([{"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}], ["Statement[0].NotAction"]),
        ([allow("s3:GetObject")], []),
        ([deny("*")], []),  # only Allow statements grant
        ([{"Effect": "Deny", "NotAction": "s3:GetObject", "Resource": "*"}], []),
    ],
)
def test_wildcard_action_full(
    statements: list[dict[str, Any]], expected: list[str], catalog: Catalog
) -> None:
    assert paths("WILDCARD_ACTION", statements, catalog, partial_action_wildcards="off") == expected


@pytest.mark.parametrize(
    ("setting", "expected"),
    [
        ("off", None),
        ("info", Severity.INFO),
        ("warning", Severity.WARNING),
        ("error", Severity.ERROR),
    ],
)
def test_wildcard_inside_a_name_uses_its_own_severity(
    setting: Literal["off", "info", "warning", "error"], expected: Severity | None, catalog: Catalog
) -> None:
    config = GuardrailConfig(partial_action_wildcards=setting)
    found = list(RULES["WILDCARD_ACTION"](policy(allow("s3:Get*")), catalog, config))
    assert [v.severity for v in found] == ([] if expected is None else [expected])
    if found:
        assert f"grants {len(catalog.expand('s3:Get*'))} actions" in found[0].message


@pytest.mark.parametrize(
    ("pattern", "full"),
    [("*", True), ("s3:*", True), ("s3:**", True), ("*:List*", True), ("s3:Get*", False),
     ("s3:*Object", False), ("s3:GetObject", False)],
)  # fmt: skip
def test_full_wildcard_forms(pattern: str, full: bool) -> None:
    assert is_full_wildcard(pattern) is full


# WILDCARD_RESOURCE_ON_WRITE -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("statements", "expected"),
    [
        ([allow("s3:PutObject")], ["Statement[0].Resource[0]"]),
        ([allow("s3:PutObject", [f"{BUCKET}/*", "*"])], ["Statement[0].Resource[1]"]),
        ([allow("iam:AttachRolePolicy")], ["Statement[0].Resource[0]"]),  # permissions mgmt
        (
            [{"Effect": "Allow", "Action": "s3:PutObject", "NotResource": f"{BUCKET}/x"}],
            ["Statement[0].NotResource"],
        ),
        ([allow("s3:*")], ["Statement[0].Resource[0]"]),  # wildcards expand to write actions
        ([allow("s3:PutObject", f"{BUCKET}/*")], []),  # scoped
        ([allow(["s3:GetObject", "s3:ListAllMyBuckets"])], []),  # read and list only
        ([allow("sts:GetCallerIdentity")], []),  # no resource-level support
        # one optional type (the dataset): information, not the finding (issue 10)
        ([allow("cloudwatch:PutMetricData")], ["Statement[0].Resource[0]"]),
        # several optional types are alternatives a call names one of: the finding
        ([allow("s3:DeleteObject")], ["Statement[0].Resource[0]"]),
        ([allow("s3:PutObject"), deny("s3:PutObject")], []),  # taken away by a Deny
        ([allow("s3:PutObject"), deny("s3:Put*", "*")], []),
        # a Deny with a condition might not apply; one on a narrower resource leaves `*`
        (
            [allow("s3:PutObject"), deny("s3:PutObject", Condition=REGION)],
            ["Statement[0].Resource[0]"],
        ),
        (
            [allow("s3:PutObject"), deny("s3:PutObject", f"{BUCKET}/*")],
            ["Statement[0].Resource[0]"],
        ),
    ],
)
def test_wildcard_resource_on_write(
    statements: list[dict[str, Any]], expected: list[str], catalog: Catalog
) -> None:
    assert paths("WILDCARD_RESOURCE_ON_WRITE", statements, catalog) == expected


@pytest.mark.parametrize(
    ("actions", "severity"),
    [
        (["cloudwatch:PutMetricData"], Severity.INFO),
        (["cloudwatch:PutMetricData", "s3:PutObject"], Severity.ERROR),
        (["s3:PutObject"], Severity.ERROR),
        (["ec2:ReleaseAddress"], Severity.INFO),
    ],
)
def test_a_write_only_star_allows_is_information(
    actions: list[str], severity: Severity, catalog: Catalog
) -> None:
    found = list(
        RULES["WILDCARD_RESOURCE_ON_WRITE"](policy(allow(actions)), catalog, GuardrailConfig())
    )
    assert [v.severity for v in found] == [severity]
    if severity is Severity.INFO:
        assert "optional" in found[0].message
        assert actions[0] in found[0].message
    else:
        assert "cloudwatch:PutMetricData" not in found[0].message


def test_wildcard_resource_on_write_names_the_actions(catalog: Catalog) -> None:
    config = GuardrailConfig()
    found = list(
        RULES["WILDCARD_RESOURCE_ON_WRITE"](
            policy(allow(["s3:PutObject", "s3:GetObject"])), catalog, config
        )
    )
    assert "s3:PutObject" in found[0].message
    assert "s3:GetObject" not in found[0].message


# PASSROLE_UNSCOPED ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("statements", "expected"),
    [
        ([allow("iam:PassRole")], ["Statement[0].Action[0]"]),
        ([allow("iam:*")], ["Statement[0].Action[0]"]),
        ([allow("*")], ["Statement[0].Action[0]"]),
        ([allow(["s3:GetObject", "iam:Pass*"])], ["Statement[0].Action[1]"]),
        ([allow("IAM:passrole", ROLE)], ["Statement[0].Action[0]"]),  # no PassedToService
        ([allow("iam:PassRole", Condition=LAMBDA)], ["Statement[0].Action[0]"]),  # every role
        ([allow("iam:PassRole", "arn:aws:iam::123456789012:role/*", Condition=LAMBDA)],
         ["Statement[0].Action[0]"]),
        ([{"Effect": "Allow", "NotAction": "s3:*", "Resource": ROLE}], ["Statement[0].NotAction"]),
        ([allow("iam:PassRole", ROLE, Condition=LAMBDA)], []),  # scoped both ways
        ([allow("iam:GetRole")], []),
        ([allow("iam:PassRole"), deny("iam:PassRole")], []),  # explicit Deny honoured
        ([allow("iam:*"), deny("iam:Pass*")], []),
        ([allow("iam:PassRole", ROLE), deny("iam:PassRole", "arn:aws:iam::123456789012:role/*")],
         []),
        ([allow("iam:PassRole"), {"Effect": "Deny", "NotAction": "iam:PassRole", "Resource": "*"}],
         ["Statement[0].Action[0]"]),
        # a negated test of the key does not scope the grant
        ([allow("iam:PassRole", ROLE,
                Condition={"StringNotEquals": {"iam:PassedToService": "ec2.amazonaws.com"}})],
         ["Statement[0].Action[0]"]),
    ],
)  # fmt: skip
def test_passrole_unscoped(
    statements: list[dict[str, Any]], expected: list[str], catalog: Catalog
) -> None:
    assert paths("PASSROLE_UNSCOPED", statements, catalog) == expected


def test_passrole_unscoped_blocks_by_default(catalog: Catalog) -> None:
    found = list(
        RULES["PASSROLE_UNSCOPED"](policy(allow("iam:PassRole")), catalog, GuardrailConfig())
    )
    assert [v.blocks for v in found] == [True]
    assert "every role" in found[0].message
    assert "iam:PassedToService" in found[0].message


# BLOCKED_ACTION -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("statements", "blocked", "expected"),
    [
        ([allow("s3:DeleteBucket")], ["s3:DeleteBucket"], ["Statement[0].Action[0]"]),
        ([allow("S3:deletebucket")], ["s3:DeleteBucket"], ["Statement[0].Action[0]"]),
        ([allow("s3:*")], ["s3:DeleteBucket"], ["Statement[0].Action[0]"]),  # policy wildcard
        ([allow("*")], ["s3:DeleteBucket"], ["Statement[0].Action[0]"]),
        ([allow("s3:DeleteObject")], ["s3:Delete*"], ["Statement[0].Action[0]"]),  # config one
        ([allow("s3:Delete*")], ["s3:*Bucket"], ["Statement[0].Action[0]"]),  # both wildcards
        ([allow(["s3:GetObject", "s3:DeleteBucket"])], ["s3:DeleteBucket"],
         ["Statement[0].Action[1]"]),
        # not in the catalog: judged by the text
        ([allow("s3:FutureAction")], ["s3:FutureAction"], ["Statement[0].Action[0]"]),
        ([{"Effect": "Allow", "NotAction": "s3:Get*", "Resource": "*"}], ["s3:DeleteBucket"],
         ["Statement[0].NotAction"]),
        ([allow("s3:GetObject")], ["s3:DeleteBucket"], []),
        ([allow("s3:Get*")], ["s3:Delete*"], []),
        ([deny("s3:DeleteBucket")], ["s3:DeleteBucket"], []),
        ([allow("s3:*"), deny("s3:DeleteBucket")], ["s3:DeleteBucket"], []),
        ([{"Effect": "Allow", "NotAction": "s3:Delete*", "Resource": "*"}], ["s3:DeleteBucket"],
         []),
        ([allow("s3:DeleteBucket")], [], []),
    ],
)  # fmt: skip
def test_blocked_action(
    statements: list[dict[str, Any]], blocked: list[str], expected: list[str], catalog: Catalog
) -> None:
    assert paths("BLOCKED_ACTION", statements, catalog, blocked_actions=blocked) == expected


# DISALLOWED_SERVICE ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("statements", "services", "expected"),
    [
        ([allow("gamelift:CreateFleet")], ["gamelift"], ["Statement[0].Action[0]"]),
        ([allow("GameLift:*")], ["gamelift"], ["Statement[0].Action[0]"]),
        ([allow("*")], ["gamelift"], ["Statement[0].Action[0]"]),
        ([allow("*:CreateFleet")], ["gamelift"], ["Statement[0].Action[0]"]),
        ([allow(["s3:GetObject", "ec2:Describe*"])], ["ec2"], ["Statement[0].Action[1]"]),
        ([allow("s3:GetObject")], ["ec2"], []),
        ([allow("ec2messages:GetMessages")], ["ec2"], []),  # a prefix is not a service
        ([allow("*"), deny("gamelift:*")], ["gamelift"], []),
    ],
)
def test_disallowed_service(
    statements: list[dict[str, Any]], services: list[str], expected: list[str], catalog: Catalog
) -> None:
    assert (
        paths("DISALLOWED_SERVICE", statements, catalog, disallowed_services=services) == expected
    )


# MISSING_REQUIRED_CONDITION -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("statements", "expected"),
    [
        ([allow("s3:GetObject")], ["Statement[0]"]),
        ([allow("s3:GetObject", Condition=LAMBDA)], ["Statement[0].Condition"]),
        ([allow("s3:GetObject", Condition=REGION), allow("s3:PutObject")], ["Statement[1]"]),
        ([allow("s3:GetObject",
                Condition={"StringNotEquals": {"aws:RequestedRegion": "us-east-1"}})],
         ["Statement[0].Condition"]),
        ([allow("s3:GetObject", Condition={"Null": {"aws:RequestedRegion": "false"}})],
         ["Statement[0].Condition"]),
        ([allow("s3:GetObject", Condition=REGION)], []),
        ([allow("s3:GetObject", Condition={"StringLike": {"AWS:requestedregion": "eu-*"}})], []),
        ([deny("s3:GetObject")], []),
    ],
)  # fmt: skip
def test_missing_required_condition(
    statements: list[dict[str, Any]], expected: list[str], catalog: Catalog
) -> None:
    found = paths(
        "MISSING_REQUIRED_CONDITION",
        statements,
        catalog,
        required_conditions=["aws:RequestedRegion"],
    )
    assert found == expected


def test_no_required_conditions_no_violations(catalog: Catalog) -> None:
    assert paths("MISSING_REQUIRED_CONDITION", [allow("s3:GetObject")], catalog) == []


# PRIVILEGE_ESCALATION -------------------------------------------------------------------------


def escalation_names(statements: list[dict[str, Any]], catalog: Catalog) -> set[str]:
    found = RULES["PRIVILEGE_ESCALATION"](policy(*statements), catalog, GuardrailConfig())
    return {v.message.split(": ", 1)[0] for v in found}


@pytest.mark.parametrize(
    ("statements", "expected"),
    [
        ([allow("iam:CreatePolicyVersion")], {"iam:CreatePolicyVersion"}),
        ([allow("iam:SetDefaultPolicyVersion", "arn:aws:iam::1:policy/p")],
         {"iam:SetDefaultPolicyVersion"}),
        ([allow("iam:AttachRolePolicy", ROLE)], {"iam:AttachRolePolicy"}),
        ([allow(["iam:PutUserPolicy", "iam:PutGroupPolicy"])],
         {"iam:PutUserPolicy", "iam:PutGroupPolicy"}),
        ([allow("iam:CreateAccessKey")], {"iam:CreateAccessKey"}),
        ([allow("iam:UpdateLoginProfile")], {"iam:UpdateLoginProfile"}),
        ([allow("iam:AddUserToGroup")], {"iam:AddUserToGroup"}),
        ([allow(["iam:UpdateAssumeRolePolicy", "sts:AssumeRole"], ROLE)],
         {"iam:UpdateAssumeRolePolicy + sts:AssumeRole"}),
        ([allow("iam:UpdateAssumeRolePolicy", ROLE)], set()),  # cannot assume it afterwards
        ([allow("sts:AssumeRole")], {"sts:AssumeRole"}),
        ([allow("sts:AssumeRole", ROLE)], set()),  # one named role is deliberate
        # iam:PassRole with a service that runs code
        ([allow(["iam:PassRole", "ec2:RunInstances"])], {"iam:PassRole + ec2:RunInstances"}),
        ([allow("iam:PassRole"), allow(["lambda:CreateFunction", "lambda:InvokeFunction"],
                                       "arn:aws:lambda:*:*:function:*")],
         {"iam:PassRole + lambda:CreateFunction + lambda:InvokeFunction"}),
        ([allow(["iam:PassRole", "lambda:CreateFunction", "lambda:CreateEventSourceMapping"])],
         {"iam:PassRole + lambda:CreateFunction + lambda:CreateEventSourceMapping"}),
        ([allow(["iam:Pass*", "glue:CreateDevEndpoint"])],
         {"iam:PassRole + glue:CreateDevEndpoint"}),
        ([allow(["iam:PassRole", "cloudformation:CreateStack"], ["arn:aws:iam::1:role/cf-*", "*"])],
         {"iam:PassRole + cloudformation:CreateStack"}),
        ([allow(["iam:PassRole", "datapipeline:CreatePipeline",
                 "datapipeline:PutPipelineDefinition"])],
         {"iam:PassRole + datapipeline:CreatePipeline + datapipeline:PutPipelineDefinition"}),
        ([allow(["iam:PassRole", "ecs:RegisterTaskDefinition", "ecs:RunTask"])],
         {"iam:PassRole + ecs:RegisterTaskDefinition + ecs:RunTask"}),
        # the simpler method covers the combination that contains it
        ([allow(["iam:PassRole", "sagemaker:CreateNotebookInstance",
                 "sagemaker:CreatePresignedNotebookInstanceUrl"])],
         {"sagemaker:CreatePresignedNotebookInstanceUrl"}),
        # a named role passed is deliberate; a lambda alone is no escalation
        ([allow("iam:PassRole", ROLE), allow(["lambda:CreateFunction", "lambda:InvokeFunction"])],
         set()),
        ([allow(["lambda:CreateFunction", "lambda:InvokeFunction"])], set()),
        ([allow("ec2:RunInstances")], set()),
        ([allow(["iam:PassRole", "ec2:RunInstances"]), deny("iam:PassRole")], set()),
        ([allow(["iam:Get*", "iam:List*", "s3:*"])], set()),
    ],
)  # fmt: skip
def test_privilege_escalation(
    statements: list[dict[str, Any]], expected: set[str], catalog: Catalog
) -> None:
    assert escalation_names(statements, catalog) == expected


def test_privilege_escalation_reports_the_granting_pattern(catalog: Catalog) -> None:
    found = list(
        RULES["PRIVILEGE_ESCALATION"](
            policy(allow("s3:GetObject"), allow(["s3:PutObject", "iam:Create*"])),
            catalog,
            GuardrailConfig(),
        )
    )
    assert {v.path for v in found} == {"Statement[1].Action[1]"}
    assert any("iam:CreatePolicyVersion" in v.message for v in found)


def test_admin_policy_has_many_escalations(catalog: Catalog) -> None:
    assert len(escalation_names([allow("*")], catalog)) >= 20


# SIZE_QUOTA -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("count", "limit", "reported"), [(5, 6144, False), (400, 6144, True),
                                                        (5, 100, True)])  # fmt: skip
def test_size_quota(count: int, limit: int, reported: bool, catalog: Catalog) -> None:
    statements = [allow("s3:GetObject", f"{BUCKET}/prefix-{i}/*") for i in range(count)]
    found = paths("SIZE_QUOTA", statements, catalog, max_policy_size=limit)
    assert found == ([""] if reported else [])


# check() --------------------------------------------------------------------------------------


def test_every_rule_is_registered_and_has_a_function() -> None:
    assert {kind.id for kind in GUARDRAIL_RULES} == set(RULES)


def test_check_orders_by_severity_and_skips_disabled_rules(catalog: Catalog) -> None:
    subject = policy(allow(["s3:Get*", "iam:PassRole"]))
    found = check(subject, catalog, GuardrailConfig())
    assert [v.severity for v in found] == sorted((v.severity for v in found), key=lambda s: s.rank)
    assert {v.code for v in found} >= {"PASSROLE_UNSCOPED", "WILDCARD_ACTION"}
    quiet = GuardrailConfig(rules={"PASSROLE_UNSCOPED": RuleSetting(enabled=False)})
    assert "PASSROLE_UNSCOPED" not in {v.code for v in check(subject, catalog, quiet)}


def test_severity_override_decides_blocking(catalog: Catalog) -> None:
    subject = policy(allow("iam:PassRole", ROLE))
    relaxed = GuardrailConfig(rules={"PASSROLE_UNSCOPED": RuleSetting(severity=Severity.WARNING)})
    found = [v for v in check(subject, catalog, relaxed) if v.code == "PASSROLE_UNSCOPED"]
    assert [(v.severity, v.blocks) for v in found] == [(Severity.WARNING, False)]


def test_clean_least_privilege_policy_passes(catalog: Catalog) -> None:
    subject = policy(
        allow(["s3:GetObject", "s3:PutObject"], f"{BUCKET}/*", Condition=REGION),
        allow("s3:ListBucket", BUCKET, Condition=REGION),
        allow(
            "iam:PassRole",
            ROLE,
            Condition={"StringEquals": {**LAMBDA["StringEquals"], **REGION["StringEquals"]}},
        ),
    )
    config = GuardrailConfig(
        blocked_actions=("s3:DeleteBucket",),
        disallowed_services=("gamelift",),
        required_conditions=("aws:RequestedRegion",),
    )
    assert check(subject, catalog, config) == ()
