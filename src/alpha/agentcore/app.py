"""ALPHA on Amazon Bedrock AgentCore Runtime: `python -m alpha.agentcore.app` serves
`POST /invocations` (and `/ping`) on port 8080, as AgentCore runs an agent's container.

A payload names one tool and its arguments, `{"tool": "scan", "arguments": {"top": 5}}`; the
answer is `{"tool": ..., "result": ...}` or `{"tool": ..., "error": "one line"}`. The tools
are the MCP server's (`alpha mcp`): the model that chooses them runs in the caller (an
AgentCore Gateway target, or any agent framework), and can never approve or roll out. The
account is `ALPHA_ACCOUNT` and the CloudTrail logs `ALPHA_LOGS`; the rest of the settings
as everywhere (`ALPHA_STORE`, alpha.toml)."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from alpha.app import Flags, application_for, load_settings
from alpha.app.agent_tools import AgentTools
from alpha.errors import AlphaError

__all__ = ["Invocation", "build_app", "invoke", "main"]


class Invocation(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    tool: Literal["scan", "explain_proposal", "propose"]
    arguments: dict[str, Any] = {}


def invoke(payload: Mapping[str, Any], env: Mapping[str, str]) -> dict[str, Any]:
    """One invocation: validate, call the tool, answer JSON (an error as one line)."""
    try:
        call = Invocation.model_validate(dict(payload))
    except ValidationError as exc:
        where = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'payload'}: {e['msg']}" for e in exc.errors()
        )
        return {"tool": payload.get("tool"), "error": f"bad invocation: {where}"}
    try:
        return {"tool": call.tool, "result": _tools(env).call(call.tool, dict(call.arguments))}
    except AlphaError as exc:
        return {"tool": call.tool, "error": str(exc)}


def _tools(env: Mapping[str, str]) -> AgentTools:
    settings = load_settings(Flags(), env, Path.cwd())
    account = env.get("ALPHA_ACCOUNT", "").strip()
    if not account:
        from alpha.app import AppError

        raise AppError("ALPHA_ACCOUNT is not set: which account the tools read")
    return AgentTools(application_for(settings, env), account, settings.logs)


def build_app(env: Mapping[str, str]) -> Any:
    """The AgentCore application, its entrypoint answering over `env`."""
    from bedrock_agentcore import BedrockAgentCoreApp

    app = BedrockAgentCoreApp()
    handler: Callable[[dict[str, Any]], dict[str, Any]] = lambda payload: invoke(payload, env)  # noqa: E731
    app.entrypoint(handler)
    return app


def main() -> None:
    build_app(os.environ).run()


if __name__ == "__main__":
    main()
