"""`RecordedCallbacks`: the shared fake of `WorkflowCallbacks`, keeping every answer sent to a
waiting execution, and refusing a token answered already or never issued (as Step Functions
does with TaskTimedOut / InvalidToken)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from alpha.errors import AlphaError

__all__ = ["Answer", "RecordedCallbacks", "UnknownTokenError"]


class UnknownTokenError(AlphaError):
    pass


@dataclass(frozen=True, slots=True)
class Answer:
    token: str
    output: dict[str, Any] | None = None  # a success
    error: str = ""  # a failure
    cause: str = ""


@dataclass
class RecordedCallbacks:
    issued: set[str] = field(default_factory=set)
    answers: list[Answer] = field(default_factory=list)

    def issue(self, token: str) -> str:
        self.issued.add(token)
        return token

    def succeed(self, token: str, output: dict[str, Any]) -> None:
        self._take(token)
        self.answers.append(Answer(token, output=output))

    def fail(self, token: str, error: str, cause: str) -> None:
        self._take(token)
        self.answers.append(Answer(token, error=error, cause=cause))

    def _take(self, token: str) -> None:
        if token not in self.issued:
            raise UnknownTokenError(f"TaskTimedOut: no task waits for token {token!r}")
        self.issued.discard(token)
