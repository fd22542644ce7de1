"""The AWS calls each Lambda function really makes, recorded while the end-to-end test runs.

Every botocore client made in this process (the handlers', the moto Step Functions engine's)
gets a `before-parameter-build` hook that records the operation, its parameters and which
function was running in that thread, or else made the client (`running`; the engine's calls,
from threads no function runs in, are the state machine role's; the test's own, from the main
thread, nobody's).

`needed` turns a recorded call into the IAM actions it needs and the resources it touches:
the action from ALPHA's own event mapper (the catalog), as if CloudTrail had logged the call;
the resource from the request's parameters."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest

from alpha.usage.events import CloudTrailEvent
from alpha.usage.mapping import EventMapper, Mapped, NotAnAction

ENGINE = "StateMachine"
TEST = "test"


@dataclass(frozen=True)
class Call:
    function: str
    source: str  # the CloudTrail eventSource: the client's signing name
    operation: str
    params: dict[str, Any]
    region: str


@dataclass(frozen=True)
class Needed:
    """One IAM action a call needed, on one resource, with the request's condition keys."""

    action: str
    resource: str
    context: tuple[tuple[str, str], ...] = ()


@dataclass
class CallRecorder:
    calls: list[Call] = field(default_factory=list)
    _running: threading.local = field(default_factory=threading.local)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @contextmanager
    def running(self, function: str) -> Iterator[None]:
        before = getattr(self._running, "name", None)
        self._running.name = function
        try:
            yield
        finally:
            self._running.name = before

    def hook(self, client: Any) -> None:
        source = client.meta.service_model.signing_name
        region = client.meta.region_name
        # A function's client used by its worker threads (the trail is read in parallel)
        # still makes that function's calls.
        creator = getattr(self._running, "name", None) or self._outside()

        def record(model: Any, params: Any, **_: Any) -> None:
            function = getattr(self._running, "name", None) or creator
            call = Call(function, source, model.name, dict(params), region)
            with self._lock:
                self.calls.append(call)

        client.meta.events.register("before-parameter-build.*.*", record)

    @staticmethod
    def _outside() -> str:
        return TEST if threading.current_thread() is threading.main_thread() else ENGINE

    def of(self, function: str) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.function == function]


@contextmanager
def recording(patch: pytest.MonkeyPatch) -> Iterator[CallRecorder]:
    """Every client created meanwhile is recorded."""
    from botocore.client import ClientCreator

    recorder = CallRecorder()
    original = ClientCreator.create_client

    def create_client(self: Any, *args: Any, **kwargs: Any) -> Any:
        client = original(self, *args, **kwargs)
        recorder.hook(client)
        return client

    patch.setattr(ClientCreator, "create_client", create_client)
    yield recorder


@dataclass(frozen=True)
class Account:
    """What turns names in a request into ARNs: the account, and each role's path."""

    id: str
    role_paths: dict[str, str]


def needed(call: Call, mapper: EventMapper, account: Account) -> list[Needed]:
    """The IAM actions `call` needed (none for calls no permission governs)."""
    event = CloudTrailEvent(
        eventSource=f"{call.source}.amazonaws.com",
        eventName=call.operation,
        requestParameters=_request_parameters(call),
    )
    mapped = mapper.map(event)
    if isinstance(mapped, NotAnAction):
        return []
    if not isinstance(mapped, Mapped):
        raise AssertionError(f"the catalog has no action for {call.source}:{call.operation}")
    resources = _RESOURCES.get(call.source, _anything)
    return [
        Needed(item.action, arn, _context(call))
        for item in mapped.actions
        if _applies(call, item.resource)
        for arn in resources(call, item.resource, account)
    ]


def _applies(call: Call, resource: str) -> bool:
    """The key of an SSE-KMS object is needed only when the call names one (the trail's
    objects in these tests are not encrypted with a KMS key)."""
    return resource != "sse-kms" or "SSEKMSKeyId" in call.params


def _request_parameters(call: Call) -> dict[str, Any]:
    """What CloudTrail logs for a transaction: each item's operation and table."""
    items = call.params.get("TransactItems")
    if not isinstance(items, list):
        return {}
    return {
        "requestItems": [
            {"operation": operation, "tableName": body["TableName"]}
            for item in items
            for operation, body in item.items()
        ]
    }


def _context(call: Call) -> tuple[tuple[str, str], ...]:
    if call.operation == "ListObjectsV2":
        return (("s3:prefix", str(call.params.get("Prefix", ""))),)
    if call.operation == "PutMetricData":
        return (("cloudwatch:namespace", str(call.params["Namespace"])),)
    return ()


Resources = Callable[[Call, str, Account], list[str]]


def _anything(call: Call, item: str, account: Account) -> list[str]:
    return ["*"]


def _tables(call: Call, item: str, account: Account) -> list[str]:
    prefix = f"arn:aws:dynamodb:{call.region}:{account.id}:table/"
    if item.startswith("table:"):
        return [prefix + item.removeprefix("table:")]
    if "RequestItems" in call.params:
        return [prefix + name for name in call.params["RequestItems"]]
    return [prefix + call.params["TableName"]]


def _iam(call: Call, item: str, account: Account) -> list[str]:
    params = call.params
    if "RoleName" in params:
        path = account.role_paths[params["RoleName"]]
        return [f"arn:aws:iam::{account.id}:role{path}{params['RoleName']}"]
    if "PolicyArn" in params:
        return [params["PolicyArn"]]
    if call.operation == "CreatePolicy":
        return [f"arn:aws:iam::{account.id}:policy{params.get('Path', '/')}{params['PolicyName']}"]
    return ["*"]


def _s3(call: Call, item: str, account: Account) -> list[str]:
    bucket = f"arn:aws:s3:::{call.params['Bucket']}"
    return [f"{bucket}/{call.params['Key']}" if "Key" in call.params else bucket]


def _functions(call: Call, item: str, account: Account) -> list[str]:
    name = call.params["FunctionName"]
    if name.startswith("arn:"):
        return [name]
    return [f"arn:aws:lambda:{call.region}:{account.id}:function:{name}"]


def _models(call: Call, item: str, account: Account) -> list[str]:
    return [f"arn:aws:bedrock:{call.region}::foundation-model/{call.params['modelId']}"]


_RESOURCES: dict[str, Resources] = {
    "dynamodb": _tables,
    "iam": _iam,
    "s3": _s3,
    "lambda": _functions,
    "bedrock": _models,
}
