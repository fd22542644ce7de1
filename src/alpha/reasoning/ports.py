"""The `Reasoner` port: evidence in, an explanation with a risk estimate out.

`LocalReasoner` (deterministic, no network) implements it; a model-backed reasoner can come
later behind the same Protocol, validating what the model returns into a `Reasoning`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from alpha.reasoning.evidence import Evidence
from alpha.reasoning.risk import RiskSignal


@dataclass(frozen=True, slots=True)
class Reasoning:
    """The seed's `rationale`, `risk_signal` and `remediation_notes` for one proposal."""

    rationale: str
    risk_signal: RiskSignal
    remediation_notes: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "rationale": self.rationale,
            "risk_signal": self.risk_signal.to_dict(),
            "remediation_notes": list(self.remediation_notes),
        }


class Reasoner(Protocol):
    def reason(self, evidence: Evidence) -> Reasoning:
        """Explain the proposal the evidence describes and estimate its risk of breakage."""
        ...
