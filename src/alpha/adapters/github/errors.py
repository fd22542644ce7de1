"""The GitHub adapters' error."""

from __future__ import annotations

from alpha.iac.errors import IacError

__all__ = ["GitHubError"]


class GitHubError(IacError):
    """git or the GitHub API refused, or could not be reached; the message says which and why."""
