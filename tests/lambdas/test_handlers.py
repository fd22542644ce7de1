"""The handlers as Step Functions calls them: typed events (a bad one names its field),
logs correlated by execution, a metric per outcome, and a retried step answered from the
idempotency table without running again."""

from __future__ import annotations

import importlib
import json
import os
from pathlib import Path
from typing import Any

import pytest

from alpha.adapters.local.sqlite_store import SQLiteStore
from alpha.app import Application, Flags, application_for, load_settings
from alpha.app.approval_requests import PendingRequest, pending_request
from alpha.lambdas import handlers
from alpha.lambdas.runtime import LambdaEventError
from alpha.rollout.asl import FUNCTIONS, RESULT_KEYS
from tests.lambdas.conftest import LambdaContext

EXECUTION = "arn:aws:states:us-east-1:123456789012:execution:alpha:run-1"
ORDERS = "arn:aws:iam::111122223333:role/orders-api"


def _step(state: str, entered: str = "2026-01-01T00:00:00Z") -> dict[str, str]:
    return {"execution": EXECUTION, "state": state, "entered": entered}


def _journal(store: Path, proposal_id: str) -> int:
    opened = SQLiteStore(store)
    try:
        return len(opened.journal(proposal_id))
    finally:
        opened.close()


def _proposed() -> str:
    event = {"principal": ORDERS, "by": "dana", "step": _step("Propose")}
    answer = handlers.propose(event, LambdaContext())
    assert answer["event"] == "persisted"
    assert set(RESULT_KEYS) <= set(answer)
    return str(answer["proposal_id"])


def test_every_function_of_the_definition_has_a_handler() -> None:
    assert set(handlers.HANDLERS) == set(FUNCTIONS)
    for name, path in handlers.HANDLERS.items():
        module, _, function = path.rpartition(".")
        assert callable(getattr(importlib.import_module(module), function)), name


def _app() -> Application:
    return application_for(load_settings(Flags(), os.environ, Path.cwd()), os.environ)


def test_request_approval_keeps_the_token_with_the_proposal(lambda_env: Path) -> None:
    proposal = _proposed()
    event = {"proposal_id": proposal[:10], "task_token": "tok-1", "step": _step("Wait")}
    assert handlers.request_approval(event, LambdaContext())["proposal_id"] == proposal
    opened = SQLiteStore(lambda_env)
    try:
        assert pending_request(opened, proposal) == PendingRequest(proposal, "tok-1", EXECUTION)
    finally:
        opened.close()


def test_find_principals_lists_the_over_privileged(lambda_env: Path) -> None:
    found = handlers.find_principals({"by": "schedule", "step": _step("Find")}, LambdaContext())
    assert ORDERS in found["principals"]


def test_a_retried_step_is_answered_without_running_again(
    lambda_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    proposal = _proposed()
    _app().approve(proposal, "sam")
    event = {"proposal_id": proposal, "step": _step("Sandbox")}
    first = handlers.sandbox(event, LambdaContext())
    entries = _journal(lambda_env, proposal)
    again = handlers.sandbox(event, LambdaContext())  # the same state entry, retried
    assert again == first
    assert _journal(lambda_env, proposal) == entries
    entered_again = {**event, "step": _step("Sandbox", "2026-01-01T01:00:00Z")}
    handlers.sandbox(entered_again, LambdaContext())  # after a bake: a new entry runs
    assert _journal(lambda_env, proposal) > entries
    out = capsys.readouterr().out
    logs = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    answered = [line for line in logs if line.get("message") == "step answered"]
    assert {line["correlation_id"] for line in answered} == {EXECUTION}
    metrics = [line for line in logs if "_aws" in line]
    assert metrics[0]["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "ALPHA/Workflow"


@pytest.mark.parametrize(
    ("event", "field"),
    [
        ({"principal": ORDERS, "step": _step("Propose")}, "by: Field required"),
        ({"principal": "", "by": "dana", "step": _step("Propose")}, "principal"),
        ({"principal": ORDERS, "by": "dana", "step": {"state": "x"}}, "step.execution"),
        ({"principal": ORDERS, "by": "dana", "step": _step("P"), "extra": 1}, "extra"),
    ],
)
def test_a_bad_event_names_its_field(lambda_env: Path, event: dict[str, Any], field: str) -> None:
    with pytest.raises(LambdaEventError, match=field):
        handlers.propose(event, LambdaContext())


def test_no_step_runs_without_the_idempotency_table(
    lambda_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ALPHA_IDEMPOTENCY_TABLE")
    with pytest.raises(LambdaEventError, match="ALPHA_IDEMPOTENCY_TABLE is not set"):
        handlers.propose({"principal": ORDERS, "by": "dana", "step": _step("P")}, LambdaContext())


def _object_created(**detail: Any) -> dict[str, Any]:
    """EventBridge's `Object Created` as S3 sends it (fields the handler does not read too)."""
    found = {
        "bucket": {"name": "trail"},
        "object": {"key": "AWSLogs/1/CloudTrail/x.json.gz", "size": 10, "etag": "e"},
        **detail,
    }
    return {
        "version": "0",
        "id": "17793124-05d4-b198-2fde-7ededc63b103",
        "detail-type": "Object Created",
        "source": "aws.s3",
        "account": "111122223333",
        "time": "2026-01-01T00:00:00Z",
        "region": "us-east-1",
        "resources": ["arn:aws:s3:::trail"],
        "detail": {"version": "0", "reason": "PutObject", **found},
    }


@pytest.mark.parametrize(
    ("event", "field"),
    [
        ({**_object_created(), "detail-type": "Object Deleted"}, "detail-type"),
        ({**_object_created(), "source": "aws.ec2"}, "source"),
        (_object_created(object={"key": "k", "size": -1, "etag": "e"}), "detail.object.size"),
        (_object_created(bucket={}), "detail.bucket.name"),
    ],
)
def test_a_bad_delivery_event_names_its_field(
    lambda_env: Path, event: dict[str, Any], field: str
) -> None:
    with pytest.raises(LambdaEventError, match=field):
        handlers.publish_delivery(event, LambdaContext())


def test_a_function_writes_only_in_its_work_folder(
    lambda_env: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """On Lambda only /tmp is writable: the files kept beside a store named by URL (its JSON
    logs) go to ALPHA_WORK_DIR, not the working directory."""
    monkeypatch.setenv("ALPHA_WORK_DIR", str(tmp_path / "work"))
    from alpha.lambdas.runtime import work_dir

    assert work_dir(os.environ) == tmp_path / "work"
    settings = load_settings(Flags(), {"ALPHA_STORE": "dynamodb://alpha"}, work_dir(os.environ))
    assert settings.store.is_relative_to(tmp_path / "work")
