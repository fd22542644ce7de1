"""What the guardrails report: violations, and the fixes `enforce` applied."""

from __future__ import annotations

from dataclasses import dataclass

from alpha.policy.findings import Finding, Severity


@dataclass(frozen=True, slots=True)
class Violation:
    """One guardrail broken at a place: the seed's `{code, message, path}` plus a severity.

    `path` is like `Statement[0].Action[1]` ("" for the whole document). A violation of
    severity ERROR blocks approval; warnings and notes are for the reviewer.
    """

    code: str
    message: str
    path: str
    severity: Severity

    @property
    def blocks(self) -> bool:
        return self.severity is Severity.ERROR

    def as_finding(self) -> Finding:
        """The violation as a policy `Finding`, for reports that list both together."""
        return Finding(self.code, self.severity, self.message, self.path)

    def as_json(self) -> dict[str, object]:
        return {
            "code": self.code,
            "message": self.message,
            "path": self.path,
            "severity": self.severity.value,
            "blocks": self.blocks,
        }


@dataclass(frozen=True, slots=True)
class Fix:
    """A change `enforce` made to resolve violations of `code`; `path` is in the input policy."""

    code: str
    path: str
    note: str

    def as_json(self) -> dict[str, str]:
        return {"code": self.code, "path": self.path, "note": self.note}
