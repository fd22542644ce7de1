"""The application layer: settings, the choice of adapters, and the use cases every interface
calls. It imports no click or rich; interfaces render what it returns. Names are imported on
first use, so a command that needs only the settings or the backends does not load the rest."""

from typing import TYPE_CHECKING

from alpha.lazy_exports import lazy_exports

if TYPE_CHECKING:
    from alpha.app.application import Application, Decision, Exported, application_for
    from alpha.app.backends import Backends, ConfiguredBackends
    from alpha.app.errors import AppError, SettingsError
    from alpha.app.proposing import Generated, GenerateRequest, Proposed, ProposeResult
    from alpha.app.scanning import ScanOutcome, ScanRequest
    from alpha.app.settings import Flags, Settings, load_settings

lazy_exports(
    __name__,
    {
        "alpha.app.application": ("Application", "Decision", "Exported", "application_for"),
        "alpha.app.backends": ("Backends", "ConfiguredBackends"),
        "alpha.app.errors": ("AppError", "SettingsError"),
        "alpha.app.proposing": ("GenerateRequest", "Generated", "ProposeResult", "Proposed"),
        "alpha.app.scanning": ("ScanOutcome", "ScanRequest"),
        "alpha.app.settings": ("Flags", "Settings", "load_settings"),
    },
)

__all__ = [
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
