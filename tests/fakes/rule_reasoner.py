"""`RuleReasoner`: the `Reasoner` port by one rule simple enough to check by hand.

The risk of break is the share of replayed calls the proposal would deny (nothing replayed:
nothing known to break), the rationale states the principal's figures, and there is one
remediation note when the replay misses calls. `seen` keeps the evidence it was asked about,
so a test can check what a caller handed over.
"""

from __future__ import annotations

from alpha.reasoning.evidence import Evidence
from alpha.reasoning.ports import Reasoning
from alpha.reasoning.risk import RiskFactor, RiskSignal


class RuleReasoner:
    def __init__(self) -> None:
        self.seen: list[Evidence] = []

    def reason(self, evidence: Evidence) -> Reasoning:
        self.seen.append(evidence)
        observed, allowed = evidence.replay.observed, evidence.replay.allowed
        missed = max(observed - allowed, 0)
        probability = missed / observed if observed else 0.0
        explanation = f"The proposal denies {missed} of {observed} replayed calls."
        risk = RiskSignal(
            probability, explanation, (RiskFactor("replay", probability, explanation),)
        )
        rationale = (
            f"{evidence.principal} made {evidence.total_calls} allowed calls of "
            f"{len(evidence.used_actions)} actions. {explanation}"
        )
        notes = ("Widen the proposal to the calls the replay missed.",) if missed else ()
        return Reasoning(rationale, risk, notes)
