from __future__ import annotations

from collections.abc import Callable

import pytest

from alpha.account.errors import AccountError
from alpha.adapters.local.authorization_details import parse_authorization_details
from alpha.adapters.local.working_copy_iam import (
    WorkingCopyIam,
    export_account_copy,
    import_account_copy,
)
from alpha.rollout.errors import IamChangeError
from tests.fakes.memory_store import MemoryStore
from tests.rollout.factories import ACCOUNT, APP, PROPOSED, SHARED, account, setup

COPY = f"account-{ACCOUNT}"
NEW = f"arn:aws:iam::{ACCOUNT}:policy/alpha/new"


def test_state_of_a_principal() -> None:
    _, iam = setup(boundary=True)
    state = iam.principal_state(APP)
    assert state["attached"] == [SHARED]
    assert state["boundary"] == f"arn:aws:iam::{ACCOUNT}:policy/existing-boundary"
    assert set(state["inline"]) == {"old-inline"}


def test_every_change_is_idempotent_and_a_noop_saves_nothing() -> None:
    store, iam = setup()
    changes: list[Callable[[], object]] = [
        lambda: iam.put_inline_policy(APP, "p", PROPOSED),
        lambda: iam.create_managed_policy(NEW, PROPOSED),
        lambda: iam.attach_managed_policy(APP, NEW),
        lambda: iam.put_permissions_boundary(APP, NEW),
        lambda: iam.delete_permissions_boundary(APP),
        lambda: iam.detach_managed_policy(APP, SHARED),
        lambda: iam.delete_inline_policy(APP, "old-inline"),
    ]
    for change in changes:
        change()
        version = store.account_copy_version(COPY)
        once = export_account_copy(store, COPY)
        change()
        assert store.account_copy_version(COPY) == version
        assert export_account_copy(store, COPY) == once
    assert iam.principal_state(APP) == {
        "principal": APP,
        "inline": {"p": PROPOSED},
        "attached": [NEW],
        "boundary": None,
    }


def test_the_copy_exports_as_a_valid_file_with_counts_in_step() -> None:
    store, iam = setup()
    iam.create_managed_policy(NEW, PROPOSED)
    iam.attach_managed_policy(APP, NEW)
    iam.detach_managed_policy(APP, SHARED)
    iam.put_permissions_boundary(APP, NEW)
    snapshot = parse_authorization_details(export_account_copy(store, COPY), COPY)
    new = snapshot.managed_policy(NEW)
    assert new is not None
    assert (new.attachment_count, new.boundary_usage_count) == (1, 1)
    shared = snapshot.managed_policy(SHARED)
    assert shared is not None
    assert shared.attachment_count == 1
    assert snapshot.principal(APP).boundary_arn == NEW
    with pytest.raises(IamChangeError, match="still in use"):
        iam.delete_managed_policy(NEW)


def test_import_merges_pages_and_rejects_bad_input() -> None:
    store = MemoryStore()
    data = account()
    pages = [{**data, "Policies": []}, {"Policies": data["Policies"], "RoleDetailList": []}]
    import_account_copy(store, "acct", pages)
    assert WorkingCopyIam(store, ["acct"]).principal_state(APP)["attached"] == [SHARED]
    with pytest.raises(AccountError, match="bad"):
        import_account_copy(store, "bad", {"nothing": []})


def test_unknown_principal_and_account() -> None:
    _, iam = setup()
    with pytest.raises(IamChangeError, match="no role or user"):
        iam.principal_state(APP.replace("role/app", "role/ghost"))
    with pytest.raises(IamChangeError, match="holds account 999999999999"):
        iam.principal_state("arn:aws:iam::999999999999:role/app")
