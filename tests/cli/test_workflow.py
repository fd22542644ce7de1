"""The whole loop through the CLI on the demo sample: propose, list, approve (separation of
duties), roll out through every stage, and a canary that is rolled back automatically; the same
commands and the same results with the store in SQLite and in DynamoDB (moto over HTTP,
`ALPHA_STORE=dynamodb://alpha-test`)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import timedelta

import pytest

from alpha.demo.sample import ROLLOUT_AT, SamplePaths, write_sample
from alpha.store.model import ProposalState
from tests.cli.workflow_helpers import Ran, alpha

STATES = {s.value for s in ProposalState}
DYNAMODB_STORE = "dynamodb://alpha-test"


def at(hours: int, minutes: int = 0) -> str:
    """A moment of the sample's timeline, for --now (each command later than the last: time
    never runs backwards in a store)."""
    return (ROLLOUT_AT + timedelta(hours=hours, minutes=minutes)).isoformat()


@pytest.fixture(scope="module", params=["sqlite", pytest.param("dynamodb", marks=pytest.mark.slow)])
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[SamplePaths, Ran]]:
    folder = tmp_path_factory.mktemp("loop")
    paths = write_sample(folder)
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(folder)
        for name in ("ALPHA_STORE", "ALPHA_CONFIG", "ALPHA_LOGS", "ALPHA_USER"):
            patch.delenv(name, raising=False)
        if request.param == "dynamodb":
            patch.setenv("AWS_ENDPOINT_URL_DYNAMODB", request.getfixturevalue("moto_endpoint"))
            patch.setenv("ALPHA_STORE", DYNAMODB_STORE)
        patch.setenv("ALPHA_NOW", at(-2))
        patch.setenv("ALPHA_STORE_REPLAY", "true")  # a store made to replay the sample's past
        patch.setenv("ALPHA_BAKE", "6h")
        patch.setenv("ALPHA_LOGS", "cloudtrail,cloudtrail-bake")
        proposed = alpha(
            "propose", "--all", "--usage", "cloudtrail", "--account", paths.account.name,
            "--by", "dana", "--format", "json",
        )  # fmt: skip
        yield paths, proposed


def ids(world_paths: SamplePaths) -> dict[str, str]:
    listed = alpha("proposals", "list", "--format", "json").json()
    return {row["principal"].rpartition("/")[2]: row["id"] for row in listed}


def state_of(proposal_id: str) -> str:
    listed: list[dict[str, str]] = alpha("proposals", "list", "--format", "json").json()
    return next(row["state"] for row in listed if row["id"] == proposal_id)


def test_the_whole_loop(world: tuple[SamplePaths, Ran]) -> None:
    paths, proposed = world
    # ci-deployer's proposal is blocked by the guardrails: exit 1, everything still stored.
    assert proposed.code == 1, proposed.err
    result = proposed.json()
    assert result["account_copy"] == {"name": "account-111122223333", "imported": True}
    assert sorted(p["principal"].rpartition("/")[2] for p in result["proposals"]) == [
        "ci-deployer",
        "orders-api",
        "report-builder",
    ]
    assert all(p["created"] for p in result["proposals"])

    listed = alpha("proposals", "list", "--format", "json").json()
    assert isinstance(listed, list)
    assert {row["state"] for row in listed} == {"proposed"}
    assert all({"id", "principal", "state"} <= row.keys() for row in listed)
    assert all(row["state"] in STATES for row in listed)
    found = ids(paths)

    # Proposing the same content again is a no-op that says so.
    again = alpha(
        "propose", "--principal", "arn:aws:iam::111122223333:role/orders-api",
        "--usage", "cloudtrail", "--account", paths.account.name, "--by", "dana",
        "--now", at(-2, 5), "--format", "json",
    )  # fmt: skip
    assert again.code == 0, again.err
    assert again.json()["proposals"][0]["created"] is False
    assert again.json()["account_copy"]["imported"] is False

    # Separation of duties: the proposer cannot approve; someone else can.
    refused = alpha("approve", found["orders-api"][:12], "--by", "dana", "--now", at(-1))
    assert refused.code == 2
    assert refused.err.count("\n") == 1
    assert "separation of duties" in refused.err
    assert state_of(found["orders-api"]) == "proposed"
    approved = alpha(
        "approve", found["orders-api"], "--by", "sam", "--now", at(-1), "--format", "json"
    )
    assert approved.json()["state"] == "approved"
    blocked = alpha("approve", found["ci-deployer"], "--by", "sam", "--now", at(-1))
    assert blocked.code == 2
    assert "blocking guardrail violations" in blocked.err
    assert alpha("approve", found["report-builder"], "--by", "sam", "--now", at(-1)).code == 0

    # orders-api: every stage in one run, against the bake logs.
    ran = alpha(
        "rollout", found["orders-api"], "--stage", "all", "--now", at(0), "--format", "json"
    )
    assert ran.code == 0, ran.err
    assert ran.json()[0]["state"] == "succeeded"

    # report-builder: stage by stage, as time passes; the canary meets AccessDenied.
    original = json.loads(paths.account.read_text())
    sandbox = alpha("rollout", found["report-builder"], "--stage", "sandbox", "--now", at(0, 5))
    assert sandbox.code == 0, sandbox.err
    assert state_of(found["report-builder"]) == "sandbox"
    canary = alpha(
        "rollout", found["report-builder"], "--stage", "canary", "--now", at(6), "--format", "json"
    )
    assert canary.code == 1
    assert canary.json()[0]["state"] == "rolled_back"
    assert "AccessDenied" in canary.json()[0]["detail"]

    exported = alpha("proposals", "export-account").json()
    roles = {r["RoleName"]: r for r in exported["RoleDetailList"]}
    before = {r["RoleName"]: r for r in original["RoleDetailList"]}
    assert roles["report-builder"] == before["report-builder"]
    assert roles["orders-api"] != before["orders-api"]
    assert [p["PolicyName"] for p in roles["orders-api"]["RolePolicyList"]] == [
        "alpha-least-privilege"
    ]
    assert json.loads(paths.account.read_text()) == original  # the user's file is never changed

    status = alpha("status", "--format", "json").json()
    by_state = status["metrics"]["by_state"]
    assert (by_state["succeeded"], by_state["rolled_back"], by_state["proposed"]) == (1, 1, 1)
    assert status["metrics"]["rollout_failure_rate"] == 0.5
    assert status["metrics"]["approval_time_seconds"]["mean"] == pytest.approx(3600, abs=60)

    # Rolling back the succeeded one by hand restores the original role too.
    back = alpha(
        "rollback", found["orders-api"], "--by", "sam", "--reason", "test", "--now", at(7),
        "--format", "json",
    )  # fmt: skip
    assert back.json()["state"] == "rolled_back"
    roles = {
        r["RoleName"]: r for r in alpha("proposals", "export-account").json()["RoleDetailList"]
    }
    assert roles["orders-api"] == before["orders-api"]

    # Every command's JSON parses and is the only thing on stdout.
    some = found["report-builder"]
    for argv in (
        ["proposals", "list", "--state", "rolled_back"],
        ["proposals", "show", some],
        ["proposals", "diff", some],
        ["status"],
        ["rollout", "resume", "--now", at(8)],
        ["reject", found["ci-deployer"], "--by", "sam", "--now", at(8)],
    ):
        ran = alpha(*argv, "--format", "json")
        assert ran.code == 0, (argv, ran.err)
        json.loads(ran.out)
    shown = alpha("proposals", "show", some, "--format", "json").json()
    assert shown["state"] == "rolled_back"
    assert [s["stage"] for s in shown["stages"]] == ["sandbox", "canary"]
    assert {"proposal.created", "approve"} <= {e["action"] for e in shown["audit"]}
    assert shown["proposal"]["risk_signal"]["probability_of_break"] > 0

    # Time never runs backwards in a store: an action dated before its last event is refused.
    late = alpha("reject", found["ci-deployer"], "--by", "lee", "--now", at(1))
    assert late.code == 2
    assert "time never runs backwards" in late.err
    if os.environ.get("ALPHA_STORE") == DYNAMODB_STORE:
        # checked here, not in a test of its own: another xdist worker would see an empty
        # store (the world is per worker)
        _check_the_seeds_approvals_table()


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["approve", "abcdef", "--by", "sam"], "no proposal has an id starting with 'abcdef'"),
        (["proposals", "show", "xyz"], "too short"),
        (["rollout", "abcdef0123", "--bake", "soon"], "--bake: 'soon' is not a duration"),
        (["status", "--config", "nope.toml"], "nope.toml: no such settings file"),
    ],
)
def test_errors_are_one_line_and_exit_2(
    world: tuple[SamplePaths, Ran], argv: list[str], expected: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ALPHA_NOW", at(24))
    ran = alpha(*argv)
    assert ran.code == 2
    assert ran.err.startswith("alpha: error: ")
    assert ran.err.count("\n") == 1
    assert expected in ran.err
    assert ran.out == ""


def test_the_terminal_output_has_no_colour_codes_when_not_a_terminal(
    world: tuple[SamplePaths, Ran],
) -> None:
    for argv in (["status"], ["proposals", "list"]):
        ran = alpha(*argv)
        assert ran.code == 0
        assert "\x1b[" not in ran.out
        assert "proposal" in ran.out


def _check_the_seeds_approvals_table() -> None:
    import boto3

    client = boto3.client("dynamodb", endpoint_url=os.environ["AWS_ENDPOINT_URL_DYNAMODB"])
    items = client.scan(TableName="alpha-test-approvals")["Items"]
    decided = {(i["approver"]["S"], i["approved"]["BOOL"]) for i in items}
    assert ("sam", True) in decided
    assert ("sam", False) in decided  # the rejection of ci-deployer
    assert all(i["proposal_id"]["S"] and "timestamp" in i for i in items)
    keys = client.describe_table(TableName="alpha-test-approvals")["Table"]["KeySchema"]
    assert [(k["AttributeName"], k["KeyType"]) for k in keys] == [
        ("proposal_id", "HASH"),
        ("timestamp", "RANGE"),
    ]
