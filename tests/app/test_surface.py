"""`alpha.app`'s public surface, pinned: what every interface may import from the package."""

from __future__ import annotations

import alpha.app

SURFACE = [
    "AppError",
    "Application",
    "Backends",
    "ConfiguredBackends",
    "Decision",
    "Exported",
    "Flags",
    "GenerateRequest",
    "Generated",
    "ProposeResult",
    "Proposed",
    "ScanOutcome",
    "ScanRequest",
    "Settings",
    "SettingsError",
    "application_for",
    "load_settings",
]


def test_the_surface_is_pinned() -> None:
    assert sorted(alpha.app.__all__) == SURFACE


def test_every_name_exists() -> None:
    assert [name for name in SURFACE if not hasattr(alpha.app, name)] == []
