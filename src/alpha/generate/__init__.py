"""Generate: least-privilege policies from observed usage, never wider than today's grants."""

from typing import TYPE_CHECKING

from alpha.lazy_exports import lazy_exports

if TYPE_CHECKING:
    from alpha.generate.errors import GenerateError
    from alpha.generate.generator import ProposalGenerator, UsageContext
    from alpha.generate.model import GenerationSettings, ObservedCall

lazy_exports(
    __name__,
    {
        "alpha.generate.errors": ("GenerateError",),
        "alpha.generate.generator": ("ProposalGenerator", "UsageContext"),
        "alpha.generate.model": ("GenerationSettings", "ObservedCall"),
    },
)

__all__ = [
    "GenerateError",
    "GenerationSettings",
    "ObservedCall",
    "ProposalGenerator",
    "UsageContext",
]
