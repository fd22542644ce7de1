"""The `WorkflowCallbacks` port (answering an execution waiting for a token), run against the
shared fake and against Step Functions in moto, where a real execution waits in a
`.waitForTaskToken` task (its token sent through SQS) and ends as the answer says."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Protocol

import pytest

from alpha.adapters.aws.clients import make_client
from alpha.adapters.aws.step_functions import StepFunctionsCallbacks
from alpha.app.approval_requests import REJECTED_ERROR, WorkflowCallbacks
from alpha.errors import AlphaError
from tests.fakes.recorded_callbacks import RecordedCallbacks
from tests.wire.moto_executing import executing_moto


class Waiting(Protocol):
    """Something waiting for a token, and how it ended."""

    @property
    def callbacks(self) -> WorkflowCallbacks: ...

    def issue(self) -> str: ...

    def outcome(self, token: str) -> tuple[str, Any]: ...


@dataclass
class FakeWaiting:
    callbacks: RecordedCallbacks

    def issue(self) -> str:
        return self.callbacks.issue(
            f"token-{len(self.callbacks.issued) + len(self.callbacks.answers)}"
        )

    def outcome(self, token: str) -> tuple[str, Any]:
        answer = next(a for a in self.callbacks.answers if a.token == token)
        if answer.output is not None:
            return "SUCCEEDED", answer.output
        return "FAILED", answer.error


def _machine(queue_url: str) -> dict[str, Any]:
    return {
        "StartAt": "Wait",
        "States": {
            "Wait": {
                "Type": "Task",
                "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
                "Parameters": {"QueueUrl": queue_url, "MessageBody": {"token.$": "$$.Task.Token"}},
                "End": True,
            }
        },
    }


class StepFunctionsWaiting:
    def __init__(self, endpoint: str) -> None:
        self.sqs = make_client("sqs", region="us-east-1", endpoint_url=endpoint)
        self.sfn = make_client("stepfunctions", region="us-east-1", endpoint_url=endpoint)
        self.callbacks = StepFunctionsCallbacks(self.sfn)
        name = uuid.uuid4().hex
        self.queue = self.sqs.create_queue(QueueName=name)["QueueUrl"]
        self.machine = self.sfn.create_state_machine(
            name=name,
            definition=json.dumps(_machine(self.queue)),
            roleArn="arn:aws:iam::123456789012:role/alpha-states",
        )["stateMachineArn"]
        self.executions: dict[str, str] = {}

    def issue(self) -> str:
        name = uuid.uuid4().hex  # moto names an unnamed execution "None", once
        execution = self.sfn.start_execution(stateMachineArn=self.machine, name=name)[
            "executionArn"
        ]
        body = _poll(lambda: self.sqs.receive_message(QueueUrl=self.queue).get("Messages"))
        token = str(json.loads(body[0]["Body"])["token"])
        self.executions[token] = execution
        return token

    def outcome(self, token: str) -> tuple[str, Any]:
        def ended() -> dict[str, Any] | None:
            found = self.sfn.describe_execution(executionArn=self.executions[token])
            return None if found["status"] == "RUNNING" else dict(found)

        found = _poll(ended)
        if found["status"] == "SUCCEEDED":
            return "SUCCEEDED", json.loads(found["output"])
        return str(found["status"]), found.get("error")


def _poll(read: Any) -> Any:
    for _ in range(100):
        found = read()
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError("nothing came")


@pytest.fixture(scope="module")
def moto_executing(aws_env: None) -> Iterator[str]:
    with pytest.MonkeyPatch.context() as patch, executing_moto(patch) as endpoint:
        yield endpoint


@pytest.fixture(params=["fake", "step-functions"])
def waiting(request: pytest.FixtureRequest) -> Waiting:
    if request.param == "fake":
        return FakeWaiting(RecordedCallbacks())
    return StepFunctionsWaiting(request.getfixturevalue("moto_executing"))


def test_a_success_hands_the_output_on(waiting: Waiting) -> None:
    token = waiting.issue()
    waiting.callbacks.succeed(token, {"event": "approved", "proposal_id": "p1"})
    assert waiting.outcome(token) == ("SUCCEEDED", {"event": "approved", "proposal_id": "p1"})


def test_a_failure_ends_the_task_with_the_error(waiting: Waiting) -> None:
    token = waiting.issue()
    waiting.callbacks.fail(token, REJECTED_ERROR, "rejected by sam")
    assert waiting.outcome(token) == ("FAILED", REJECTED_ERROR)


@pytest.mark.parametrize("answered_before", [True, False], ids=["answered", "never issued"])
def test_a_token_nobody_waits_on_is_an_error(waiting: Waiting, answered_before: bool) -> None:
    token = "never-issued"
    if answered_before:
        token = waiting.issue()
        waiting.callbacks.succeed(token, {"event": "approved"})
        waiting.outcome(token)
    # (moto accepts a second SendTaskFailure on an ended execution; AWS and the fake do not)
    with pytest.raises(AlphaError, match=r"Invalid ?Token|TaskTimedOut"):
        waiting.callbacks.succeed(token, {"event": "approved"})
