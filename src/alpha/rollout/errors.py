"""The rollout package's one base error and its refusals."""

from __future__ import annotations

from alpha.errors import AlphaError

__all__ = ["ApprovalError", "IamChangeError", "RolloutError", "UnreadableLogsError"]


class RolloutError(AlphaError):
    """The workflow refuses a step (illegal transition, approval refused, stage not ready) or a
    change to the account cannot be made."""


class IllegalTransitionError(RolloutError):
    """The transition table has no edge for this state and event."""


class ApprovalError(RolloutError):
    """An approval, rejection or rollout start is refused; the message names the reason."""


class ConcurrentChangeError(RolloutError):
    """Another process moved the proposal first (the compare-and-set lost)."""


class IamChangeError(RolloutError):
    """A change to a principal's IAM state cannot be applied (unknown principal, bad input)."""


class UnreadableLogsError(RolloutError):
    """Some logs of the window a stage is judged on could not be read: a stage never passes
    on logs it could not read (the unread part may hold the AccessDenied that matters)."""
