"""The `Reasoner` port on Amazon Bedrock's Converse API.

Each proposal is one `Converse` call: the system prompt and the fenced evidence of
`alpha.reasoning.prompt`, one tool whose input is the seed's reasoning fields, and
`toolChoice` forcing it, so the answer is structured data, validated by
`alpha.reasoning.answer`. The model explains; it never sees a way to state a policy, and
nothing it returns is read as one.

The local reasoner always runs first. When the call fails (throttled past the client's
retries, a timeout, access denied, a model that does not exist) or the answer is not a valid
tool call, the local reasoning is the answer and `ModelRun.fallback` says why; the tokens the
model billed are kept either way.
"""

from __future__ import annotations

import json
import logging
from dataclasses import replace
from typing import Any

from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from alpha.adapters.aws.clients import describe_error, make_client
from alpha.reasoning import Evidence, ModelRun, Reasoner, Reasoning
from alpha.reasoning.answer import ModelAnswerError, fallen_back, merge, read_answer
from alpha.reasoning.prompt import SYSTEM_PROMPT, TOOL_NAME, tool_schema, user_prompt

__all__ = [
    "DEFAULT_MODEL",
    "BedrockReasoner",
    "bedrock_config",
    "make_bedrock_client",
]

log = logging.getLogger(__name__)

DEFAULT_MODEL = "anthropic.claude-sonnet-4-5-20250929-v1:0"
MAX_OUTPUT_TOKENS = 2000
REASONER_NAME = "bedrock"


def bedrock_config(*, read_timeout: float = 60.0, max_attempts: int = 4) -> Config:
    """Timeouts and retries for Converse: `max_attempts` calls in all, standard retries
    (exponential backoff with jitter on ThrottlingException, 5xx and timeouts)."""
    return Config(
        connect_timeout=10,
        read_timeout=read_timeout,
        retries={"mode": "standard", "total_max_attempts": max_attempts},
    )


def make_bedrock_client(
    *,
    region: str | None = None,
    profile: str | None = None,
    endpoint_url: str | None = None,
    read_timeout: float = 60.0,
    max_attempts: int = 4,
) -> Any:
    """A `bedrock-runtime` client; without `endpoint_url`, botocore's own resolution applies
    (including `AWS_ENDPOINT_URL_BEDROCK_RUNTIME`)."""
    config = bedrock_config(read_timeout=read_timeout, max_attempts=max_attempts)
    return make_client(
        "bedrock-runtime", region=region, profile=profile, endpoint_url=endpoint_url, config=config
    )


class BedrockReasoner:
    """Implements `Reasoner` through Converse; `local` answers whenever the model cannot."""

    def __init__(self, client: Any, model: str, local: Reasoner) -> None:
        self._client = client
        self._model = model
        self._local = local

    def request(self, evidence: Evidence, local: Reasoning) -> dict[str, Any]:
        """The Converse request for this evidence (public: tests and docs measure it)."""
        return {
            "modelId": self._model,
            "system": [{"text": SYSTEM_PROMPT}],
            "messages": [{"role": "user", "content": [{"text": user_prompt(evidence, local)}]}],
            "inferenceConfig": {"maxTokens": MAX_OUTPUT_TOKENS, "temperature": 0.0},
            "toolConfig": {
                "tools": [
                    {
                        "toolSpec": {
                            "name": TOOL_NAME,
                            "description": "Record the explanation and breakage risk of the "
                            "proposal. The only way to answer.",
                            "inputSchema": {"json": tool_schema()},
                        }
                    }
                ],
                "toolChoice": {"tool": {"name": TOOL_NAME}},
            },
        }

    def reason(self, evidence: Evidence) -> Reasoning:
        local = self._local.reason(evidence)
        run = ModelRun(REASONER_NAME, self._model, local.risk_signal.probability_of_break)
        try:
            response = self._client.converse(**self.request(evidence, local))
        except (ClientError, BotoCoreError) as error:
            reason = f"Bedrock call failed: {describe_error(error)}"
            log.warning("%s: %s; the local reasoner answers", evidence.principal, reason)
            return fallen_back(local, replace(run, fallback=reason))
        usage = response.get("usage") or {}
        run = replace(
            run,
            input_tokens=_count(usage.get("inputTokens")),
            output_tokens=_count(usage.get("outputTokens")),
        )
        try:
            answer = read_answer(_tool_input(response))
        except ModelAnswerError as error:
            reason = f"invalid model output: {error}"
            log.warning("%s: %s; the local reasoner answers", evidence.principal, reason)
            return fallen_back(local, replace(run, fallback=reason))
        model_p = answer.risk_signal.probability_of_break
        return merge(local, answer, replace(run, model_probability=model_p))


def _count(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def _tool_input(response: dict[str, Any]) -> object:
    """The input of the one forced tool call; `ModelAnswerError` for anything else."""
    stop = response.get("stopReason")
    if stop not in ("tool_use", "end_turn"):
        raise ModelAnswerError(f"the model stopped with {json.dumps(stop)}, not a tool call")
    content = ((response.get("output") or {}).get("message") or {}).get("content") or []
    calls = [
        block["toolUse"] for block in content if isinstance(block, dict) and "toolUse" in block
    ]
    if len(calls) != 1:
        raise ModelAnswerError(f"expected one call of {TOOL_NAME}, got {len(calls)}")
    call = calls[0]
    if not isinstance(call, dict) or call.get("name") != TOOL_NAME:
        raise ModelAnswerError(f"the model called another tool than {TOOL_NAME}")
    return call.get("input")
