"""Actions the organization's policies deny whatever the resource and the request context.

A least-privilege proposal that removes such an action removes nothing the principal could do
today, which the reasoning says (and the privilege reduction alone would hide). "Whatever the
context" is judged soundly, towards "not blocked": a Deny counts only when it has no condition
and covers every resource (`*`); a level blocks an action it has no Allow for at all, a
conditional or resource-limited Allow counting as allowing.
"""

from __future__ import annotations

from collections.abc import Iterable

from alpha.policy.evaluate import RCP_SERVICES
from alpha.policy.matchers import Candidate, PolicyLayer, StatementMatcher, StatementRef
from alpha.policy.model import Effect
from alpha.policy.org_policies import OrgGuardrails, PolicyLevel

__all__ = ["OrgBlocks"]

_Level = tuple[str, PolicyLevel, tuple[StatementMatcher, ...]]
_NO_ALLOW = -1


class OrgBlocks:
    """The levels of one account's guardrails, compiled once, asked per action (each answer
    kept: an account's proposals remove the same thousands of actions again and again)."""

    def __init__(self, guardrails: OrgGuardrails) -> None:
        self._levels: tuple[_Level, ...] = (
            *(("SCP", level, _compiled(level)) for level in guardrails.scps),
            *(("RCP", level, _compiled(level)) for level in guardrails.rcps),
        )
        self._answers: dict[str, str | None] = {}

    def why_blocked(self, action: str) -> str | None:
        """Why every request for `action` is denied by the organization, or None."""
        if action in self._answers:
            return self._answers[action]
        found = self._answers[action] = self._why_blocked(action)
        return found

    def _why_blocked(self, action: str) -> str | None:
        key = action.lower()
        service = key.partition(":")[0]
        for kind, level, matchers in self._levels:
            if kind == "RCP" and service not in RCP_SERVICES:
                continue
            found = _level_blocks(key, service, matchers)
            if found == _NO_ALLOW:
                return f"no {kind} at {level.describe()} allows {action}"
            if found is not None:
                return f"denied by {level.origin(found).describe(kind)}"
        return None

    def blocked(self, actions: Iterable[str]) -> dict[str, str]:
        return {a: why for a in actions if (why := self.why_blocked(a)) is not None}


def _compiled(level: PolicyLevel) -> tuple[StatementMatcher, ...]:
    return tuple(
        StatementMatcher(s, StatementRef(PolicyLayer.SCP, 0, n, s.effect, s.sid), True)
        for n, s in enumerate(level.merged().statements)
    )


def _level_blocks(key: str, service: str, matchers: tuple[StatementMatcher, ...]) -> int | None:
    """The index of an unconditional Deny of `key` on `*`; `_NO_ALLOW` when no statement
    allows it; None when the level may allow it."""
    allowed = False
    for matcher in matchers:
        candidate = matcher.for_service(service)
        if candidate is None or not _names(candidate, key):
            continue
        if matcher.ref.effect is Effect.ALLOW:
            allowed = True
        elif not matcher.conditions and candidate.resource is None:
            return matcher.ref.statement
    return None if allowed else _NO_ALLOW


def _names(candidate: Candidate, key: str) -> bool:
    return candidate.action is None or candidate.action(key)
