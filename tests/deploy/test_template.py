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
# The policies linted under ROLLOUT_GUARDRAILS, and the only errors each has without it: the
# two that change roles (their job). PutMetricData on "*" (the metric policies) is no error:
# its one resource type is optional, so a namespace's metrics can only be granted on "*"
# (WILDCARD_RESOURCE_ON_WRITE reports that as information).
EXCEPTED = {
    "AlphaBoundary": {"PRIVILEGE_ESCALATION:"},
    "ChangeScopePolicy": {"PRIVILEGE_ESCALATION:"},
}


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
    plain = [p for n, p in written.items() if n not in EXCEPTED]
    assert _lint(plain, capsys) == (0, _lint(plain, capsys)[1])
    for name, errors in EXCEPTED.items():
        code, out = _lint([written[name]], capsys, "--config", str(ROLLOUT_GUARDRAILS))
        assert code == 0, out
        # Only what the policy exists for is let through, and only as a warning.
        strict_code, strict = _lint([written[name]], capsys)
        assert strict_code == 1
        found = {line.split()[2] for line in strict.splitlines() if " error " in line}
        assert found == errors, name
    topic = tmp_path / "topic.json"
    topic_policy = template.resources["NotificationsTopicPolicy"]["Properties"]["PolicyDocument"]
    topic.write_text(json.dumps(template.resolve(topic_policy)))
    assert _lint([topic], capsys, "--kind", "resource")[0] == 0


# -- What no role may do --------------------------------------------------------------------
# (That each role allows exactly the calls its functions make is checked on the calls they
# really made: tests/deploy/test_end_to_end.py.)
def _table(name: str) -> str:
    return f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/alpha-{name}"


TRAIL_BUCKET = "arn:aws:s3:::my-cloudtrail-bucket"
SCOPED_ROLE = f"arn:aws:iam::{ACCOUNT}:role/workloads/orders-api"
ROLES = sorted(
    role
    for role, props in load_template()["Resources"].items()
    if props["Type"] == "AWS::IAM::Role"
)
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


def _request(action: str, resource: str) -> Request:
    context = {"s3:prefix": ("AWSLogs/123456789012/",)} if action == "s3:ListBucket" else {}
    return Request(action, resource, context)


def test_every_role_is_a_functions_or_the_state_machines(template: Resolved) -> None:
    roles = {p["Role"]["Fn::GetAtt"][0] for p in _functions(template).values()}
    assert roles | {"StatesRole"} == set(ROLES)
    assert all(template.boundary(role) is not None for role in ROLES)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("call", NEVER, ids=lambda c: f"{c[0]}-{c[1].rsplit(':', 1)[-1]}")
def test_no_role_escalates_or_touches_alpha_itself(
    template: Resolved, role: str, call: tuple[str, str]
) -> None:
    assert not template.evaluator(role).evaluate(_request(*call)).allowed


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
