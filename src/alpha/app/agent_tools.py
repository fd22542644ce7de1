"""ALPHA's tools for agents (the MCP server, the AgentCore entrypoint): scan an account,
explain a proposal, propose. Deliberately no approve and no rollout: an agent may find and
suggest, a person decides, and the rollout follows that decision only.

Each tool takes plain JSON-able arguments and answers JSON-able data, so every agent
interface serves the same tools the same way."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from alpha.app.application import Application
from alpha.app.errors import AppError
from alpha.app.proposing import GenerateRequest
from alpha.app.scanning import ScanRequest

__all__ = ["TOOL_NAMES", "AgentTools", "ToolError"]

TOOL_NAMES = ("scan", "explain_proposal", "propose")
_EXPLAINED = ("principal", "rationale", "risk_signal", "remediation_notes", "diff", "blocked")


class ToolError(AppError):
    """A tool asked for something it does not do (an unknown tool, a missing argument)."""


@dataclass(frozen=True, slots=True)
class AgentTools:
    app: Application
    account: str
    logs: tuple[str, ...]

    def scan(self, top: int = 10) -> dict[str, Any]:
        """The principals with the most unused permissions, most first."""
        report = self.app.scan(ScanRequest(self.account, self.logs)).report
        return {
            "principals": [score.to_dict() for score in report.scores[: max(top, 1)]],
            "unknown_principals": list(report.unknown_principals),
        }

    def explain_proposal(self, proposal_id: str) -> dict[str, Any]:
        """Why the proposal removes what it removes, its risk and its state."""
        found, view = self.app.show(proposal_id)
        document = view["proposal"]
        return {
            "id": found.id,
            "state": view["state"],
            **{key: document[key] for key in _EXPLAINED if key in document},
            "approvals": view["approvals"],
        }

    def propose(self, principal: str) -> dict[str, Any]:
        """Store a least-privilege proposal for the principal, for a person to approve."""
        result = self.app.propose(GenerateRequest(self.account, self.logs, principal))
        return result.to_dict()

    def call(self, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
        """A tool by name (an agent's request, untrusted)."""
        if name not in TOOL_NAMES:
            raise ToolError(f"no tool {name!r}; the tools are {', '.join(TOOL_NAMES)}")
        try:
            answer: dict[str, Any] = getattr(self, name)(**arguments)
        except TypeError as exc:
            raise ToolError(f"{name}: {exc}") from exc
        return answer
