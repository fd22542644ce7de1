"""`MemoryOrganization`: the `OrganizationSource` port over an organization held in memory,
with each account's authorization-details document (an account without one cannot be read)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from alpha.adapters.local.authorization_details import parse_authorization_details
from alpha.org import AccountReadFailure, OrgAccount, Organization
from tests.fakes.memory_account import MemoryAccount


class MemoryOrgAccount(MemoryAccount):
    def __init__(self, document: dict[str, Any], name: str) -> None:
        super().__init__(parse_authorization_details(document, name), name)
        self._document = document

    def document(self) -> object:
        return self._document


class MemoryOrganization:
    def __init__(
        self,
        organization: Organization,
        documents: Mapping[str, dict[str, Any]],
        name: str = "memory",
    ) -> None:
        self._organization = organization
        self._documents = dict(documents)
        self._name = name
        self.opened: list[str] = []

    @property
    def name(self) -> str:
        return self._name

    def organization(self) -> Organization:
        return self._organization

    def open_account(self, account: OrgAccount) -> MemoryOrgAccount | AccountReadFailure:
        self.opened.append(account.id)
        document = self._documents.get(account.id)
        if document is None:
            return AccountReadFailure(account.id, f"account {account.id}: no IAM held for it")
        return MemoryOrgAccount(document, f"account {account.id}")
