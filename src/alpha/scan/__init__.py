"""Findings across an account: principals ranked by excess (granted but unused, weighted by
access level), with flags for principals unused in the window, able to escalate privileges,
or admin-equivalent."""

from typing import TYPE_CHECKING

from alpha.lazy_exports import lazy_exports

if TYPE_CHECKING:
    from alpha.scan.model import (
        UNUSED,
        AdminEquivalent,
        EscalationRisk,
        PrincipalScore,
        ScanReport,
        UnusedPrincipal,
    )
    from alpha.scan.scan import scan, scan_account
    from alpha.scan.weights import ACCESS_WEIGHTS

lazy_exports(
    __name__,
    {
        "alpha.scan.model": (
            "AdminEquivalent",
            "EscalationRisk",
            "PrincipalScore",
            "ScanReport",
            "UNUSED",
            "UnusedPrincipal",
        ),
        "alpha.scan.scan": ("scan", "scan_account"),
        "alpha.scan.weights": ("ACCESS_WEIGHTS",),
    },
)

__all__ = [
    "ACCESS_WEIGHTS",
    "UNUSED",
    "AdminEquivalent",
    "EscalationRisk",
    "PrincipalScore",
    "ScanReport",
    "UnusedPrincipal",
    "scan",
    "scan_account",
]
