"""The account package's one base error."""

from __future__ import annotations

from alpha.errors import AlphaError

__all__ = ["AccountError"]


class AccountError(AlphaError):
    """An account snapshot that cannot be read, or a principal it does not hold."""


class PrincipalNotFoundError(AccountError):
    """The snapshot holds no role or user with that ARN."""
