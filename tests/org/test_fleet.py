"""A fleet is the same role with the same policies in every account: each way copies can
differ is refused, naming the account and the difference; the same customer-managed policy
in each account (its ARN naming that account) is the same policy."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from alpha.account import AccountSnapshot
from alpha.adapters.local.authorization_details import parse_authorization_details
from alpha.org.fleet import FleetError, fleet_role, has_role
from tests.rollout.factories import account

A, B, C = "111111111111", "222222222222", "333333333333"
Document = dict[str, Any]


def snapshot(document: Document, account_id: str) -> AccountSnapshot:
    return parse_authorization_details(document, f"{account_id}.json")


def fleet_of(change: Callable[[Document], None] | None = None) -> list[AccountSnapshot]:
    documents = {a: account(a) for a in (A, B, C)}
    if change is not None:
        change(documents[C])
    return [snapshot(d, a) for a, d in documents.items()]


def app(document: Document) -> Document:
    found: Document = document["RoleDetailList"][0]
    assert found["RoleName"] == "app"
    return found


def test_identical_copies_are_one_fleet_in_the_order_given() -> None:
    fleet = fleet_role("app", fleet_of())
    assert fleet.targets == tuple(f"arn:aws:iam::{a}:role/app" for a in (A, B, C))
    assert fleet.accounts == (A, B, C)
    assert fleet.lead.endswith(f"{A}:role/app")
    assert fleet_role("/app", fleet_of()).targets == fleet.targets


def edit_inline(document: Document) -> None:
    app(document)["RolePolicyList"][0]["PolicyDocument"] = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}],
    }


def add_inline(document: Document) -> None:
    app(document)["RolePolicyList"].append(
        copy.deepcopy(app(document)["RolePolicyList"][0]) | {"PolicyName": "extra"}
    )


def detach_shared(document: Document) -> None:
    app(document)["AttachedManagedPolicies"] = []


def edit_shared(document: Document) -> None:
    version = document["Policies"][0]["PolicyVersionList"][0]
    version["Document"] = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "sqs:*", "Resource": "*"}],
    }


@pytest.mark.parametrize(
    ("change", "said"),
    [
        (edit_inline, "inline policy 'old-inline' differs"),
        (add_inline, "also inline policy 'extra'"),
        (detach_shared, "no arn:aws:iam::<account>:policy/shared"),
        (edit_shared, "arn:aws:iam::<account>:policy/shared differs"),
    ],
    ids=["inline-edited", "inline-added", "managed-detached", "managed-edited"],
)
def test_copies_that_differ_are_refused_naming_the_account(
    change: Callable[[Document], None], said: str
) -> None:
    with pytest.raises(FleetError) as refused:
        fleet_role("app", fleet_of(change))
    message = str(refused.value)
    assert f"in {C} ({said})" in message
    assert B not in message
    assert "propose those accounts on their own" in message


def test_an_account_without_the_role_is_named() -> None:
    snapshots = fleet_of(lambda d: d["RoleDetailList"].pop(0))
    assert not has_role("app", snapshots[2])
    with pytest.raises(FleetError, match=f"not in account\\(s\\) {C}"):
        fleet_role("app", snapshots)


def test_a_path_that_differs_is_another_role() -> None:
    with pytest.raises(FleetError, match="not in account"):
        fleet_role("/teams/app", fleet_of())


@pytest.mark.parametrize(
    ("snapshots", "message"),
    [
        (lambda: fleet_of()[:1], "two accounts or more"),
        (lambda: [*fleet_of()[:2], fleet_of()[0]], f"account {A} is given twice"),
    ],
    ids=["one-account", "twice"],
)
def test_not_a_fleet(snapshots: Callable[[], list[AccountSnapshot]], message: str) -> None:
    with pytest.raises(FleetError, match=message):
        fleet_role("app", snapshots())
