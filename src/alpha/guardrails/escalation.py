"""Known IAM privilege escalation methods: actions, alone or together, that let a principal
give itself more permissions.

Compiled from public research, in our own words: Rhino Security Labs' "AWS IAM Privilege
Escalation – Methods and Mitigation" (the 21 original methods, and later additions such as
SageMaker notebooks) and the edges Principal Mapper (NCC Group) draws between principals
(EC2, Lambda, SageMaker, CloudFormation, CodeBuild, AutoScaling, SSM, STS).

How a requirement's resource scope counts:
- ANY: granted on any resource (a managed-policy version or a user is enough to escalate);
- CHOSEN: granted on a wildcard pattern, so the holder may pick the most privileged target.
  Passing one named role is a deliberate grant, not a free choice, so iam:PassRole counts only
  when its resource has a wildcard;
- ALL: granted on every resource (`*`), as for sts:AssumeRole.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from alpha.policy.patterns import has_wildcard

__all__ = ["ESCALATION_METHODS", "EscalationMethod", "Scope"]


class Scope(StrEnum):
    ANY = "any"
    CHOSEN = "chosen"
    ALL = "all"

    def satisfied_by(self, resources: tuple[str, ...]) -> bool:
        if self is Scope.ANY:
            return True
        if self is Scope.CHOSEN:
            return any(has_wildcard(r) for r in resources)
        return any(r in ("*", "arn:*") for r in resources)


@dataclass(frozen=True, slots=True)
class Requirement:
    action: str
    scope: Scope = Scope.ANY


@dataclass(frozen=True, slots=True)
class EscalationMethod:
    """All `requires` together let the holder escalate, as `how` explains."""

    requires: tuple[Requirement, ...]
    how: str

    @property
    def name(self) -> str:
        return " + ".join(r.action for r in self.requires)


def _method(how: str, *actions: str | Requirement) -> EscalationMethod:
    return EscalationMethod(
        tuple(a if isinstance(a, Requirement) else Requirement(a) for a in actions), how
    )


_PASS = Requirement("iam:PassRole", Scope.CHOSEN)
_RUNS_AS_ROLE = "runs code with the permissions of any role it is allowed to pass"

ESCALATION_METHODS: tuple[EscalationMethod, ...] = (
    # Changing what policies say or which policies apply.
    _method("can write a new default version of a managed policy", "iam:CreatePolicyVersion"),
    _method(
        "can make an older, possibly broader, policy version the default",
        "iam:SetDefaultPolicyVersion",
    ),
    _method("can attach any managed policy to a user", "iam:AttachUserPolicy"),
    _method("can attach any managed policy to a group", "iam:AttachGroupPolicy"),
    _method("can attach any managed policy to a role", "iam:AttachRolePolicy"),
    _method("can write an inline policy granting anything to a user", "iam:PutUserPolicy"),
    _method("can write an inline policy granting anything to a group", "iam:PutGroupPolicy"),
    _method("can write an inline policy granting anything to a role", "iam:PutRolePolicy"),
    _method("can join a more privileged group", "iam:AddUserToGroup"),
    _method(
        "can remove the permissions boundary that limits a role",
        "iam:DeleteRolePermissionsBoundary",
    ),
    _method(
        "can remove the permissions boundary that limits a user",
        "iam:DeleteUserPermissionsBoundary",
    ),
    # Becoming another principal.
    _method("can create access keys for another user", "iam:CreateAccessKey"),
    _method("can give another user a console password", "iam:CreateLoginProfile"),
    _method("can change another user's console password", "iam:UpdateLoginProfile"),
    _method(
        "can rewrite a role's trust policy to trust itself, then assume the role",
        "iam:UpdateAssumeRolePolicy",
        "sts:AssumeRole",
    ),
    _method(
        "can assume any role whose trust policy allows the account",
        Requirement("sts:AssumeRole", Scope.ALL),
    ),
    # Passing a role to a service that runs code chosen by the caller.
    _method(_RUNS_AS_ROLE, _PASS, "ec2:RunInstances"),
    _method(_RUNS_AS_ROLE, _PASS, "lambda:CreateFunction", "lambda:InvokeFunction"),
    _method(_RUNS_AS_ROLE, _PASS, "lambda:CreateFunction", "lambda:CreateEventSourceMapping"),
    _method(_RUNS_AS_ROLE, _PASS, "glue:CreateDevEndpoint"),
    _method(_RUNS_AS_ROLE, _PASS, "cloudformation:CreateStack"),
    _method(
        _RUNS_AS_ROLE, _PASS, "datapipeline:CreatePipeline", "datapipeline:PutPipelineDefinition"
    ),
    _method(
        _RUNS_AS_ROLE,
        _PASS,
        "sagemaker:CreateNotebookInstance",
        "sagemaker:CreatePresignedNotebookInstanceUrl",
    ),
    _method(_RUNS_AS_ROLE, _PASS, "sagemaker:CreateTrainingJob"),
    _method(_RUNS_AS_ROLE, _PASS, "sagemaker:CreateProcessingJob"),
    _method(_RUNS_AS_ROLE, _PASS, "ecs:RegisterTaskDefinition", "ecs:RunTask"),
    _method(_RUNS_AS_ROLE, _PASS, "codebuild:CreateProject", "codebuild:StartBuild"),
    _method(
        _RUNS_AS_ROLE,
        _PASS,
        "autoscaling:CreateLaunchConfiguration",
        "autoscaling:CreateAutoScalingGroup",
    ),
    # Taking over something that already runs with a role.
    _method(
        "can replace the code of a function that runs with a more privileged role",
        "lambda:UpdateFunctionCode",
    ),
    _method(
        "can get a shell on a Glue development endpoint and its role", "glue:UpdateDevEndpoint"
    ),
    _method(
        "can open an existing notebook instance and use its role",
        "sagemaker:CreatePresignedNotebookInstanceUrl",
    ),
    _method("can run commands on instances and use their roles", "ssm:SendCommand"),
    _method("can open a session on instances and use their roles", "ssm:StartSession"),
)
