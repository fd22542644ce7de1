"""`alpha mcp` as an MCP client meets it: a real session over the server's stdin/stdout,
listing the tools (scan, explain, propose: no approve, no rollout) and calling them on the
demo's account and CloudTrail sample."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import anyio
import pytest

from alpha.demo.sample import ROLLOUT_AT, SamplePaths, write_sample

ORDERS = "arn:aws:iam::111122223333:role/orders-api"


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> SamplePaths:
    return write_sample(tmp_path_factory.mktemp("sample"))


def _text(result: Any) -> str:
    from mcp.types import TextContent

    [content] = result.content
    assert isinstance(content, TextContent)
    return content.text


async def _session(sample: SamplePaths, store: Path) -> dict[str, Any]:
    from mcp import ClientSession
    from mcp.client.stdio import StdioServerParameters, stdio_client

    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("ALPHA_")},
        "ALPHA_NOW": ROLLOUT_AT.isoformat(),
        "ALPHA_STORE_REPLAY": "true",
        "ALPHA_USAGE_STORE": str(store.parent / "usage.duckdb"),
    }
    server = StdioServerParameters(
        command=sys.executable,
        args=[
            "-c",
            "from alpha.cli.main import main; main()",
            "mcp",
            "--account",
            str(sample.account),
            "--logs",
            str(sample.observed),
            "--store",
            str(store),
            "--by",
            "agent",
        ],
        env=env,
    )
    async with stdio_client(server) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        tools = await session.list_tools()
        scanned = await session.call_tool("scan", {"top": 3})
        proposed = await session.call_tool("propose", {"principal": ORDERS})
        proposal_id = json.loads(_text(proposed))["proposals"][0]["id"]
        explained = await session.call_tool("explain_proposal", {"proposal_id": proposal_id[:8]})
        missing = await session.call_tool("explain_proposal", {"proposal_id": "ffffffff"})
        return {
            "tools": sorted(t.name for t in tools.tools),
            "scan": json.loads(_text(scanned)),
            "explained": json.loads(_text(explained)),
            "missing": (missing.is_error, _text(missing)),
        }


def test_an_mcp_client_lists_and_calls_the_tools(sample: SamplePaths, tmp_path: Path) -> None:
    answers = anyio.run(_session, sample, tmp_path / "alpha.db")
    assert answers["tools"] == ["explain_proposal", "propose", "scan"]
    assert len(answers["scan"]["principals"]) == 3
    explained = answers["explained"]
    assert (explained["principal"], explained["state"]) == (ORDERS, "proposed")
    assert explained["rationale"]
    is_error, text = answers["missing"]
    assert is_error
    assert "ffffffff" in text
