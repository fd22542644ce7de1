"""The organization as immutable values: accounts, the OU path of each, and what failed.

An account that could not be read (the role is missing, it refuses the trust, the account is
suspended) is a value too, `AccountReadFailure`: one account's failure never stops the rest,
and every report says which accounts it does not cover and why.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from alpha.account.model import Tag
from alpha.policy.org_policies import OrgGuardrails

__all__ = [
    "AccountFilter",
    "AccountReadFailure",
    "OrgAccount",
    "OrgUnit",
    "Organization",
]


@dataclass(frozen=True, slots=True)
class OrgUnit:
    """The root (`r-...`) or an organizational unit (`ou-...`)."""

    id: str
    name: str


@dataclass(frozen=True, slots=True)
class OrgAccount:
    id: str
    name: str
    status: str  # ACTIVE, SUSPENDED, PENDING_CLOSURE as Organizations reports it
    path: tuple[OrgUnit, ...]  # root first, down to the account's parent OU
    tags: tuple[Tag, ...] = ()
    guardrails: OrgGuardrails = field(default_factory=OrgGuardrails)

    @property
    def active(self) -> bool:
        return self.status == "ACTIVE"

    def in_unit(self, unit_id: str) -> bool:
        """In that OU or any OU under it (or the root, which holds every account)."""
        return any(unit.id == unit_id for unit in self.path)

    def tag(self, key: str) -> str | None:
        return next((t.value for t in self.tags if t.key == key), None)


@dataclass(frozen=True, slots=True)
class AccountFilter:
    """Which accounts to cover. Empty fields do not filter; given ones must all hold: an
    account is kept when its id is listed (if ids are given), it is under one of the units
    (if given), and it carries every `key=value` tag."""

    ids: tuple[str, ...] = ()
    units: tuple[str, ...] = ()
    tags: tuple[Tag, ...] = ()

    def keeps(self, account: OrgAccount) -> bool:
        if self.ids and account.id not in self.ids:
            return False
        if self.units and not any(account.in_unit(unit) for unit in self.units):
            return False
        return all(account.tag(t.key) == t.value for t in self.tags)


@dataclass(frozen=True, slots=True)
class AccountReadFailure:
    """An account ALPHA could not read, and why, in words a person can act on."""

    account_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class Organization:
    id: str  # o-...
    management_account: str
    accounts: tuple[OrgAccount, ...]

    def __post_init__(self) -> None:
        # SCPs and RCPs never limit the management account (Organizations User Guide, "Service
        # control policies"); marked here so no reader can forget it
        marked = tuple(
            _as_management(a) if a.id == self.management_account else a for a in self.accounts
        )
        object.__setattr__(self, "accounts", marked)

    def account(self, account_id: str) -> OrgAccount | None:
        return next((a for a in self.accounts if a.id == account_id), None)

    def select(self, wanted: AccountFilter) -> tuple[OrgAccount, ...]:
        return tuple(a for a in self.accounts if wanted.keeps(a))


def _as_management(account: OrgAccount) -> OrgAccount:
    if account.guardrails.management:
        return account
    return replace(account, guardrails=replace(account.guardrails, management=True))
