"""The application layer's errors: what a user can fix in their settings or request."""

from __future__ import annotations

from alpha.errors import AlphaError


class AppError(AlphaError):
    """Base of the application layer's errors."""


class SettingsError(AppError):
    """A setting (flag, variable or alpha.toml field) has a value that cannot be used."""
