"""Answering a Step Functions task that waits for a token (the approval)."""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError

from alpha.adapters.aws.clients import describe_error, make_client
from alpha.errors import AlphaError

__all__ = ["StepFunctionsCallbacks", "WorkflowAnswerError", "make_step_functions_client"]

# Step Functions' limits on SendTaskFailure's fields.
_MAX_ERROR, _MAX_CAUSE = 256, 32768


def make_step_functions_client(endpoint_url: str | None = None) -> Any:
    """In the environment's region and credentials (`AWS_ENDPOINT_URL_SFN` may redirect it)."""
    return make_client("stepfunctions", endpoint_url=endpoint_url)


class WorkflowAnswerError(AlphaError):
    """The execution could not be answered (the token expired, or the call failed)."""


class StepFunctionsCallbacks:
    """Over a boto3 `stepfunctions` client, passed in."""

    def __init__(self, client: Any) -> None:
        self._client = client

    def succeed(self, token: str, output: dict[str, Any]) -> None:
        self._call("send_task_success", taskToken=token, output=json.dumps(output))

    def fail(self, token: str, error: str, cause: str) -> None:
        self._call(
            "send_task_failure",
            taskToken=token,
            error=error[:_MAX_ERROR],
            cause=cause[:_MAX_CAUSE],
        )

    def _call(self, operation: str, **arguments: str) -> None:
        try:
            getattr(self._client, operation)(**arguments)
        except ClientError as error:
            raise WorkflowAnswerError(
                f"Step Functions {operation}: {describe_error(error)}"
            ) from error
