"""The whole loop against an AWS account, as a user runs it (moto in server mode over HTTP):
usage read from CloudTrail in S3, the account read live, proposals kept in DynamoDB, approval
by another person, two rollouts baking on logs that arrive over time: one kept, one rolled back
on the AccessDenied its canary caused; moto's IAM checked after each, and what the bakes
measured published to CloudWatch (the proposals were made from a live account)."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest

from tests.cli.test_live_iam import SHARED, T0, at, calls, make_roles, role_state
from tests.cli.workflow_helpers import alpha
from tests.fakes.cloudtrail_logs import ACCOUNT, delivery_folder, record, write_log
from tests.moto_iam import iam_client

pytestmark = pytest.mark.slow

BUCKET = "org-trail"


def upload(s3: Any, folder: Path, prefix: str) -> None:
    for path in sorted(folder.rglob("*.json")):
        s3.put_object(
            Bucket=BUCKET, Key=f"{prefix}/{path.relative_to(folder)}", Body=path.read_bytes()
        )


@pytest.fixture
def account(iam_endpoint: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    client = iam_client(iam_endpoint)
    make_roles(client)
    s3 = boto3.client("s3", endpoint_url=iam_endpoint, region_name="us-east-1")
    s3.create_bucket(Bucket=BUCKET)
    usage = tmp_path / "usage"
    for role in ("app", "batch"):
        write_log(
            delivery_folder(usage, "2024-03-09") / f"{role}.json",
            calls(role, T0 - timedelta(days=1), 12),
        )
    upload(s3, usage, "usage")
    monkeypatch.chdir(tmp_path)
    for service in ("IAM", "STS", "S3", "DYNAMODB", "CLOUDWATCH"):
        monkeypatch.setenv(f"AWS_ENDPOINT_URL_{service}", iam_endpoint)
    for name in ("ALPHA_CONFIG", "ALPHA_USER", "ALPHA_IAM", "ALPHA_MONITOR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ALPHA_STORE", "dynamodb://alpha-e2e")
    monkeypatch.setenv("ALPHA_STORE_REPLAY", "true")  # the store replays the logs' past
    monkeypatch.setenv("ALPHA_LOGS", f"s3://{BUCKET}/bake/")
    monkeypatch.setenv("ALPHA_BAKE", "1h")
    return client, s3, tmp_path


def deliver_bake_logs(s3: Any, folder: Path, denied_role: str) -> None:
    """The day after the rollouts, as CloudTrail delivers it: each role calls what it used;
    `denied_role` also calls what its proposal removed, and is denied."""
    for role in ("app", "batch"):
        records = calls(role, T0, 24)
        if role == denied_role:
            records.append(
                record("SendMessage", "sqs.amazonaws.com", role=role, error="AccessDenied",
                       time=(T0 + timedelta(minutes=30)).strftime("%Y-%m-%dT%H:%M:%SZ"))
            )  # fmt: skip
        write_log(delivery_folder(folder, "2024-03-10") / f"{role}.json", records)
    upload(s3, folder, "bake")


def test_the_loop_on_aws_keeps_one_rollout_and_rolls_one_back(account: Any) -> None:
    client, s3, folder = account
    before = {role: role_state(client, role) for role in ("app", "batch")}
    proposed = alpha(
        "propose", "--account", "aws", "--usage", f"s3://{BUCKET}/usage/", "--all",
        "--by", "dana", "--now", at(-2), "--format", "json",
    )  # fmt: skip
    assert proposed.code == 0, proposed.err
    ids = {p["principal"].rsplit("/", 1)[1]: p["id"] for p in proposed.json()["proposals"]}
    assert set(ids) == {"app", "batch"}
    tables = boto3.client("dynamodb", region_name="us-east-1").list_tables()["TableNames"]
    assert "alpha-e2e-approvals" in tables
    for proposal_id in ids.values():
        assert alpha("approve", proposal_id, "--by", "dana", "--now", at(-1)).code == 2
        assert alpha("approve", proposal_id, "--by", "sam", "--now", at(-1)).code == 0
    approvals = boto3.client("dynamodb", region_name="us-east-1").scan(
        TableName="alpha-e2e-approvals"
    )["Items"]
    assert {(i["proposal_id"]["S"], i["approver"]["S"]) for i in approvals} == {
        (ids["app"], "sam"),
        (ids["batch"], "sam"),
    }

    deliver_bake_logs(s3, folder / "bake", denied_role="batch")
    kept = alpha("rollout", ids["app"], "--now", at(0), "--format", "json")
    assert kept.code == 0, kept.err
    assert kept.json()[0]["state"] == "succeeded", kept.json()
    rolled = alpha("rollout", ids["batch"], "--now", at(0), "--format", "json")
    assert rolled.json()[0]["state"] == "rolled_back", rolled.json()

    app = role_state(client, "app")
    assert list(app["inline"]) == ["alpha-least-privilege"]
    assert (app["attached"], app["boundary"]) == ([], None)
    assert role_state(client, "batch") == before["batch"]  # canary rolled back, exactly
    assert SHARED in role_state(client, "batch")["attached"]

    metrics = boto3.client("cloudwatch", region_name="us-east-1").list_metrics(
        Namespace="ALPHA/IAM"
    )["Metrics"]
    measured = {(m["MetricName"], d["Value"]) for m in metrics for d in m["Dimensions"]}
    assert ("BakeCalls", f"arn:aws:iam::{ACCOUNT}:role/app") in measured, json.dumps(metrics)
