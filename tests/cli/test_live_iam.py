"""The loop against live IAM, as a user runs it: roles and policies made in moto (server mode,
over HTTP, reached through AWS_ENDPOINT_URL_IAM / _STS with fake credentials), CloudTrail
written for those roles, `alpha propose --account aws`, approval by another person, `alpha
rollout` against bake logs, and moto's IAM checked after the rollout and after a rollback;
a role someone changes meanwhile stops its rollout; `alpha account export` writes the live
account as a file that reads back the same."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from alpha.adapters.local.authorization_details import read_authorization_details
from tests.cli.workflow_helpers import Ran, alpha
from tests.fakes.cloudtrail_logs import ACCOUNT, delivery_folder, record, write_log
from tests.moto_iam import MOTO_ACCOUNT, TRUST, iam_client

pytestmark = pytest.mark.slow

T0 = datetime(2024, 3, 10, 12, 0, tzinfo=UTC)
WIDE = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": ["s3:*", "sqs:*"], "Resource": "*"}],
}
SHARED = f"arn:aws:iam::{ACCOUNT}:policy/shared-read"
assert ACCOUNT == MOTO_ACCOUNT


def at(hours: float) -> str:
    return (T0 + timedelta(hours=hours)).isoformat()


def make_roles(client: Any) -> None:
    client.create_policy(PolicyName="shared-read", PolicyDocument=json.dumps(WIDE))
    for name in ("app", "batch"):
        client.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(TRUST))
        client.put_role_policy(
            RoleName=name, PolicyName="old-inline", PolicyDocument=json.dumps(WIDE)
        )
        client.attach_role_policy(RoleName=name, PolicyArn=SHARED)


def calls(role: str, start: datetime, hours: int) -> list[dict[str, Any]]:
    return [
        record(
            "GetObject",
            role=role,
            time=(start + timedelta(minutes=20 * i)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        )
        for i in range(hours * 3)
    ]


def role_state(client: Any, name: str) -> dict[str, Any]:
    inline = {
        p: client.get_role_policy(RoleName=name, PolicyName=p)["PolicyDocument"]
        for p in client.list_role_policies(RoleName=name)["PolicyNames"]
    }
    attached = sorted(
        p["PolicyArn"]
        for p in client.list_attached_role_policies(RoleName=name)["AttachedPolicies"]
    )
    boundary = client.get_role(RoleName=name)["Role"].get("PermissionsBoundary")
    return {"inline": inline, "attached": attached, "boundary": boundary}


@pytest.fixture
def world(iam_endpoint: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    client = iam_client(iam_endpoint)
    make_roles(client)
    usage, bake = tmp_path / "usage", tmp_path / "bake"
    for role in ("app", "batch"):
        write_log(
            delivery_folder(usage, "2024-03-09") / f"{role}.json",
            calls(role, T0 - timedelta(days=1), 12),
        )
        # Bake logs: the roles keep calling what they used, for a day after the rollout.
        write_log(delivery_folder(bake, "2024-03-10") / f"{role}.json", calls(role, T0, 24))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AWS_ENDPOINT_URL_IAM", iam_endpoint)
    monkeypatch.setenv("AWS_ENDPOINT_URL_STS", iam_endpoint)
    for name in ("ALPHA_STORE", "ALPHA_CONFIG", "ALPHA_LOGS", "ALPHA_USER", "ALPHA_IAM"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ALPHA_STORE_REPLAY", "true")  # the store replays the logs' past
    monkeypatch.setenv("ALPHA_LOGS", str(bake))
    monkeypatch.setenv("ALPHA_BAKE", "1h")
    return client, usage


def propose(principal: str, usage: Path) -> Ran:
    return alpha(
        "propose", "--account", "aws", "--usage", str(usage), "--principal", principal,
        "--by", "dana", "--now", at(-2), "--format", "json",
    )  # fmt: skip


def test_propose_approve_roll_out_and_roll_back_on_live_iam(world: Any) -> None:
    client, usage = world
    before = role_state(client, "app")
    proposed = propose(f"arn:aws:iam::{ACCOUNT}:role/app", usage)
    assert proposed.code == 0, proposed.err
    [made] = proposed.json()["proposals"]
    assert proposed.json()["account_copy"] == {"name": f"aws-account-{ACCOUNT}", "imported": False}
    assert role_state(client, "app") == before  # proposing changes nothing

    refused = alpha("approve", made["id"], "--by", "dana", "--now", at(-1))
    assert (refused.code, "separation of duties" in refused.err) == (2, True)
    assert alpha("approve", made["id"], "--by", "sam", "--now", at(-1)).code == 0

    ran = alpha("rollout", made["id"], "--now", at(0), "--format", "json")
    assert ran.code == 0, ran.err
    assert ran.json()[0]["state"] == "succeeded", ran.json()
    after = role_state(client, "app")
    assert list(after["inline"]) == ["alpha-least-privilege"]
    granted = after["inline"]["alpha-least-privilege"]["Statement"]
    assert {
        a for s in granted for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
    } == {"s3:GetObject", "s3:ListBucket"}  # ListBucket inferred (a missing key answers 404)
    assert (after["attached"], after["boundary"]) == ([], None)
    assert SHARED in role_state(client, "batch")["attached"]  # the shared policy is untouched
    assert not [
        p for p in client.list_policies(Scope="Local")["Policies"] if "canary" in p["PolicyName"]
    ]
    log = [json.loads(line) for line in Path(".alpha/rollout.jsonl").read_text().splitlines()]
    assert {"put_inline alpha-least-privilege" in e.get("message", "") for e in log} >= {True}

    back = alpha(
        "rollback",
        made["id"],
        "--by",
        "sam",
        "--reason",
        "test",
        "--now",
        at(30),
        "--format",
        "json",
    )
    assert back.code == 0, back.err
    assert back.json()["state"] == "rolled_back"
    assert role_state(client, "app") == before


def test_a_role_changed_after_the_proposal_stops_its_rollout(world: Any) -> None:
    client, usage = world
    proposed = propose(f"arn:aws:iam::{ACCOUNT}:role/batch", usage)
    [made] = proposed.json()["proposals"]
    assert alpha("approve", made["id"], "--by", "sam", "--now", at(-1)).code == 0
    client.put_role_policy(RoleName="batch", PolicyName="hotfix", PolicyDocument=json.dumps(WIDE))
    changed = role_state(client, "batch")
    ran = alpha("rollout", made["id"], "--now", at(0))
    assert ran.code == 2
    assert ran.err.count("\n") == 1
    assert "changed since proposal" in ran.err
    assert "inline policy 'hotfix' added" in ran.err
    assert role_state(client, "batch") == changed


def test_a_role_outside_the_scope_is_refused(world: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    client, usage = world
    shown = alpha(
        "propose", "--account", "aws", "--usage", str(usage), "--principal",
        f"arn:aws:iam::{ACCOUNT}:role/app", "--by", "dana", "--now", at(-2),
    )  # fmt: skip
    assert "read aws live: these proposals roll out to live IAM" in shown.out
    [made] = alpha("proposals", "list", "--format", "json").json()
    assert alpha("approve", made["id"], "--by", "sam", "--now", at(-1)).code == 0
    monkeypatch.setenv("ALPHA_SCOPE_NAMES", "billing-*")
    before = role_state(client, "app")
    ran = alpha("rollout", made["id"], "--now", at(0))
    assert (ran.code, "outside the scope" in ran.err) == (2, True)
    assert role_state(client, "app") == before


def test_account_export_writes_the_live_account(world: Any, tmp_path: Path) -> None:
    _, usage = world
    generated = alpha(
        "generate", "--account", "aws", "--usage", str(usage), "--principal",
        f"arn:aws:iam::{ACCOUNT}:role/app", "--format", "json",
    )  # fmt: skip
    assert generated.code == 0, generated.err
    scanned = alpha("scan", "--account", "aws://default", "--usage", str(usage), "--format", "json")
    assert (scanned.code, "'default' not found" in scanned.err) == (2, True)  # no such profile
    ran = alpha("account", "export", "--out", "live.json")
    assert ran.code == 0, ran.err
    assert f"wrote account {ACCOUNT}" in ran.err
    snapshot = read_authorization_details(tmp_path / "live.json")
    assert [r.name for r in snapshot.roles] == ["app", "batch"]
    shown = alpha("account", "show", "aws", "--format", "json").json()
    assert [p["arn"].rpartition("/")[2] for p in shown["principals"]] == ["app", "batch"]
    policy = snapshot.managed_policy(SHARED)
    assert policy is not None
    assert (policy.name, policy.attachment_count) == ("shared-read", 2)
