"""The AgentCore entrypoint: invoked with payloads, directly and over HTTP through the
BedrockAgentCoreApp (`POST /invocations`), on the demo's account and CloudTrail sample."""

from __future__ import annotations

from pathlib import Path

import pytest

from alpha.agentcore.app import build_app, invoke
from alpha.demo.sample import ROLLOUT_AT, SamplePaths, write_sample

ORDERS = "arn:aws:iam::111122223333:role/orders-api"


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> SamplePaths:
    return write_sample(tmp_path_factory.mktemp("sample"))


@pytest.fixture
def env(sample: SamplePaths, tmp_path: Path) -> dict[str, str]:
    return {
        "ALPHA_ACCOUNT": str(sample.account),
        "ALPHA_LOGS": str(sample.observed),
        "ALPHA_STORE": str(tmp_path / "alpha.db"),
        "ALPHA_USAGE_STORE": str(tmp_path / "usage.duckdb"),
        "ALPHA_NOW": ROLLOUT_AT.isoformat(),
        "ALPHA_STORE_REPLAY": "true",
        "ALPHA_USER": "agent",
    }


def test_the_handler_scans_proposes_and_explains(env: dict[str, str]) -> None:
    scanned = invoke({"tool": "scan", "arguments": {"top": 2}}, env)
    assert len(scanned["result"]["principals"]) == 2
    proposed = invoke({"tool": "propose", "arguments": {"principal": ORDERS}}, env)
    proposal_id = proposed["result"]["proposals"][0]["id"]
    explained = invoke({"tool": "explain_proposal", "arguments": {"proposal_id": proposal_id}}, env)
    assert explained["result"]["principal"] == ORDERS
    assert explained["result"]["state"] == "proposed"


@pytest.mark.parametrize(
    ("payload", "error"),
    [
        ({"tool": "approve", "arguments": {"proposal_id": "x"}}, "tool: Input should be"),
        ({"tool": "scan", "arguments": {"depth": 3}}, "unexpected keyword argument 'depth'"),
        ({"tool": "explain_proposal", "arguments": {"proposal_id": "ffffffff"}}, "ffffffff"),
        ({"arguments": {}}, "tool: Field required"),
    ],
)
def test_a_bad_invocation_answers_one_line(
    env: dict[str, str], payload: dict[str, object], error: str
) -> None:
    answer = invoke(payload, env)
    assert error in answer["error"]
    assert "result" not in answer


def test_the_agentcore_app_answers_invocations_over_http(env: dict[str, str]) -> None:
    from starlette.testclient import TestClient

    with TestClient(build_app(env)) as client:
        assert client.get("/ping").status_code == 200
        answer = client.post("/invocations", json={"tool": "scan", "arguments": {"top": 1}})
    assert answer.status_code == 200
    assert len(answer.json()["result"]["principals"]) == 1
