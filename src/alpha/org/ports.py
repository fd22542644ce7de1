"""Where an organization is read from: Organizations itself, or a folder exported from it.

One port for both, so scanning and proposing across accounts never know which: the
organization (its accounts, their OU paths, tags and SCP/RCP levels) and, per account, its IAM
state or the reason it could not be read.
"""

from __future__ import annotations

from typing import Protocol

from alpha.account import AccountState
from alpha.org.model import AccountReadFailure, OrgAccount, Organization

__all__ = ["OrgAccountState", "OrganizationSource"]


class OrgAccountState(AccountState, Protocol):
    """One member account's IAM state, also as its authorization-details JSON (what a working
    copy is imported from)."""

    def document(self) -> object: ...


class OrganizationSource(Protocol):
    @property
    def name(self) -> str:
        """What the user named (`aws`, `aws://PROFILE`, a folder), for messages."""
        ...

    def organization(self) -> Organization:
        """Every account with its OU path, tags and SCP/RCP levels; `OrgError` when the
        organization itself cannot be read."""
        ...

    def open_account(self, account: OrgAccount) -> OrgAccountState | AccountReadFailure:
        """The account's IAM, read now (safe to call from several threads at once), or why it
        cannot be read (no role, a trust that refuses, AccessDenied, no file). Never raises
        for one account's trouble."""
        ...
