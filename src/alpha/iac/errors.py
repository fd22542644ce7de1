"""The iac package's errors."""

from __future__ import annotations

from alpha.errors import AlphaError

__all__ = ["IacError"]


class IacError(AlphaError):
    """A repository, a template or a pull request the user can fix; the message names it."""
