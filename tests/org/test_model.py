from __future__ import annotations

import pytest

from alpha.account import Tag
from alpha.org import AccountFilter, OrgAccount, Organization, OrgUnit

ROOT = OrgUnit("r-ab12", "Root")
PROD = OrgUnit("ou-ab12-prod0001", "Prod")
PAYMENTS = OrgUnit("ou-ab12-pay00001", "Payments")


def _org() -> Organization:
    return Organization(
        "o-example",
        "111111111111",
        (
            OrgAccount("111111111111", "management", "ACTIVE", (ROOT,)),
            OrgAccount("222222222222", "prod", "ACTIVE", (ROOT, PROD), (Tag("env", "prod"),)),
            OrgAccount(
                "333333333333",
                "payments",
                "SUSPENDED",
                (ROOT, PROD, PAYMENTS),
                (Tag("env", "prod"),),
            ),
        ),
    )


@pytest.mark.parametrize(
    ("wanted", "kept"),
    [
        (AccountFilter(), ["111111111111", "222222222222", "333333333333"]),
        (AccountFilter(units=(PROD.id,)), ["222222222222", "333333333333"]),
        (AccountFilter(units=(PAYMENTS.id,)), ["333333333333"]),
        (AccountFilter(tags=(Tag("env", "prod"),)), ["222222222222", "333333333333"]),
        (AccountFilter(ids=("222222222222",), units=(PAYMENTS.id,)), []),
        (AccountFilter(tags=(Tag("env", "dev"),)), []),
    ],
)
def test_filters_all_hold(wanted: AccountFilter, kept: list[str]) -> None:
    assert [a.id for a in _org().select(wanted)] == kept


def test_account_lookup_and_status() -> None:
    org = _org()
    payments = org.account("333333333333")
    assert payments is not None
    assert not payments.active
    assert payments.tag("env") == "prod"
    assert org.account("999999999999") is None


def test_the_management_account_is_never_limited_by_its_levels() -> None:
    org = _org()
    management = org.account("111111111111")
    prod = org.account("222222222222")
    assert management is not None
    assert management.guardrails.management
    assert prod is not None
    assert not prod.guardrails.management
