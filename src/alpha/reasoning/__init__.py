"""Reasoning: explain a proposal and estimate its risk of breakage from the evidence."""

from typing import TYPE_CHECKING

from alpha.lazy_exports import lazy_exports

if TYPE_CHECKING:
    from alpha.reasoning.evidence import (
        Evidence,
        GuardrailSummary,
        InferredPermission,
        build_evidence,
    )
    from alpha.reasoning.local import LocalReasoner
    from alpha.reasoning.ports import ModelRun, Reasoner, Reasoning

lazy_exports(
    __name__,
    {
        "alpha.reasoning.evidence": (
            "Evidence",
            "GuardrailSummary",
            "InferredPermission",
            "build_evidence",
        ),
        "alpha.reasoning.local": ("LocalReasoner",),
        "alpha.reasoning.ports": ("ModelRun", "Reasoner", "Reasoning"),
    },
)

__all__ = [
    "Evidence",
    "GuardrailSummary",
    "InferredPermission",
    "LocalReasoner",
    "ModelRun",
    "Reasoner",
    "Reasoning",
    "build_evidence",
]
