"""The `IamChanger` port, run against every implementation over the same account (tests/data/
accounts/edge-cases.json, see its README): the working copy in a SQLite store, the in-memory
fake, and the boto3 changer over IAM in moto's server mode holding the same account. The
promises are the port's (alpha.rollout.iam_ports): states in one shape, JSON-ready, that a
rollback restores exactly; idempotent changes; groups for users only; policy versions."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest

from alpha.adapters.aws.iam_changer import LiveIam
from alpha.adapters.local.sqlite_store import SQLiteStore
from alpha.adapters.local.working_copy_iam import WorkingCopyIam, import_account_copy
from alpha.rollout.changes import restore_changes
from alpha.rollout.errors import IamChangeError
from alpha.rollout.iam_ports import IamChanger, JsonDict
from tests.fakes.memory_iam import MemoryIam
from tests.moto_iam import (
    MOTO_ACCOUNT,
    SavedIam,
    drop_unattached_aws_policies,
    iam_client,
    reset,
    seed_account,
)
from tests.sample_accounts import EDGE_CASES_ACCOUNT

IAM = "arn:aws:iam::111122223333"
APP, ALICE, NOBODY = f"{IAM}:role/service-role/app-role", f"{IAM}:user/alice", f"{IAM}:role/nobody"
SHARED, BOUNDARY = f"{IAM}:policy/shared-s3-read", f"{IAM}:policy/dev-boundary"
READ_ONLY = "arn:aws:iam::aws:policy/ReadOnlyAccess"
NEW = f"{IAM}:policy/alpha/app-least-privilege"
DOCUMENT: JsonDict = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::d/*"}],
}


def account() -> JsonDict:
    found: JsonDict = json.loads(EDGE_CASES_ACCOUNT.read_text())
    return found


@pytest.fixture(scope="module")
def iam_saved(iam_moto_server: str) -> Iterator[SavedIam]:
    """The account seeded in moto once; each case starts from it again."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MOTO_ACCOUNT_ID", MOTO_ACCOUNT)
        patch.setenv("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")  # ReadOnlyAccess, SecurityAudit
        reset(iam_moto_server)
        client = iam_client(iam_moto_server)
        seed_account(client, account())
        drop_unattached_aws_policies()
        for group in ("ops", "admins"):  # IAM adds users to groups that exist
            client.create_group(GroupName=group)
        yield SavedIam()


@pytest.fixture
def iam_seeded(iam_moto_server: str, iam_saved: SavedIam, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("MOTO_ACCOUNT_ID", MOTO_ACCOUNT)
    iam_saved.restore()
    return iam_moto_server


@pytest.fixture(params=["working-copy", "memory", "live"])
def iam(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[IamChanger]:
    if request.param == "live":
        client = iam_client(request.getfixturevalue("iam_seeded"))
        yield LiveIam(client, MOTO_ACCOUNT)
        return
    if request.param == "memory":
        yield MemoryIam.from_account(account())
        return
    store = SQLiteStore(tmp_path / "alpha.db")
    import_account_copy(store, "main", account())
    yield WorkingCopyIam(store, ["main"])
    store.close()


def test_a_role_state_has_every_field_in_the_port_shape(iam: IamChanger) -> None:
    state = iam.principal_state(APP)
    assert state == {
        "principal": APP,
        "inline": {"app-inline": state["inline"]["app-inline"]},
        "attached": [SHARED, READ_ONLY],
        "boundary": BOUNDARY,
    }
    assert state["inline"]["app-inline"]["Statement"]  # decoded, though the file URL-encodes it
    assert json.loads(json.dumps(state)) == state


def test_a_user_state_also_has_its_groups_sorted(iam: IamChanger) -> None:
    state = iam.principal_state(ALICE)
    assert set(state) == {"principal", "inline", "attached", "boundary", "groups"}
    assert state["groups"] == ["auditors", "developers"]
    assert (list(state["inline"]), state["attached"], state["boundary"]) == (
        ["alice-inline"],
        [],
        BOUNDARY,
    )


def test_a_principal_named_without_its_path_is_found(iam: IamChanger) -> None:
    assert iam.principal_state(f"{IAM}:role/app-role")["principal"] == APP


def test_states_and_documents_go_in_and_out_as_copies(iam: IamChanger) -> None:
    given = json.loads(json.dumps(DOCUMENT))
    iam.put_inline_policy(APP, "p", given)
    given["Statement"].clear()
    handed = iam.principal_state(APP)
    handed["inline"]["p"]["Statement"].clear()
    handed["attached"].clear()
    assert iam.principal_state(APP)["inline"]["p"] == DOCUMENT
    assert iam.principal_state(APP)["attached"] == [SHARED, READ_ONLY]


Step = Callable[[IamChanger], None]
CHANGES: dict[str, Step] = {
    "put inline": lambda iam: iam.put_inline_policy(APP, "p", DOCUMENT),
    "delete inline": lambda iam: iam.delete_inline_policy(APP, "app-inline"),
    "delete absent inline": lambda iam: iam.delete_inline_policy(APP, "never-there"),
    "attach": lambda iam: iam.attach_managed_policy(APP, f"{IAM}:policy/solo-policy"),
    "attach attached": lambda iam: iam.attach_managed_policy(APP, SHARED),
    "detach": lambda iam: iam.detach_managed_policy(APP, SHARED),
    "detach absent": lambda iam: iam.detach_managed_policy(APP, f"{IAM}:policy/solo-policy"),
    "put boundary": lambda iam: iam.put_permissions_boundary(APP, SHARED),
    "delete boundary": lambda iam: iam.delete_permissions_boundary(APP),
    "add to group": lambda iam: iam.add_to_group(ALICE, "ops"),
    "remove from group": lambda iam: iam.remove_from_group(ALICE, "developers"),
    "create policy": lambda iam: iam.create_managed_policy(NEW, DOCUMENT),
    "delete policy": lambda iam: iam.delete_managed_policy(f"{IAM}:policy/never-there"),
}


def everything(iam: IamChanger) -> list[Any]:
    return [iam.principal_state(APP), iam.principal_state(ALICE), iam.managed_policy(NEW)]


@pytest.mark.parametrize("change", CHANGES.values(), ids=CHANGES.keys())
def test_every_change_is_idempotent(iam: IamChanger, change: Step) -> None:
    change(iam)
    once = everything(iam)
    change(iam)
    assert everything(iam) == once


@pytest.mark.parametrize(
    ("principal", "steps"),
    [
        (APP, ["put inline", "delete inline", "create policy", "detach", "put boundary"]),
        (APP, ["delete boundary", "attach"]),
        (ALICE, ["add to group", "remove from group", "put inline"]),
    ],
    ids=["role", "role without its boundary", "user"],
)
def test_a_rollback_restores_the_state_exactly(
    iam: IamChanger, principal: str, steps: list[str]
) -> None:
    before = iam.principal_state(principal)
    for step in steps:
        CHANGES[step](iam)
    if "create policy" in steps:
        iam.attach_managed_policy(principal, NEW)
    changed = iam.principal_state(principal)
    assert changed != before
    for change in restore_changes(principal, before, changed):
        change.apply(iam)
    assert iam.principal_state(principal) == before


@pytest.mark.parametrize(
    "act",
    [
        lambda iam: iam.principal_state(NOBODY),
        lambda iam: iam.put_inline_policy(NOBODY, "p", DOCUMENT),
        lambda iam: iam.delete_inline_policy(NOBODY, "p"),
        lambda iam: iam.attach_managed_policy(NOBODY, SHARED),
        lambda iam: iam.detach_managed_policy(NOBODY, SHARED),
        lambda iam: iam.put_permissions_boundary(NOBODY, SHARED),
        lambda iam: iam.delete_permissions_boundary(NOBODY),
        lambda iam: iam.add_to_group(f"{IAM}:user/nobody", "ops"),
        lambda iam: iam.remove_from_group(f"{IAM}:user/nobody", "ops"),
        lambda iam: iam.principal_state("arn:aws:iam::444455556666:role/service-role/app-role"),
        lambda iam: iam.create_managed_policy("arn:aws:iam::444455556666:policy/p", DOCUMENT),
        lambda iam: iam.principal_state("app-role"),
    ],
    ids=[
        "state",
        "put inline",
        "delete inline",
        "attach",
        "detach",
        "put boundary",
        "delete boundary",
        "add to group",
        "remove from group",
        "another account",
        "a policy in another account",
        "not an ARN",
    ],
)
def test_an_unknown_principal_or_account_is_an_error(iam: IamChanger, act: Step) -> None:
    with pytest.raises(IamChangeError):
        act(iam)


@pytest.mark.parametrize(
    "act",
    [lambda iam: iam.add_to_group(APP, "developers"), lambda iam: iam.remove_from_group(APP, "x")],
    ids=["add", "remove"],
)
def test_only_users_belong_to_groups(iam: IamChanger, act: Step) -> None:
    before = iam.principal_state(APP)
    with pytest.raises(IamChangeError, match="role"):
        act(iam)
    assert iam.principal_state(APP) == before


def test_group_changes_keep_the_groups_sorted(iam: IamChanger) -> None:
    iam.add_to_group(ALICE, "admins")
    iam.remove_from_group(ALICE, "developers")
    assert iam.principal_state(ALICE)["groups"] == ["admins", "auditors"]


def test_the_default_version_of_a_managed_policy_is_read(iam: IamChanger) -> None:
    [dev_tools] = [p for p in account()["Policies"] if p["Arn"] == f"{IAM}:policy/dev-tools"]
    [v2] = [v for v in dev_tools["PolicyVersionList"] if v["VersionId"] == "v2"]
    assert iam.managed_policy(f"{IAM}:policy/dev-tools") == json.loads(unquote(v2["Document"]))
    assert iam.managed_policy(f"{IAM}:policy/never-there") is None


def test_a_managed_policy_is_created_once_and_deleted_when_nothing_uses_it(
    iam: IamChanger,
) -> None:
    iam.create_managed_policy(NEW, DOCUMENT)
    assert iam.managed_policy(NEW) == DOCUMENT
    with pytest.raises(IamChangeError, match="another document"):
        iam.create_managed_policy(NEW, {**DOCUMENT, "Statement": []})
    iam.attach_managed_policy(APP, NEW)
    iam.put_permissions_boundary(ALICE, NEW)
    with pytest.raises(IamChangeError, match="in use"):
        iam.delete_managed_policy(NEW)
    iam.detach_managed_policy(APP, NEW)
    with pytest.raises(IamChangeError, match="in use"):
        iam.delete_managed_policy(NEW)
    iam.delete_permissions_boundary(ALICE)
    iam.delete_managed_policy(NEW)
    assert iam.managed_policy(NEW) is None
    with pytest.raises(IamChangeError, match="in use"):
        iam.delete_managed_policy(SHARED)  # attached by two roles


def _document(bucket: str) -> JsonDict:
    statement = {
        "Effect": "Allow",
        "Action": "s3:GetObject",
        "Resource": f"arn:aws:s3:::{bucket}/*",
    }
    return {"Version": "2012-10-17", "Statement": [statement]}


def test_six_updates_keep_five_versions_deleting_the_oldest_that_is_not_the_default(
    iam: IamChanger,
) -> None:
    iam.create_managed_policy(NEW, DOCUMENT)
    assert iam.managed_policy_version(NEW) == "v1"
    for number in range(6):
        iam.update_managed_policy(NEW, _document(f"b{number}"))
        iam.update_managed_policy(NEW, _document(f"b{number}"))  # idempotent: no new version
    assert (iam.managed_policy_version(NEW), iam.managed_policy(NEW)) == ("v7", _document("b5"))
    for gone in ("v1", "v2"):
        with pytest.raises(IamChangeError, match=gone):
            iam.set_default_policy_version(NEW, gone)
    iam.set_default_policy_version(NEW, "v3")
    assert (iam.managed_policy_version(NEW), iam.managed_policy(NEW)) == ("v3", _document("b1"))


def test_an_update_keeps_the_default_when_the_default_is_the_oldest(iam: IamChanger) -> None:
    dev_tools = f"{IAM}:policy/dev-tools"  # v1, v2 (the default), v3
    before = iam.managed_policy(dev_tools)
    iam.update_managed_policy(dev_tools, _document("a"))
    iam.update_managed_policy(dev_tools, _document("b"))
    iam.set_default_policy_version(dev_tools, "v2")  # a rollback
    iam.update_managed_policy(dev_tools, _document("c"))  # five: v1 goes, never v2
    iam.set_default_policy_version(dev_tools, "v2")
    assert (iam.managed_policy_version(dev_tools), iam.managed_policy(dev_tools)) == ("v2", before)
    assert iam.managed_policy_version(f"{IAM}:policy/never-there") is None
    with pytest.raises(IamChangeError):
        iam.update_managed_policy(f"{IAM}:policy/never-there", DOCUMENT)


def test_tags_are_read_for_the_scope(iam: IamChanger) -> None:
    assert iam.principal_tags(ALICE) == {}
    with pytest.raises(IamChangeError):
        iam.principal_tags(NOBODY)
