"""The application layer: settings, the choice of adapters, and the use cases every interface
calls. It imports no click or rich; interfaces render what it returns."""

from alpha.app.application import Application, Decision, Exported, application_for
from alpha.app.backends import Backends, ConfiguredBackends
from alpha.app.errors import AppError, SettingsError
from alpha.app.proposing import Generated, GenerateRequest, Proposed, ProposeResult
from alpha.app.scanning import ScanOutcome, ScanRequest
from alpha.app.settings import Flags, Settings, load_settings

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
