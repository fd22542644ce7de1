"""The SAM template: cfn-lint accepts it, it deploys the definition `to_asl()` generates, every
handler it names exists, every policy passes `alpha lint --guardrails`, and each function's
role allows exactly the calls its handler makes (checked with ALPHA's own evaluator)."""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path
from typing import Any

import pytest

from alpha.lambdas.handlers import HANDLERS
from alpha.policy.evaluate import PolicySet, Request, compile_policy_set
from alpha.policy.parse import parse_policy
from alpha.rollout.asl import FUNCTIONS
from tests.cli.helpers import run_cli
from tests.deploy.template_model import ACCOUNT, DEPLOY, REGION, TEMPLATE, Resolved, load_template

ROLLOUT_GUARDRAILS = DEPLOY / "guardrails-rollout.toml"
# The two policies that must change roles: linted with PRIVILEGE_ESCALATION as a warning.
CHANGING = {"AlphaBoundary", "ChangeScopePolicy"}


@pytest.fixture(scope="module")
def template() -> Resolved:
    return Resolved(load_template())


def _functions(template: Resolved) -> dict[str, dict[str, Any]]:
    return template.of_type("AWS::Serverless::Function")


def test_cfn_lint_accepts_the_template() -> None:
    from cfnlint.api import lint_file  # type: ignore[import-untyped]

    assert [str(match) for match in lint_file(TEMPLATE)] == []


def test_the_committed_definition_is_the_generated_one(template: Resolved) -> None:
    sys.path.insert(0, str(DEPLOY))
    try:
        generator = importlib.import_module("generate_definition")
    finally:
        sys.path.remove(str(DEPLOY))
    uri = template.resources["Workflow"]["Properties"]["DefinitionUri"]
    committed = (DEPLOY / uri).read_text(encoding="utf-8")
    assert committed == generator.definition_text(), "run: python deploy/generate_definition.py"


def test_the_tables_are_the_dynamodb_stores_own(template: Resolved) -> None:
    """The store finds its tables made (name, keys), so the functions never create them."""
    from alpha.adapters.aws.dynamodb_schema import TABLES

    prefix = template.values["StorePrefix"]
    made = {
        template.resolve(props["TableName"]): (
            props["KeySchema"],
            sorted(props["AttributeDefinitions"], key=lambda d: d["AttributeName"]),
        )
        for props in template.of_type("AWS::DynamoDB::Table").values()
    }
    for spec in TABLES:
        definitions = sorted(spec.attribute_definitions(), key=lambda d: d["AttributeName"])
        assert made.pop(spec.name(prefix)) == (spec.key_schema(), definitions), spec.suffix
    assert list(made) == [f"{prefix}-idempotency"]  # Powertools' own


def test_every_handler_named_exists_and_each_task_has_its_function(template: Resolved) -> None:
    functions = _functions(template)
    for logical, props in functions.items():
        module, _, name = props["Handler"].rpartition(".")
        assert callable(getattr(importlib.import_module(module), name)), logical
    substitutions = template.resources["Workflow"]["Properties"]["DefinitionSubstitutions"]
    assert set(substitutions) == {f"{name}FunctionArn" for name in FUNCTIONS}
    for name in FUNCTIONS:
        target = substitutions[f"{name}FunctionArn"]["Fn::GetAtt"][0]
        assert functions[target]["Handler"] == HANDLERS[name], name


def _policies(template: Resolved) -> dict[str, dict[str, Any]]:
    found = {
        name: template.resolve(props["PolicyDocument"])
        for name, props in template.of_type("AWS::IAM::ManagedPolicy").items()
    }
    for role, props in template.of_type("AWS::IAM::Role").items():
        for inline in props.get("Policies", []):
            found[f"{role}-{inline['PolicyName']}"] = template.resolve(inline["PolicyDocument"])
    return found


def _lint(paths: list[Path], capsys: pytest.CaptureFixture[str], *options: str) -> tuple[int, str]:
    code, out, err = run_cli(["lint", "--guardrails", *options, *map(str, paths)], capsys)
    return code, out + err


def test_every_policy_passes_the_guardrails(
    template: Resolved, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    written: dict[str, Path] = {}
    for name, document in _policies(template).items():
        written[name] = tmp_path / f"{name}.json"
        written[name].write_text(json.dumps(document))
    plain = [p for n, p in written.items() if n not in CHANGING]
    assert _lint(plain, capsys) == (0, _lint(plain, capsys)[1])
    changing = [written[n] for n in sorted(CHANGING)]
    code, out = _lint(changing, capsys, "--config", str(ROLLOUT_GUARDRAILS))
    assert code == 0, out
    # Only the escalation the rollout exists for is let through, and only as a warning.
    strict_code, strict = _lint(changing, capsys)
    assert strict_code == 1
    assert {line.split()[2] for line in strict.splitlines() if " error " in line} == {
        "PRIVILEGE_ESCALATION:"
    }
    topic = tmp_path / "topic.json"
    topic_policy = template.resources["NotificationsTopicPolicy"]["Properties"]["PolicyDocument"]
    topic.write_text(json.dumps(template.resolve(topic_policy)))
    assert _lint([topic], capsys, "--kind", "resource")[0] == 0


# -- Each role allows exactly its handler's calls ------------------------------------------
def _table(name: str) -> str:
    return f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/alpha-{name}"


def _calls(*groups: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [call for group in groups for call in group]


TRAIL_BUCKET = "arn:aws:s3:::my-cloudtrail-bucket"
# ALIGN (lead): the DynamoDB store adapter's calls; these are the Store port's operations
# (reads by key and by proposal, conditional writes, lease release).
STORE = [
    (action, _table(table))
    for table in ("proposals", "approvals", "stages", "journal", "audit", "copies", "leases")
    for action in (
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
        "dynamodb:Query",
    )
] + [
    (action, _table("idempotency"))  # Powertools idempotency
    for action in (
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
    )
]
LOGS = [
    (action, f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda/alpha-Propose:log-stream:s")
    for action in ("logs:CreateLogStream", "logs:PutLogEvents")
]
TRAIL = [
    ("s3:ListBucket", TRAIL_BUCKET),
    ("s3:GetObject", f"{TRAIL_BUCKET}/AWSLogs/{ACCOUNT}/CloudTrail/us-east-1/2026/01/01/x.json.gz"),
]
ACCOUNT_READ = [("iam:GetAccountAuthorizationDetails", "*")]
MODEL = [
    (
        "bedrock:InvokeModel",
        f"arn:aws:bedrock:{REGION}::foundation-model/anthropic.claude-3-5-haiku-20241022-v1:0",
    )
]
SCOPED_ROLE = f"arn:aws:iam::{ACCOUNT}:role/workloads/orders-api"
# ALIGN (lead): the live IamChanger's calls (issue 12) for reading and changing a role.
CHANGE = [
    (action, SCOPED_ROLE)
    for action in (
        "iam:GetRole",
        "iam:GetRolePolicy",
        "iam:ListRolePolicies",
        "iam:ListAttachedRolePolicies",
        "iam:PutRolePolicy",
        "iam:DeleteRolePolicy",
        "iam:AttachRolePolicy",
        "iam:DetachRolePolicy",
        "iam:PutRolePermissionsBoundary",
        "iam:DeleteRolePermissionsBoundary",
    )
] + [
    ("iam:GetPolicy", "arn:aws:iam::aws:policy/ReadOnlyAccess"),
    ("iam:GetPolicyVersion", f"arn:aws:iam::{ACCOUNT}:policy/team/orders"),
    ("iam:CreatePolicy", f"arn:aws:iam::{ACCOUNT}:policy/alpha/orders-api-least"),
    ("iam:DeletePolicy", f"arn:aws:iam::{ACCOUNT}:policy/alpha/orders-api-least"),
]
WORKFLOW = [
    ("lambda:InvokeFunction", f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:alpha-{name}")
    for name in FUNCTIONS
] + [
    ("states:StartExecution", f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:alpha-workflow"),
    ("states:DescribeExecution", f"arn:aws:states:{REGION}:{ACCOUNT}:execution:alpha-workflow/m:1"),
    ("states:StopExecution", f"arn:aws:states:{REGION}:{ACCOUNT}:execution:alpha-workflow/m:1"),
]
CALLS = {
    "FindRole": _calls(STORE, LOGS, TRAIL, ACCOUNT_READ),
    "ProposeRole": _calls(STORE, LOGS, TRAIL, ACCOUNT_READ, MODEL),
    "StoreOnlyRole": _calls(STORE, LOGS),
    "SandboxRole": _calls(STORE, LOGS, TRAIL),
    "RolloutRole": _calls(STORE, LOGS, TRAIL, CHANGE),
    "RollbackRole": _calls(STORE, LOGS, CHANGE),
    "StatesRole": WORKFLOW,
}
# What no role may do, whatever its policies say.
NEVER = [
    ("iam:PutRolePolicy", f"arn:aws:iam::{ACCOUNT}:role/alpha-self/RolloutRole"),
    ("iam:AttachRolePolicy", f"arn:aws:iam::{ACCOUNT}:role/alpha-self/ProposeRole"),
    ("iam:DeleteRolePermissionsBoundary", f"arn:aws:iam::{ACCOUNT}:role/alpha-self/RolloutRole"),
    ("iam:PutRolePolicy", f"arn:aws:iam::{ACCOUNT}:role/other/payments"),
    ("iam:AttachRolePolicy", f"arn:aws:iam::{ACCOUNT}:role/admin"),
    ("iam:DeletePolicy", f"arn:aws:iam::{ACCOUNT}:policy/alpha-self/ChangeScopePolicy"),
    ("iam:CreatePolicyVersion", f"arn:aws:iam::{ACCOUNT}:policy/alpha/orders-api-least"),
    ("iam:PassRole", SCOPED_ROLE),
    ("iam:UpdateAssumeRolePolicy", SCOPED_ROLE),
    ("iam:CreateAccessKey", f"arn:aws:iam::{ACCOUNT}:user/someone"),
    ("sts:AssumeRole", SCOPED_ROLE),
    ("dynamodb:DeleteTable", _table("audit")),
    ("s3:PutObject", f"{TRAIL_BUCKET}/AWSLogs/x"),
    ("lambda:UpdateFunctionCode", f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:alpha-Canary"),
]


def _evaluator(template: Resolved, role: str) -> Any:
    boundary = template.boundary(role)
    return compile_policy_set(
        PolicySet(
            identity=tuple(parse_policy(p, role) for p in template.identity_policies(role)),
            boundary=None if boundary is None else parse_policy(boundary, "boundary"),
        )
    )


def _request(action: str, resource: str) -> Request:
    context = {"s3:prefix": ("AWSLogs/123456789012/",)} if action == "s3:ListBucket" else {}
    return Request(action, resource, context)


def test_every_function_role_is_listed(template: Resolved) -> None:
    roles = {p["Role"]["Fn::GetAtt"][0] for p in _functions(template).values()}
    assert roles | {"StatesRole"} == set(CALLS) == set(template.of_type("AWS::IAM::Role"))


@pytest.mark.parametrize("role", sorted(CALLS))
def test_each_role_allows_its_handlers_calls(template: Resolved, role: str) -> None:
    evaluator = _evaluator(template, role)
    refused = [c for c in CALLS[role] if not evaluator.evaluate(_request(*c)).allowed]
    assert refused == []


@pytest.mark.parametrize("role", sorted(CALLS))
def test_each_role_allows_no_action_its_handlers_do_not_call(template: Resolved, role: str) -> None:
    granted = {
        action.lower()
        for document in template.identity_policies(role)
        for statement in document["Statement"]
        if statement["Effect"] == "Allow"
        for action in (
            statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        )
    }
    assert granted == {action.lower() for action, _ in CALLS[role]}


@pytest.mark.parametrize("role", sorted(CALLS))
@pytest.mark.parametrize("call", NEVER, ids=lambda c: f"{c[0]}-{c[1].rsplit(':', 1)[-1]}")
def test_no_role_escalates_or_touches_alpha_itself(
    template: Resolved, role: str, call: tuple[str, str]
) -> None:
    assert not _evaluator(template, role).evaluate(_request(*call)).allowed


def test_the_rollout_boundary_refuses_escalation_even_if_a_policy_allowed_it(
    template: Resolved,
) -> None:
    everything = parse_policy(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
        }
    )
    boundary = template.boundary("RolloutRole")
    assert boundary is not None
    evaluator = compile_policy_set(PolicySet((everything,), parse_policy(boundary, "boundary")))
    assert [c for c in NEVER if evaluator.evaluate(_request(*c)).allowed] == []
    assert evaluator.evaluate(_request("iam:PutRolePolicy", SCOPED_ROLE)).allowed
