"""Errors of the policy package."""

from __future__ import annotations

from dataclasses import dataclass

from alpha.errors import AlphaError
from alpha.policy.user_files import one_line

__all__ = ["PolicyError", "PolicyParseError"]


class PolicyError(AlphaError):
    """Base error of the policy package."""


@dataclass(frozen=True, slots=True)
class Problem:
    """A structural problem at a place in a document, e.g. `Statement[2].Action[0]`.

    `code` is the finding kind's stable ID in `alpha.policy.findings` (e.g. `INVALID_TYPE`), so
    `validate` and `alpha lint` can report the problem without parsing its message.
    """

    path: str
    message: str
    code: str = "INVALID_TYPE"

    def __post_init__(self) -> None:
        # Keys and values quoted from the document may hold line breaks or control characters
        object.__setattr__(self, "path", one_line(self.path))
        object.__setattr__(self, "message", one_line(self.message))


class PolicyParseError(PolicyError):
    """The document is not a policy IAM would accept; `problems` lists every place found."""

    def __init__(self, source: str, problems: tuple[Problem, ...]) -> None:
        self.source = source
        self.problems = problems
        first = problems[0]
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        where = f"{source}: {first.path}" if first.path else source
        super().__init__(f"{where}: {first.message}{more}")
