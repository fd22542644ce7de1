"""Guardrails: the organisation's rules every policy must follow, checked and enforced.

`check` lists violations; `enforce` also fixes what can be fixed without widening access and
returns the sanitised policy; `to_sarif` renders them for code-scanning tools.
"""

from typing import TYPE_CHECKING

from alpha.lazy_exports import lazy_exports

if TYPE_CHECKING:
    from alpha.guardrails.check import check_text
    from alpha.guardrails.config import GuardrailConfig, load_config, parse_config
    from alpha.guardrails.enforce import GuardrailResult, enforce
    from alpha.guardrails.errors import GuardrailError
    from alpha.guardrails.model import Violation
    from alpha.guardrails.registry import GUARDRAIL_RULES
    from alpha.guardrails.rules import RULES, check
    from alpha.guardrails.sarif import SarifFile, to_sarif

lazy_exports(
    __name__,
    {
        "alpha.guardrails.check": ("check_text",),
        "alpha.guardrails.config": ("GuardrailConfig", "load_config", "parse_config"),
        "alpha.guardrails.enforce": ("GuardrailResult", "enforce"),
        "alpha.guardrails.errors": ("GuardrailError",),
        "alpha.guardrails.model": ("Violation",),
        "alpha.guardrails.registry": ("GUARDRAIL_RULES",),
        "alpha.guardrails.rules": ("RULES", "check"),
        "alpha.guardrails.sarif": ("SarifFile", "to_sarif"),
    },
)

__all__ = [
    "GUARDRAIL_RULES",
    "RULES",
    "GuardrailConfig",
    "GuardrailError",
    "GuardrailResult",
    "SarifFile",
    "Violation",
    "check",
    "check_text",
    "enforce",
    "load_config",
    "parse_config",
    "to_sarif",
]
