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
    def __init__(self, template: dict[str, Any]) -> None:
        self.template = template
        self.resources: dict[str, Any] = template["Resources"]
        self.values = {
            "AWS::Region": REGION,
            "AWS::AccountId": ACCOUNT,
            **{k: str(v.get("Default", "")) for k, v in template["Parameters"].items()},
        }

    def arn_of(self, logical_id: str) -> str:
        resource = self.resources[logical_id]
        kind, props = resource["Type"], resource.get("Properties", {})
        if kind == "AWS::IAM::ManagedPolicy":
            return f"arn:aws:iam::{ACCOUNT}:policy{props.get('Path', '/')}{logical_id}"
        if kind == "AWS::IAM::Role":
            return f"arn:aws:iam::{ACCOUNT}:role{props.get('Path', '/')}{logical_id}"
        if kind == "AWS::Serverless::Function":
            name = self.resolve(props["FunctionName"])
            return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"
        if kind == "AWS::SNS::Topic":
            return f"arn:aws:sns:{REGION}:{ACCOUNT}:{self.resolve(props['TopicName'])}"
        if kind == "AWS::Events::Rule":
            return f"arn:aws:events:{REGION}:{ACCOUNT}:rule/{logical_id}"
        if kind == "AWS::Serverless::StateMachine":
            return f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:{self.resolve(props['Name'])}"
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
        return self.arn_of(name)

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
