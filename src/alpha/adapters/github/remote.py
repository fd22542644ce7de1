"""The hosted repository a git remote's URL names: `https://host/owner/name(.git)`,
`ssh://git@host[:port]/owner/name(.git)` and scp-like `git@host:owner/name(.git)`."""

from __future__ import annotations

import re

from alpha.adapters.github.errors import GitHubError
from alpha.iac.ports import Repository

__all__ = ["parse_remote"]

_URL = re.compile(r"(?:https?|ssh|git)://(?:[^@/]+@)?(?P<host>[^/:]+)(?::\d+)?/(?P<path>.+)")
_SCP = re.compile(r"(?:[^@/]+@)?(?P<host>[^/:]+):(?!//)(?P<path>.+)")
_PART = re.compile(r"[A-Za-z0-9_.-]+")


def parse_remote(url: str) -> tuple[str, Repository]:
    """The host and the `owner/name` a remote URL names; `GitHubError` for any other URL (a
    local path, a URL with no owner)."""
    found = _URL.fullmatch(url.strip()) or _SCP.fullmatch(url.strip())
    if found is None:
        raise GitHubError(f"remote URL {url!r} names no hosted repository (owner/name)")
    parts = found.group("path").strip("/").removesuffix(".git").split("/")
    if len(parts) < 2 or not all(_PART.fullmatch(p) for p in parts[-2:]):
        raise GitHubError(f"remote URL {url!r} names no hosted repository (owner/name)")
    return found.group("host"), Repository(parts[-2], parts[-1])
