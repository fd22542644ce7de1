"""A Bedrock Runtime `Converse` service speaking the real REST-JSON protocol
(`POST /model/{modelId}/converse`), scripted answer by answer.

`script` holds what the next requests get, in order (a `ServiceError` such as
`throttling()`, or a response body); once it is empty, `default` answers: a careful model that
reads the fenced evidence back and agrees with the local estimate. Token counts are an
estimate, one token per `CHARS_PER_TOKEN` characters of what the model was sent and said (the
docs say what they are worth).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from tests.wire.rest_json import Reply, Routes, ServiceError, serving

CHARS_PER_TOKEN = 3.5
_FENCED = re.compile(r"<evidence>\n(.*)\n</evidence>", re.DOTALL)
Answer = Callable[[dict[str, Any]], dict[str, Any]]


def throttling() -> ServiceError:
    return ServiceError(429, "ThrottlingException", "Too many requests, please wait.")


def tool_use(tool_input: object, name: str = "record_assessment") -> dict[str, Any]:
    """A response body whose message is one tool call."""
    block = {"toolUse": {"toolUseId": "tooluse_1", "name": name, "input": tool_input}}
    return {
        "output": {"message": {"role": "assistant", "content": [block]}},
        "stopReason": "tool_use",
    }


def text_only(text: str) -> dict[str, Any]:
    return {
        "output": {"message": {"role": "assistant", "content": [{"text": text}]}},
        "stopReason": "end_turn",
    }


def fenced_evidence(request: dict[str, Any]) -> dict[str, Any]:
    """The evidence JSON of a Converse request's user turn."""
    text = request["messages"][0]["content"][0]["text"]
    found = _FENCED.search(text)
    assert found is not None, "no fenced evidence in the prompt"
    parsed: dict[str, Any] = json.loads(found.group(1))
    return parsed


def careful_model(request: dict[str, Any]) -> dict[str, Any]:
    """Explains from the evidence alone and agrees with the local risk."""
    evidence = fenced_evidence(request)
    risk = evidence["local_risk"]["probability_of_break"]
    usage = evidence["usage"]
    return tool_use(
        {
            "rationale": f"{evidence['principal']} made {usage['allowed_calls']} allowed calls "
            f"of {len(usage['actions'])} actions; the proposal keeps them.",
            "risk_signal": {
                "probability_of_break": risk,
                "rationale": "The local factors account for the risk.",
            },
            "remediation_notes": [],
        }
    )


@dataclass
class FakeBedrock:
    script: list[ServiceError | dict[str, Any]] = field(default_factory=list)
    default: Answer = careful_model
    routes: Routes = field(default_factory=Routes)
    endpoint_url: str = ""
    calls: list[dict[str, Any]] = field(default_factory=list)
    """Every Converse request body (throttled ones too), with the model id as `modelId`."""

    def converse(self, groups: tuple[str, ...], body: dict[str, Any], _: dict[str, str]) -> Reply:
        self.calls.append({**body, "modelId": groups[0]})
        if self.script:
            step = self.script.pop(0)
            if isinstance(step, ServiceError):
                raise step
            answer = step
        else:
            answer = self.default(body)
        return Reply({**answer, **usage_of(body, answer), "metrics": {"latencyMs": 900}})


def usage_of(request: dict[str, Any], answer: dict[str, Any]) -> dict[str, Any]:
    """The `usage` the fake bills: its estimate of the tokens sent and said."""
    sent = json.dumps([request.get("system"), request.get("messages"), request.get("toolConfig")])
    said = json.dumps(answer.get("output"))
    inputs, outputs = _tokens(sent), _tokens(said)
    return {
        "usage": {"inputTokens": inputs, "outputTokens": outputs, "totalTokens": inputs + outputs}
    }


def _tokens(text: str) -> int:
    return math.ceil(len(text) / CHARS_PER_TOKEN)


@contextmanager
def running_bedrock(*script: ServiceError | dict[str, Any]) -> Iterator[FakeBedrock]:
    fake = FakeBedrock(list(script))
    fake.routes.add("POST", r"/model/(.+)/converse", fake.converse)
    with serving(fake.routes) as url:
        fake.endpoint_url = url
        yield fake
