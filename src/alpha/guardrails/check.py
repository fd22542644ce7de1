"""Guardrail checks of policy documents as written in files: the entry point for `alpha lint
--guardrails`."""

from __future__ import annotations

from alpha.catalog import Catalog
from alpha.guardrails.config import GuardrailConfig
from alpha.guardrails.model import Violation
from alpha.guardrails.rules import check
from alpha.policy.errors import PolicyParseError
from alpha.policy.parse import parse_policy_text

__all__ = ["blocking_codes"]


def check_text(text: str, catalog: Catalog, config: GuardrailConfig) -> tuple[Violation, ...]:
    """The guardrail violations of a policy document's JSON text, most severe first.

    A document that does not parse has none: `validate` already reports why it does not parse,
    and the guardrails need a policy to look at.
    """
    try:
        policy = parse_policy_text(text)
    except PolicyParseError:
        return ()
    return check(policy, catalog, config)


UNREADABLE_POLICY = "UNREADABLE_POLICY"


def blocking_codes(document: object, catalog: Catalog, config: GuardrailConfig) -> list[str]:
    """The codes of the violations that block approval of a policy document (decoded JSON),
    under `config`; a document that does not parse blocks on `UNREADABLE_POLICY`, since
    nothing can be said of what it grants."""
    from alpha.policy.parse import parse_policy

    try:
        policy = parse_policy(document)
    except PolicyParseError:
        return [UNREADABLE_POLICY]
    return sorted({v.code for v in check(policy, catalog, config) if v.blocks})
