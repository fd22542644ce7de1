"""The `Reasoner` port: evidence in, an explanation with a risk estimate out.

`LocalReasoner` (deterministic, no network) implements it; a model-backed reasoner (Bedrock,
`alpha.adapters.aws.bedrock_reasoner`) validates what the model returns into a `Reasoning`
and records how it answered in `ModelRun`: the model, its token counts, both risks, and why
the local reasoner answered instead when the model could not.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from alpha.reasoning.evidence import Evidence
from alpha.reasoning.risk import RiskSignal


@dataclass(frozen=True, slots=True)
class ModelRun:
    """How a model-backed reasoner answered for one proposal. `fallback` is set when the
    local reasoner answered instead (the model failed or its answer was invalid); tokens are
    what the model billed, also for an answer that was then refused."""

    reasoner: str
    model: str
    local_probability: float
    model_probability: float | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    fallback: str | None = None

    def to_dict(self) -> dict[str, Any]:
        model_risk = self.model_probability
        return {
            "name": self.reasoner,
            "model": self.model,
            "answered_by": "local" if self.fallback is not None else "model",
            "fallback_reason": self.fallback,
            "local_probability_of_break": round(self.local_probability, 4),
            "model_probability_of_break": None if model_risk is None else round(model_risk, 4),
            "tokens": {"input": self.input_tokens, "output": self.output_tokens},
        }


@dataclass(frozen=True, slots=True)
class Reasoning:
    """The seed's `rationale`, `risk_signal` and `remediation_notes` for one proposal, and
    (`run`) how a model answered, when one was asked."""

    rationale: str
    risk_signal: RiskSignal
    remediation_notes: tuple[str, ...]
    run: ModelRun | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "rationale": self.rationale,
            "risk_signal": self.risk_signal.to_dict(),
            "remediation_notes": list(self.remediation_notes),
            **self.recorded(),
        }

    def recorded(self) -> dict[str, Any]:
        """`{"reasoner": ...}` when a model was asked, else nothing: a proposal reasoned
        locally keeps the document it always had."""
        return {} if self.run is None else {"reasoner": self.run.to_dict()}


class Reasoner(Protocol):
    def reason(self, evidence: Evidence) -> Reasoning:
        """Explain the proposal the evidence describes and estimate its risk of breakage."""
        ...
