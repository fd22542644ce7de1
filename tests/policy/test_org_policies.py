from __future__ import annotations

import pytest

from alpha.policy.evaluate import Decision, PolicySet, Request, compile_policy_set
from alpha.policy.org_policies import LevelKind, OrgGuardrails, OrgPolicy, PolicyLevel
from alpha.policy.parse import parse_policy

FULL = OrgPolicy(
    "p-FullAWSAccess",
    "FullAWSAccess",
    parse_policy(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
        }
    ),
)
S3_ONLY = OrgPolicy(
    "p-s3only",
    "S3Only",
    parse_policy(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}],
        }
    ),
)
NO_DELETE = OrgPolicy(
    "p-nodelete",
    "NoBucketDelete",
    parse_policy(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Action": "*", "Resource": "*"},
                {"Effect": "Deny", "Action": "s3:DeleteBucket", "Resource": "*"},
            ],
        }
    ),
)
ROOT = PolicyLevel(LevelKind.ROOT, "r-ab12", "Root", (FULL,))
PROD = PolicyLevel(LevelKind.OU, "ou-ab12-prod0001", "Prod", (S3_ONLY, NO_DELETE))
ACCOUNT = PolicyLevel(LevelKind.ACCOUNT, "222222222222", "prod", (S3_ONLY,))
ADMIN = parse_policy(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
)


@pytest.mark.parametrize(
    ("action", "decision"),
    [
        ("s3:GetObject", Decision.ALLOWED),
        ("ec2:RunInstances", Decision.IMPLICITLY_DENIED),  # the account level allows only s3
        ("s3:DeleteBucket", Decision.EXPLICITLY_DENIED),
    ],
)
def test_every_level_must_allow(action: str, decision: Decision) -> None:
    guardrails = OrgGuardrails(scps=(ROOT, PROD, ACCOUNT))
    evaluator = compile_policy_set(PolicySet((ADMIN,), scps=guardrails.scp_documents()))
    assert evaluator.evaluate(Request(action, "*")).decision is decision


def test_a_merged_statement_is_traced_to_its_policy_and_level() -> None:
    guardrails = OrgGuardrails(scps=(ROOT, PROD, ACCOUNT))
    evaluator = compile_policy_set(PolicySet((ADMIN,), scps=guardrails.scp_documents()))
    (deny,) = evaluator.evaluate(Request("s3:DeleteBucket", "*")).statements
    origin = guardrails.scps[deny.policy].origin(deny.statement)
    assert (
        origin.describe("SCP")
        == "SCP 'NoBucketDelete' (p-nodelete) at OU 'Prod' (ou-ab12-prod0001)"
    )


def test_no_levels_limit_nothing() -> None:
    assert OrgGuardrails().empty
    assert OrgGuardrails().scp_documents() == ()
