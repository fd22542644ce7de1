"""One `IamChanger` over several: each ARN's account decides which changer acts on it (live
IAM for an account whose proposals were made from a live read, the store's working copy for
the others), so one store can hold both kinds of proposals, and a fleet rollout sends each
account's changes to that account.

A live account's changer is opened when first needed (`AccountIam`): reaching another
account of an organisation assumes a role there, which only the accounts a rollout touches
should pay for, and whose refusal must surface on the first read, before any change."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from alpha.rollout.errors import IamChangeError
from alpha.rollout.iam_ports import IamChanger, JsonDict

__all__ = ["AccountIam", "AccountRoutedIam"]

AccountIam = Callable[[], IamChanger]
"""Opens the changer of one account (made once, when first needed)."""


class AccountRoutedIam:
    def __init__(self, by_account: Mapping[str, AccountIam], others: IamChanger) -> None:
        self._openers = dict(by_account)
        self._opened: dict[str, IamChanger] = {}
        self._others = others

    def _for(self, arn: str) -> IamChanger:
        parts = arn.split(":")
        if len(parts) < 6:
            raise IamChangeError(f"{arn!r} is not an IAM ARN with an account")
        account = parts[4]
        if account not in self._openers:
            return self._others
        if account not in self._opened:
            self._opened[account] = self._openers[account]()
        return self._opened[account]

    def principal_state(self, principal: str) -> JsonDict:
        return self._for(principal).principal_state(principal)

    def principal_tags(self, principal: str) -> dict[str, str]:
        return self._for(principal).principal_tags(principal)

    def put_inline_policy(self, principal: str, name: str, document: JsonDict) -> None:
        self._for(principal).put_inline_policy(principal, name, document)

    def delete_inline_policy(self, principal: str, name: str) -> None:
        self._for(principal).delete_inline_policy(principal, name)

    def attach_managed_policy(self, principal: str, policy_arn: str) -> None:
        self._for(principal).attach_managed_policy(principal, policy_arn)

    def detach_managed_policy(self, principal: str, policy_arn: str) -> None:
        self._for(principal).detach_managed_policy(principal, policy_arn)

    def put_permissions_boundary(self, principal: str, policy_arn: str) -> None:
        self._for(principal).put_permissions_boundary(principal, policy_arn)

    def delete_permissions_boundary(self, principal: str) -> None:
        self._for(principal).delete_permissions_boundary(principal)

    def add_to_group(self, principal: str, group: str) -> None:
        self._for(principal).add_to_group(principal, group)

    def remove_from_group(self, principal: str, group: str) -> None:
        self._for(principal).remove_from_group(principal, group)

    def managed_policy(self, policy_arn: str) -> JsonDict | None:
        return self._for(policy_arn).managed_policy(policy_arn)

    def managed_policy_version(self, policy_arn: str) -> str | None:
        return self._for(policy_arn).managed_policy_version(policy_arn)

    def create_managed_policy(self, policy_arn: str, document: JsonDict) -> None:
        self._for(policy_arn).create_managed_policy(policy_arn, document)

    def update_managed_policy(self, policy_arn: str, document: JsonDict) -> None:
        self._for(policy_arn).update_managed_policy(policy_arn, document)

    def set_default_policy_version(self, policy_arn: str, version_id: str) -> None:
        self._for(policy_arn).set_default_policy_version(policy_arn, version_id)

    def delete_managed_policy(self, policy_arn: str) -> None:
        self._for(policy_arn).delete_managed_policy(policy_arn)
