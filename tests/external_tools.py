"""Tools from outside PyPI that some tests need (Debian's Chromium, DynamoDB Local from npm).

On a developer's machine without one, its tests skip and say what to install; in CI, where
`.ci/run` installs them and sets ALPHA_REQUIRE_EXTERNAL_TOOLS=1, a missing tool fails the test
instead, so a broken install can never pass as a green run.
"""

from __future__ import annotations

import os

import pytest

__all__ = ["require_tool"]


def require_tool(available: bool, what: str, install: str) -> None:
    """Skip (or, in CI, fail) the calling test unless `available`."""
    if available:
        return
    message = f"{what} is not installed ({install})"
    if os.environ.get("ALPHA_REQUIRE_EXTERNAL_TOOLS") == "1":
        pytest.fail(message)
    pytest.skip(message)
