"""The latest organisation report, kept in a file the web console reads.

`alpha scan --org ... --save` writes it; the console's /org page shows it without scanning
again on each view. A report that covers no account (every account refused its role, say)
is not written: the report saved before is the better one and is kept. The file is replaced
in one rename, so a scan that fails half-way, or a crash while writing, leaves the saved
report whole.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from alpha.errors import AlphaError
from alpha.org.report import OrgScanReport

__all__ = [
    "DEFAULT_ORG_REPORT",
    "ORG_REPORT_NAME",
    "OrgReportFileError",
    "OrgReportNotSavedError",
    "SavedOrgReport",
    "load_org_report",
    "save_org_report",
]

ORG_REPORT_NAME = "org-report.json"
DEFAULT_ORG_REPORT = Path(".alpha") / ORG_REPORT_NAME
_FORMAT = 1
_SECTIONS = ("accounts", "worst_principals", "unused_roles", "escalation_paths", "not_covered")


class OrgReportFileError(AlphaError):
    """The saved report's file cannot be read or is not one."""


class OrgReportNotSavedError(AlphaError):
    """The new report was not saved (the one saved before is kept)."""


@dataclass(frozen=True, slots=True)
class SavedOrgReport:
    """The report as `OrgScanReport.to_dict` gives it, when it was made, and its window."""

    made_at: datetime
    report: dict[str, Any]
    since: str | None = None
    until: str | None = None


def save_org_report(path: Path, report: OrgScanReport, made_at: datetime) -> None:
    if not report.accounts:
        raise OrgReportNotSavedError(
            f"the report covers no account, so {path} is not replaced: "
            f"{len(report.not_covered)} account(s) not covered"
        )
    window = report.window
    body = {
        "format": _FORMAT,
        "made_at": made_at.isoformat(),
        "since": None if window.since is None else window.since.isoformat(),
        "until": None if window.until is None else window.until.isoformat(),
        "report": report.to_dict(),
    }
    _replace(path, json.dumps(body, indent=1))


def _replace(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def load_org_report(path: Path) -> SavedOrgReport | None:
    """The saved report, or None when none was saved yet."""
    try:
        body = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise OrgReportFileError(f"{path}: not a saved organisation report: {exc}") from exc
    return _parsed(path, body)


def _parsed(path: Path, body: object) -> SavedOrgReport:
    if not isinstance(body, dict) or body.get("format") != _FORMAT:
        raise OrgReportFileError(f"{path}: not a saved organisation report (format {_FORMAT})")
    report = body.get("report")
    if not isinstance(report, dict) or any(
        not isinstance(report.get(name), list) for name in _SECTIONS
    ):
        raise OrgReportFileError(f"{path}: report: missing one of {', '.join(_SECTIONS)}")
    try:
        made_at = datetime.fromisoformat(str(body.get("made_at")))
    except ValueError as exc:
        raise OrgReportFileError(f"{path}: made_at: {exc}") from exc
    return SavedOrgReport(made_at, report, _text(body.get("since")), _text(body.get("until")))


def _text(value: object) -> str | None:
    return None if value is None else str(value)
