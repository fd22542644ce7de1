"""The Step Functions definition, from the transition table: every edge the workflow itself
fires is in it, every Task retries and catches, and npm's asl-validator accepts it."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from alpha.rollout.asl import (
    BAKING,
    FUNCTIONS,
    REJECTED_ERROR,
    RESULT_KEYS,
    function_placeholders,
    to_asl,
)
from alpha.rollout.workflow import TRANSITIONS, Trigger, WorkflowState
from tests.external_tools import require_tool

ROOT = Path(__file__).resolve().parents[2]
VALIDATOR = ROOT / "node_modules" / ".bin" / "asl-validator"


def _inner(asl: dict[str, Any]) -> dict[str, Any]:
    states: dict[str, Any] = asl["States"]["EachPrincipal"]["ItemProcessor"]["States"]
    return states


def _tasks(states: dict[str, Any]) -> dict[str, Any]:
    return {name: body for name, body in states.items() if body["Type"] == "Task"}


def test_every_table_state_is_a_state_or_part_of_propose() -> None:
    states = _inner(to_asl())
    folded = {"Generate", "Reason", "Guardrails", "Persist"}
    assert {s.value for s in WorkflowState} - set(states) == folded
    assert "Generate" in states["Propose"]["Comment"]


@pytest.mark.parametrize(
    "edge",
    [
        e
        for e in TRANSITIONS
        if e.trigger is Trigger.WORKFLOW
        and e.source.value not in {"Generate", "Reason", "Guardrails", "Approved"}
    ],
    ids=lambda e: f"{e.source.value}-{e.event.value}",
)
def test_every_workflow_edge_is_a_choice_or_catch(edge: Any) -> None:
    states = _inner(to_asl())
    source = "Propose" if edge.source is WorkflowState.PERSIST else edge.source.value
    routes = {(c["StringEquals"], c["Next"]) for c in states[f"{source}?"]["Choices"]}
    caught = {(c["ErrorEquals"][0], c["Next"]) for c in states[source]["Catch"]}
    event = edge.event.value
    assert (event, edge.target.value) in routes or (
        event == "expired" and ("States.Timeout", edge.target.value) in caught
    )


def test_choices_carry_no_edge_the_table_lacks() -> None:
    states = _inner(to_asl())
    table = {(e.source.value, e.event.value, e.target.value) for e in TRANSITIONS}
    for name, body in states.items():
        if body["Type"] != "Choice":
            continue
        source = "Persist" if name == "Propose?" else name.removesuffix("?")
        for choice in body["Choices"]:
            event, target = choice["StringEquals"], choice["Next"]
            if event == BAKING:
                assert target == f"{source}Bake"
                assert states[target]["Next"] == source
                continue
            assert (source, event, target) in table
        assert body["Default"] == "RecordFailure"


def test_every_task_retries_transient_errors_and_catches_the_rest() -> None:
    asl = to_asl()
    tasks = {**_tasks(_inner(asl)), **_tasks(asl["States"])}
    assert set(tasks) == {
        "FindPrincipals",
        "Propose",
        "WaitForApproval",
        "Sandbox",
        "Canary",
        "Production",
        "Rollback",
        "RecordFailure",
    }
    for name, task in tasks.items():
        assert "Lambda.ServiceException" in task["Retry"][0]["ErrorEquals"], name
        assert task["Catch"][-1]["ErrorEquals"] == ["States.ALL"], name


def test_the_approval_waits_for_a_token_until_the_data_says_it_expires() -> None:
    states = _inner(to_asl())
    wait = states["WaitForApproval"]
    assert wait["Resource"].endswith(".waitForTaskToken")
    assert wait["Parameters"]["Payload"]["task_token.$"] == "$$.Task.Token"
    assert wait["TimeoutSecondsPath"] == "$.result.approval_timeout_seconds"
    caught = {c["ErrorEquals"][0]: c["Next"] for c in wait["Catch"]}
    assert caught[REJECTED_ERROR] == "Rejected"
    assert caught["States.Timeout"] == "Expired"
    assert "ResultSelector" not in wait  # the callback's output is the result


@pytest.mark.parametrize("stage", ["Sandbox", "Canary", "Production"])
def test_bakes_are_waits_driven_by_data(stage: str) -> None:
    states = _inner(to_asl())
    assert states[f"{stage}Bake"] == {
        "Type": "Wait",
        "SecondsPath": "$.result.wait_seconds",
        "Next": stage,
    }
    selector = states[stage]["ResultSelector"]
    assert set(selector) == {f"{k}.$" for k in RESULT_KEYS}


def test_all_principals_run_in_a_distributed_map() -> None:
    asl = to_asl()
    each = asl["States"]["EachPrincipal"]
    assert each["ItemProcessor"]["ProcessorConfig"] == {
        "Mode": "DISTRIBUTED",
        "ExecutionType": "STANDARD",  # EXPRESS cannot wait for a task token
    }
    assert each["ItemsPath"] == "$.principals"
    assert asl["States"]["PrincipalsGiven?"]["Default"] == "FindPrincipals"


def test_function_arns_are_substituted_and_all_required() -> None:
    arns = {
        name: f"arn:aws:lambda:eu-west-1:123456789012:function:alpha-{name}" for name in FUNCTIONS
    }
    text = json.dumps(to_asl(arns))
    assert "${" not in text
    assert arns["Canary"] in text
    assert "${CanaryFunctionArn}" in json.dumps(to_asl())
    assert function_placeholders()["Rollback"] == "${RollbackFunctionArn}"
    with pytest.raises(ValueError, match="no function ARN for Rollback"):
        to_asl({k: v for k, v in arns.items() if k != "Rollback"})


def _validate(definition: dict[str, Any], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    require_tool(
        VALIDATOR.exists() and shutil.which("node") is not None,
        "npm's asl-validator",
        "npm ci (package.json devDependencies)",
    )
    path = tmp_path / "definition.json"
    path.write_text(json.dumps(definition))
    return subprocess.run(
        [str(VALIDATOR), "--json-path", str(path)], capture_output=True, text=True, check=False
    )


def test_asl_validator_accepts_the_definition(tmp_path: Path) -> None:
    done = _validate(to_asl(), tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr


def test_asl_validator_rejects_a_broken_definition(tmp_path: Path) -> None:
    broken = to_asl()
    _inner(broken)["Canary?"]["Choices"][0]["Next"] = "Nowhere"
    assert _validate(broken, tmp_path).returncode != 0
