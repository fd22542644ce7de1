"""Where the IAM state of an account comes from. Each source is an adapter implementing
`AccountState`: today a saved `get-account-authorization-details` file, later the IAM API."""

from __future__ import annotations

from typing import Protocol

from alpha.account.model import AccountSnapshot, EffectivePolicies, Principal


class AccountState(Protocol):
    """The IAM state of one account: a snapshot, and the principals in it."""

    @property
    def name(self) -> str:
        """What the user named (a file, an account id), for messages."""
        ...

    def snapshot(self) -> AccountSnapshot:
        """The whole account; an adapter loads it once and hands out the same value."""
        ...

    def principal(self, arn: str) -> Principal:
        """The role or user with this ARN; `PrincipalNotFoundError` if there is none."""
        ...

    def effective_policies(self, arn: str) -> EffectivePolicies:
        """The policies that apply to the principal, labelled with where each comes from."""
        ...
