"""The SAM template read as CloudFormation would deploy it in a test account: parameters at
their defaults, `!Sub`, `!Ref` and `!GetAtt` resolved, so its policies can be linted and
evaluated like any other policy."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
TEMPLATE = DEPLOY / "template.yaml"
REGION, ACCOUNT = "us-east-1", "123456789012"


def load_template() -> dict[str, Any]:
    from cfnlint.decode import cfn_yaml  # type: ignore[import-untyped]

    loaded: dict[str, Any] = cfn_yaml.load(str(TEMPLATE))
    return loaded


class Resolved:
    def __init__(self, template: dict[str, Any], account: str = ACCOUNT) -> None:
        self.template = template
        self.account = account
        self.resources: dict[str, Any] = template["Resources"]
        self.values = {
            "AWS::Region": REGION,
            "AWS::AccountId": account,
            **{k: str(v.get("Default", "")) for k, v in template["Parameters"].items()},
        }

    def arn_of(self, logical_id: str) -> str:
        resource = self.resources[logical_id]
        kind, props = resource["Type"], resource.get("Properties", {})
        if kind == "AWS::IAM::ManagedPolicy":
            return f"arn:aws:iam::{self.account}:policy{props.get('Path', '/')}{logical_id}"
        if kind == "AWS::IAM::Role":
            return f"arn:aws:iam::{self.account}:role{props.get('Path', '/')}{logical_id}"
        where = f"{REGION}:{self.account}"
        if kind == "AWS::Serverless::Function":
            return f"arn:aws:lambda:{where}:function:{self.resolve(props['FunctionName'])}"
        if kind == "AWS::SNS::Topic":
            return f"arn:aws:sns:{where}:{self.resolve(props['TopicName'])}"
        if kind == "AWS::Events::Rule":
            return f"arn:aws:events:{where}:rule/{logical_id}"
        if kind == "AWS::DynamoDB::Table":
            return f"arn:aws:dynamodb:{where}:table/{self.resolve(props['TableName'])}"
        if kind == "AWS::Serverless::StateMachine":
            return f"arn:aws:states:{where}:stateMachine:{self.resolve(props['Name'])}"
        raise AssertionError(f"no ARN rule for {kind}")

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        if not isinstance(value, dict):
            return value
        if set(value) == {"Fn::Sub"}:
            return re.sub(r"\$\{([^}]+)\}", lambda m: self._named(m.group(1)), value["Fn::Sub"])
        if set(value) == {"Ref"}:
            return self._named(value["Ref"])
        if set(value) == {"Fn::GetAtt"}:
            target, _ = value["Fn::GetAtt"]
            return self.arn_of(target)
        return {k: self.resolve(v) for k, v in value.items()}

    def _named(self, name: str) -> str:
        if name in self.values:
            return self.values[name]
        resource = self.resources[name]
        if resource["Type"] in ("AWS::DynamoDB::Table",):  # Ref gives the name
            return str(self.resolve(resource["Properties"]["TableName"]))
        return self.arn_of(name)

    def function_environment(self) -> dict[str, str]:
        """What every function's environment holds (the template's Globals), resolved."""
        variables = self.template["Globals"]["Function"]["Environment"]["Variables"]
        return {name: str(self.resolve(value)) for name, value in variables.items()}

    def of_type(self, kind: str) -> dict[str, dict[str, Any]]:
        return {k: v.get("Properties", {}) for k, v in self.resources.items() if v["Type"] == kind}

    def managed_policy(self, arn: str) -> dict[str, Any]:
        logical = arn.rsplit("/", 1)[1]
        document: dict[str, Any] = self.resolve(
            self.resources[logical]["Properties"]["PolicyDocument"]
        )
        return document

    def identity_policies(self, role: str) -> list[dict[str, Any]]:
        """The role's managed and inline policies, resolved."""
        props = self.resources[role]["Properties"]
        managed = [self.managed_policy(a) for a in self.resolve(props.get("ManagedPolicyArns", []))]
        inline = [self.resolve(p["PolicyDocument"]) for p in props.get("Policies", [])]
        return managed + inline

    def boundary(self, role: str) -> dict[str, Any] | None:
        arn = self.resolve(self.resources[role]["Properties"].get("PermissionsBoundary"))
        return None if arn is None else self.managed_policy(arn)

    def evaluator(self, role: str) -> Any:
        """ALPHA's own evaluator over the role's policies and its permissions boundary."""
        from alpha.policy.evaluate import PolicySet, compile_policy_set
        from alpha.policy.parse import parse_policy

        boundary = self.boundary(role)
        return compile_policy_set(
            PolicySet(
                identity=tuple(parse_policy(p, role) for p in self.identity_policies(role)),
                boundary=None if boundary is None else parse_policy(boundary, "boundary"),
            )
        )
