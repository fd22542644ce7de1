"""Generate: least-privilege policies from observed usage, never wider than today's grants."""

from alpha.generate.errors import GenerateError, GenerationBugError
from alpha.generate.generator import (
    ProposalGenerator,
    UsageContext,
    observed_calls,
)
from alpha.generate.model import (
    ChangePlan,
    DroppedCall,
    EvidenceSummary,
    GenerationFailure,
    GenerationSettings,
    InferredGrant,
    ObservedCall,
    PlanStep,
    PolicyProposal,
    Replay,
)

__all__ = [
    "ChangePlan",
    "DroppedCall",
    "EvidenceSummary",
    "GenerateError",
    "GenerationBugError",
    "GenerationFailure",
    "GenerationSettings",
    "InferredGrant",
    "ObservedCall",
    "PlanStep",
    "PolicyProposal",
    "ProposalGenerator",
    "Replay",
    "UsageContext",
    "observed_calls",
]
