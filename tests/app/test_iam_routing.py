"""`AccountRoutedIam`: each ARN's account picks its changer; a live account's changer is
opened once, when its account is first asked about, so an account that cannot be reached
(its role cannot be assumed) fails on that first read and no other account pays for it."""

from __future__ import annotations

import pytest

from alpha.app.iam_routing import AccountIam, AccountRoutedIam
from alpha.errors import AlphaError
from alpha.rollout.iam_ports import IamChanger
from tests.fakes.memory_iam import MemoryIam
from tests.rollout.factories import account

A, B, C = "111111111111", "222222222222", "333333333333"


class UnreachableError(AlphaError):
    pass


def test_each_account_is_opened_once_when_first_asked() -> None:
    opened: list[str] = []

    def opener(account_id: str) -> AccountIam:
        def open_it() -> IamChanger:
            opened.append(account_id)
            return MemoryIam.from_account(account(account_id))

        return open_it

    def refuse() -> IamChanger:
        raise UnreachableError(f"cannot assume a role in {C}")

    routed = AccountRoutedIam(
        {A: opener(A), B: opener(B), C: refuse}, MemoryIam.from_account(account("444444444444"))
    )
    assert opened == []
    state = routed.principal_state(f"arn:aws:iam::{B}:role/app")
    assert state["principal"] == f"arn:aws:iam::{B}:role/app"
    routed.put_inline_policy(f"arn:aws:iam::{B}:role/app", "x", {"Statement": []})
    assert routed.principal_state(f"arn:aws:iam::{B}:role/app")["inline"]["x"] == {"Statement": []}
    assert opened == [B]
    assert routed.principal_state("arn:aws:iam::444444444444:role/app")["inline"]
    with pytest.raises(UnreachableError, match=C):
        routed.principal_state(f"arn:aws:iam::{C}:role/app")
    assert opened == [B]
