"""Generation reads each stored call as `alpha.usage.authorisations` does (issue 10): `*` for
an action requiring no resource type is granted on `*`, unknown resources are reported as not
checked, and calls ALPHA cannot map keep today's grants of their service unless told not to."""

from __future__ import annotations

import pytest

from alpha.generate import GenerateError
from alpha.policy.model import ResourceList
from alpha.usage.authorisations import unmapped_action
from tests.generate.factories import ACCOUNT, ALLOW_ALL, row, single_role
from tests.generate.test_generator import allows, propose

S3_READ = {"Effect": "Allow", "Action": ["s3:Get*", "s3:List*"], "Resource": "*"}
RDS_DATA = unmapped_action("rdsdata.amazonaws.com", "SomeNewCall")


def test_an_action_with_only_optional_resource_types_is_granted_on_star() -> None:
    proposal = propose(single_role(ALLOW_ALL), [row("cloudwatch:PutMetricData", "*")])
    assert allows(proposal, "cloudwatch:PutMetricData", "*")
    assert proposal.replay.observed == proposal.replay.allowed == 1
    assert not proposal.replay.unchecked


def test_an_unknown_resource_is_narrowed_to_its_type_and_reported_unchecked() -> None:
    proposal = propose(single_role(ALLOW_ALL), [row("athena:StartQueryExecution", "*")])
    group = f"arn:aws:athena:eu-west-1:{ACCOUNT}:workgroup/primary"
    assert allows(proposal, "athena:StartQueryExecution", group)
    (unchecked,) = proposal.replay.unchecked
    assert unchecked.action == "athena:StartQueryExecution"
    assert "do not name the resource" in unchecked.reason


def test_a_principal_whose_only_calls_are_unmapped_keeps_that_services_grants() -> None:
    snap = single_role(ALLOW_ALL, S3_READ)
    proposal = propose(snap, [row(RDS_DATA, "*", 4)])
    assert allows(proposal, "rds-data:ExecuteStatement", "arn:aws:rds:eu-west-1:1:cluster:x")
    assert not allows(proposal, "s3:GetObject", "arn:aws:s3:::b/k")
    (unchecked,) = proposal.replay.unchecked
    assert unchecked.count == 4
    assert "rdsdata.amazonaws.com SomeNewCall" in unchecked.reason
    assert "rds-data grants are kept" in unchecked.reason
    kept = [s for s in proposal.proposed_policy.statements if "rds-data:*" in s.action.patterns]
    assert kept
    assert isinstance(kept[0].resource, ResourceList)


def test_kept_grants_keep_the_services_own_patterns() -> None:
    proposal = propose(
        single_role(S3_READ),
        [
            row("s3:GetObject", "arn:aws:s3:::b/k"),
            row(unmapped_action("s3.amazonaws.com", "NewThing"), "*"),
        ],
    )
    assert allows(proposal, "s3:ListBucket", "arn:aws:s3:::other")
    assert not allows(proposal, "s3:PutObject", "arn:aws:s3:::b/k")


def test_told_not_to_keep_them_generation_says_which_calls_it_could_not_map() -> None:
    with pytest.raises(GenerateError, match=r"rdsdata\.amazonaws\.com SomeNewCall"):
        propose(single_role(ALLOW_ALL), [row(RDS_DATA, "*")], keep_unmapped=False)
    proposal = propose(
        single_role(ALLOW_ALL),
        [row("s3:GetObject", "arn:aws:s3:::b/k"), row(RDS_DATA, "*")],
        keep_unmapped=False,
    )
    assert not allows(proposal, "rds-data:ExecuteStatement", "arn:aws:rds:eu-west-1:1:cluster:x")
    (unchecked,) = proposal.replay.unchecked
    assert "dropped" in unchecked.reason
