"""The org package's one base error."""

from __future__ import annotations

from alpha.errors import AlphaError

__all__ = ["OrgError"]


class OrgError(AlphaError):
    """The organization cannot be read or a request about it makes no sense."""
