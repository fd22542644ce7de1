"""An AWS organization as ALPHA sees it: its accounts, where each sits, what limits it."""

from typing import TYPE_CHECKING

from alpha.lazy_exports import lazy_exports

if TYPE_CHECKING:
    from alpha.org.errors import OrgError
    from alpha.org.model import (
        AccountFilter,
        AccountReadFailure,
        OrgAccount,
        Organization,
        OrgUnit,
    )
    from alpha.org.ports import OrgAccountState, OrganizationSource

lazy_exports(
    __name__,
    {
        "alpha.org.errors": ("OrgError",),
        "alpha.org.model": (
            "AccountFilter",
            "AccountReadFailure",
            "OrgAccount",
            "OrgUnit",
            "Organization",
        ),
        "alpha.org.ports": ("OrgAccountState", "OrganizationSource"),
    },
)

__all__ = [
    "AccountFilter",
    "AccountReadFailure",
    "OrgAccount",
    "OrgAccountState",
    "OrgError",
    "OrgUnit",
    "Organization",
    "OrganizationSource",
]
