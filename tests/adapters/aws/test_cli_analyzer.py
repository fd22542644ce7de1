"""`alpha propose --engine access-analyzer` and `alpha generate --engine access-analyzer` as a
user runs them, Access Analyzer routed to the wire fake by AWS_ENDPOINT_URL_ACCESSANALYZER:
placeholders filled from usage or reported, the same never-widen proof, replay and
guardrails as ALPHA's own, the disagreements between the engines, and AWS's own
CheckNoNewAccess and ValidatePolicy recorded beside them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.adapters.aws.cli_sample import ROLE, propose, stored
from tests.cli.workflow_helpers import alpha
from tests.wire.access_analyzer import FakeAccessAnalyzer, running_analyzer

TRAIL = "arn:aws:cloudtrail:eu-west-1:111122223333:trail/management"
ACCESS_ROLE = "arn:aws:iam::111122223333:role/AccessAnalyzerCloudTrail"
TABLE = "arn:${Partition}:dynamodb:${Region}:${Account}:table/${TableName}"


def generated(*extra: dict[str, Any]) -> dict[str, Any]:
    """What Access Analyzer writes for orders-api: ARN templates where CloudTrail does not
    say the resource, an action ALPHA does not grant, and one template no call fits."""
    statements = [
        {"Effect": "Allow", "Action": ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query"],
         "Resource": TABLE},
        {"Effect": "Allow", "Action": "s3:GetObject",
         "Resource": "arn:${Partition}:s3:::${BucketName}/${ObjectName}"},
        {"Effect": "Allow", "Action": "s3:ListBucket",
         "Resource": "arn:${Partition}:s3:::${BucketName}"},
        {"Effect": "Allow", "Action": "logs:DescribeLogGroups", "Resource": "*"},
        *extra,
    ]  # fmt: skip
    return {"Version": "2012-10-17", "Statement": statements}


@pytest.fixture
def analyzer(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeAccessAnalyzer]:
    with running_analyzer(generated={ROLE: [generated()]}, polls_before_done=0) as fake:
        monkeypatch.setenv("AWS_ENDPOINT_URL_ACCESSANALYZER", fake.endpoint_url)
        monkeypatch.setenv("ALPHA_ANALYZER_TRAIL", TRAIL)
        monkeypatch.setenv("ALPHA_ANALYZER_ROLE", ACCESS_ROLE)
        yield fake


def test_propose_with_access_analyzer_records_both_engines_and_the_proofs(
    sample: Path, analyzer: FakeAccessAnalyzer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ALPHA_ANALYZER_CHECKS", "true")
    analyzer.findings = [
        {"findingType": "SUGGESTION", "issueCode": "EMPTY_ARRAY_RESOURCE",
         "findingDetails": "Remove the empty array", "learnMoreLink": "https://docs.aws.amazon.com/"},
    ]  # fmt: skip
    ran = propose(sample, "--engine", "access-analyzer")
    assert ran.code == 0, ran.out
    (made,) = ran.json()["proposals"]
    document = stored(made["id"])
    engine = document["engine"]

    policy = document["proposed_policy"]["Statement"]
    resources = {r for s in policy for r in _listed(s["Resource"])}
    assert "arn:aws:dynamodb:eu-west-1:111122223333:table/orders" in resources
    assert "arn:aws:s3:::shop-config/orders/app.json" in resources
    assert not any("${" in r for r in resources)
    outcomes = {p["template"]: p["outcome"] for p in engine["placeholders"]}
    assert outcomes["arn:aws:s3:::${BucketName}"] == "left out"
    assert outcomes[TABLE.replace("${Partition}", "aws")] == "filled"

    assert "logs:DescribeLogGroups" in engine["disagreements"]["only_access_analyzer"]
    assert "s3:ListBucket" in engine["disagreements"]["only_alpha"]
    assert engine["proofs"]["alpha_never_widen"] == {"result": "no new access"}
    assert engine["proofs"]["access_analyzer_check_no_new_access"]["result"] == "PASS"
    assert [f["issue_code"] for f in engine["validation"]] == ["EMPTY_ARRAY_RESOURCE"]
    assert document["replay"]["observed"] == document["replay"]["allowed"] == 5
    (check,) = analyzer.checks
    assert check["type"] == "IDENTITY_POLICY"
    (job,) = analyzer.jobs.values()
    assert job.details["accessRole"] == ACCESS_ROLE

    shown = " ".join(alpha("proposals", "show", made["id"]).out.split())  # lines wrap
    assert "only Access Analyzer grants logs:DescribeLogGroups" in shown
    assert "proof access_analyzer_check_no_new_access: PASS" in shown


def test_a_validate_policy_error_blocks_approval(
    sample: Path, analyzer: FakeAccessAnalyzer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ALPHA_ANALYZER_CHECKS", "true")
    analyzer.findings = [
        {"findingType": "ERROR", "issueCode": "INVALID_ARN_RESOURCE",
         "findingDetails": "The resource ARN is not valid", "learnMoreLink": ""},
    ]  # fmt: skip
    ran = propose(sample, "--engine", "access-analyzer")
    assert ran.code == 1, ran.err
    (made,) = ran.json()["proposals"]
    assert made["blocked"]
    codes = {v["code"]: v["blocks"] for v in made["guardrail_violations"]}
    assert codes["VALIDATE_INVALID_ARN_RESOURCE"] is True


def test_a_policy_wider_than_today_is_never_proposed(
    sample: Path, analyzer: FakeAccessAnalyzer
) -> None:
    analyzer.generated[ROLE] = [
        generated({"Effect": "Allow", "Action": "iam:PassRole", "Resource": "*"})
    ]
    ran = propose(sample, "--engine", "access-analyzer")
    assert ran.code == 0, ran.err
    result = ran.json()
    assert result["proposals"] == []
    (failure,) = result["failures"]
    assert "would grant more than today's policies (it allows iam:PassRole" in failure["reason"]


def test_generate_shows_the_engines_differences_without_aws_checks(
    sample: Path, analyzer: FakeAccessAnalyzer
) -> None:
    ran = alpha(
        "generate", "--principal", ROLE, "--usage", "cloudtrail", "--account", sample.name,
        "--engine", "access-analyzer", "--store", "usage.duckdb",
    )  # fmt: skip
    assert ran.code == 0, ran.err
    shown = " ".join(ran.out.split())  # lines wrap at the terminal's width
    assert "engine: access-analyzer" in shown
    assert "only ALPHA grants s3:ListBucket" in shown
    assert "proof access_analyzer_check_no_new_access: not run" in shown
    assert not analyzer.checks


def test_the_daily_quota_ends_the_run_with_one_line(
    sample: Path, analyzer: FakeAccessAnalyzer
) -> None:
    analyzer.daily_quota = 0
    ran = propose(sample, "--engine", "access-analyzer")
    assert ran.code == 2
    assert "daily quota of policy generations for this account is reached" in ran.err
    assert len(ran.err.strip().splitlines()) == 1


def test_the_engine_without_a_trail_says_what_to_set(
    sample: Path, analyzer: FakeAccessAnalyzer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ALPHA_ANALYZER_TRAIL")
    ran = propose(sample, "--engine", "access-analyzer")
    assert ran.code == 2
    assert "ALPHA_ANALYZER_TRAIL and ALPHA_ANALYZER_ROLE" in ran.err
    assert not analyzer.jobs


def _listed(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else value
