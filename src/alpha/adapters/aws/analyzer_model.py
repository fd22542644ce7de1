"""What IAM Access Analyzer answers, as plain values, and its errors: what the application
needs of the adapter without loading the SDK."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from alpha.errors import AlphaError

__all__ = [
    "AnalyzerError",
    "AnalyzerQuotaError",
    "GeneratedPolicy",
    "NoNewAccessCheck",
    "TrailAccess",
    "ValidationFinding",
]


class AnalyzerError(AlphaError):
    """Access Analyzer could not answer; the message names the call and AWS's error code."""


class AnalyzerQuotaError(AnalyzerError):
    """The account's daily policy generation quota is spent."""


@dataclass(frozen=True, slots=True)
class TrailAccess:
    """What Access Analyzer reads: the trail, the role it assumes to read it, the window."""

    trail_arn: str
    role_arn: str
    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class GeneratedPolicy:
    job_id: str
    documents: tuple[str, ...]
    complete: bool


@dataclass(frozen=True, slots=True)
class NoNewAccessCheck:
    result: str  # PASS or FAIL
    message: str
    reasons: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"result": self.result, "message": self.message, "reasons": list(self.reasons)}


@dataclass(frozen=True, slots=True)
class ValidationFinding:
    finding_type: str  # ERROR, SECURITY_WARNING, WARNING or SUGGESTION
    issue_code: str
    detail: str
    link: str

    @property
    def blocks(self) -> bool:
        return self.finding_type == "ERROR"

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": self.finding_type,
            "issue_code": self.issue_code,
            "detail": self.detail,
            "learn_more": self.link,
            "blocks": self.blocks,
        }
