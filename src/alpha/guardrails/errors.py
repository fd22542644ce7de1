"""Errors of the guardrails package."""

from __future__ import annotations

from alpha.errors import AlphaError


class GuardrailError(AlphaError):
    """Bad guardrail configuration: the message names the file (or variable) and the field."""
