"""`alpha mcp`: ALPHA's agent tools (scan, explain a proposal, propose; never approve or roll
out) served over the Model Context Protocol on stdio, for any MCP client."""

from __future__ import annotations

import json
from typing import Any

import click

from alpha.cli.workflow_options import application_of

__all__ = ["mcp", "mcp_server"]

INSTRUCTIONS = (
    "ALPHA finds unused IAM permissions from CloudTrail and proposes least-privilege "
    "policies. You may scan, explain proposals and propose; approving and rolling out are for "
    "a person, with `alpha approve` and `alpha rollout`."
)


def mcp_server(tools: Any) -> Any:
    """An MCP server over `tools` (an `alpha.app.agent_tools.AgentTools`)."""
    from mcp.server.mcpserver import MCPServer

    server = MCPServer(name="alpha", instructions=INSTRUCTIONS)

    @server.tool(description="The principals with the most unused permissions (top N).")
    def scan(top: int = 10) -> str:
        return _answer(tools, "scan", {"top": top})

    @server.tool(description="A stored proposal explained: rationale, risk, diff, state.")
    def explain_proposal(proposal_id: str) -> str:
        return _answer(tools, "explain_proposal", {"proposal_id": proposal_id})

    @server.tool(description="Store a least-privilege proposal for a principal (by ARN).")
    def propose(principal: str) -> str:
        return _answer(tools, "propose", {"principal": principal})

    return server


def _answer(tools: Any, name: str, arguments: dict[str, Any]) -> str:
    """The tool's JSON; ALPHA's one-line error goes back to the client as the tool's error."""
    from mcp.server.mcpserver.exceptions import ToolError

    from alpha.errors import AlphaError

    try:
        return json.dumps(tools.call(name, arguments))
    except AlphaError as exc:
        raise ToolError(str(exc)) from exc


@click.command("mcp")
@click.option("--account", "account", required=True, help="The account file (or `aws`).")
@click.option("--logs", multiple=True, required=True, help="CloudTrail logs (folder, s3://).")
@click.option("--store", default=None, help="The store (default: settings).")
@click.option("--config", default=None, help="alpha.toml to read settings from.")
@click.option("--by", "user", default=None, help="Who proposals are made by.")
def mcp(
    account: str, logs: tuple[str, ...], store: str | None, config: str | None, user: str | None
) -> None:
    """Serve ALPHA's tools to an MCP client on stdin/stdout."""
    from alpha.app.agent_tools import AgentTools

    app = application_of(store=store, config=config, now=None, logs=logs, user=user)
    mcp_server(AgentTools(app, account, app.settings.logs)).run("stdio")
