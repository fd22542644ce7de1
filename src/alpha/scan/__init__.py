"""Findings across an account: principals ranked by excess (granted but unused, weighted by
access level), with flags for principals unused in the window, able to escalate privileges,
or admin-equivalent."""

from alpha.scan.model import (
    ADMIN,
    ESCALATION,
    FLAG_CODES,
    UNUSED,
    AdminEquivalent,
    EscalationMethodHeld,
    EscalationRisk,
    LevelExcess,
    PrincipalScore,
    ScanFinding,
    ScanReport,
    UnusedPrincipal,
)
from alpha.scan.scan import scan, scan_account
from alpha.scan.weights import ACCESS_WEIGHTS

__all__ = [
    "ACCESS_WEIGHTS",
    "ADMIN",
    "ESCALATION",
    "FLAG_CODES",
    "UNUSED",
    "AdminEquivalent",
    "EscalationMethodHeld",
    "EscalationRisk",
    "LevelExcess",
    "PrincipalScore",
    "ScanFinding",
    "ScanReport",
    "UnusedPrincipal",
    "scan",
    "scan_account",
]
