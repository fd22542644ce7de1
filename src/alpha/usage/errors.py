"""The usage package's one base error."""

from __future__ import annotations

from alpha.errors import AlphaError

__all__ = ["UsageError"]


class UsageError(AlphaError):
    """Bad CloudTrail input (in `--strict` mode), an unreadable usage store or source."""
