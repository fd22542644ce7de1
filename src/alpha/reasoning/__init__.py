"""Reasoning: explain a proposal and estimate its risk of breakage from the evidence."""

from alpha.reasoning.evidence import (
    ActionObservation,
    DiffView,
    Evidence,
    GuardrailSummary,
    InferredPermission,
    LevelGrants,
    RemovedAction,
    ReplayCoverage,
    build_evidence,
    days_seen_from_hourly,
)
from alpha.reasoning.local import LocalReasoner
from alpha.reasoning.ports import Reasoner, Reasoning
from alpha.reasoning.risk import RiskFactor, RiskSignal, estimate_risk

__all__ = [
    "ActionObservation",
    "DiffView",
    "Evidence",
    "GuardrailSummary",
    "InferredPermission",
    "LevelGrants",
    "LocalReasoner",
    "Reasoner",
    "Reasoning",
    "RemovedAction",
    "ReplayCoverage",
    "RiskFactor",
    "RiskSignal",
    "build_evidence",
    "days_seen_from_hourly",
    "estimate_risk",
]
