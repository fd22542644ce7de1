"""The `AccountState` port, run against every implementation over the same account (tests/data/
accounts/edge-cases.json, see its README): the file adapter over the AWS CLI's output and over
the raw API's pages, the in-memory fake, and the live reader over IAM in moto's server mode
holding the same account. Live IAM cannot hold two of the file's oddities: every AWS-managed
policy attached is in a live read (the file leaves ReadOnlyAccess out), and a user's
membership of a deleted group is gone with the group (bob's ghost-group)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from alpha.account import AccountState, PrincipalNotFoundError
from alpha.adapters.aws.iam_account import LiveAccount
from alpha.adapters.local.authorization_details import (
    AuthorizationDetailsFile,
    read_authorization_details,
)
from tests.fakes.memory_account import MemoryAccount
from tests.moto_iam import (
    MOTO_ACCOUNT,
    drop_unattached_aws_policies,
    iam_client,
    reset,
    seed_account,
)
from tests.sample_accounts import EDGE_CASES_ACCOUNT, EDGE_CASES_PAGES

IAM = "arn:aws:iam::111122223333"
APP_ROLE = f"{IAM}:role/service-role/app-role"
ALICE = f"{IAM}:user/alice"


@dataclass(frozen=True)
class Rig:
    state: AccountState
    named: str
    live: bool = False


@pytest.fixture(scope="module")
def live_account(iam_moto_server: str) -> Iterator[LiveAccount]:
    """Read once for the module: the cases only read (every AWS-managed policy comes too)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MOTO_ACCOUNT_ID", MOTO_ACCOUNT)
        patch.setenv("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")  # ReadOnlyAccess, SecurityAudit
        reset(iam_moto_server)
        client = iam_client(iam_moto_server)
        seed_account(client, json.loads(EDGE_CASES_ACCOUNT.read_text()))
        drop_unattached_aws_policies()
        account = LiveAccount(client, "aws://test")
        account.snapshot()
        yield account


@pytest.fixture(params=["file", "pages", "memory", "live"])
def rig(request: pytest.FixtureRequest) -> Rig:
    if request.param == "live":
        return Rig(request.getfixturevalue("live_account"), "aws://test", live=True)
    if request.param == "memory":
        snapshot = read_authorization_details(EDGE_CASES_ACCOUNT)
        return Rig(MemoryAccount(snapshot, "main account"), "main account")
    path = EDGE_CASES_ACCOUNT if request.param == "file" else EDGE_CASES_PAGES
    return Rig(AuthorizationDetailsFile(path), str(path))


def test_the_name_is_what_the_user_named(rig: Rig) -> None:
    assert rig.state.name == rig.named


def test_the_snapshot_is_loaded_once_and_handed_out_again(rig: Rig) -> None:
    snapshot = rig.state.snapshot()
    assert rig.state.snapshot() is snapshot
    assert snapshot.account_id == "111122223333"
    assert [p.name for p in snapshot.principals] == [
        "app-role",
        "batch-role",
        "solo-role",
        "orphan-boundary-role",
        "alice",
        "bob",
    ]


@pytest.mark.parametrize(
    ("arn", "expected"),
    [
        (APP_ROLE, APP_ROLE),
        (f"{IAM}:role/app-role", APP_ROLE),
        ("arn:aws:sts::111122223333:assumed-role/app-role/session-1", APP_ROLE),
        (ALICE, ALICE),
    ],
    ids=["full ARN", "without the path", "assumed-role session", "user"],
)
def test_a_principal_is_found_as_cloudtrail_names_it(rig: Rig, arn: str, expected: str) -> None:
    found = rig.state.principal(arn)
    assert found.arn == expected
    assert found is rig.state.snapshot().principal(expected)


@pytest.mark.parametrize(
    "arn",
    [f"{IAM}:role/nobody", f"{IAM}:user/app-role", "arn:aws:iam::444455556666:user/alice"],
    ids=["unknown name", "a role's name as a user", "another account"],
)
def test_an_unknown_principal_is_an_error(rig: Rig, arn: str) -> None:
    with pytest.raises(PrincipalNotFoundError, match=arn):
        rig.state.principal(arn)
    with pytest.raises(PrincipalNotFoundError, match=arn):
        rig.state.effective_policies(arn)


@pytest.mark.parametrize(
    ("arn", "origins", "boundary", "unresolved"),
    [
        (
            APP_ROLE,
            ["inline policy 'app-inline'", f"managed policy {IAM}:policy/shared-s3-read"],
            f"{IAM}:policy/dev-boundary",
            ["managed policy arn:aws:iam::aws:policy/ReadOnlyAccess is not in the snapshot"],
        ),
        (
            ALICE,
            [
                "inline policy 'alice-inline'",
                "inline policy 'dev-inline' of group 'developers'",
                f"managed policy {IAM}:policy/dev-tools via group 'developers'",
                "managed policy arn:aws:iam::aws:policy/SecurityAudit via group 'auditors'",
            ],
            f"{IAM}:policy/dev-boundary",
            [],
        ),
        (f"{IAM}:user/bob", [], None, ["group 'ghost-group' is not in the snapshot"]),
    ],
    ids=["role", "user in groups", "user of a missing group"],
)
def test_effective_policies_are_labelled_and_what_is_missing_is_listed(
    rig: Rig, arn: str, origins: list[str], boundary: str | None, unresolved: list[str]
) -> None:
    if rig.live and arn == APP_ROLE:
        origins = [*origins, "managed policy arn:aws:iam::aws:policy/ReadOnlyAccess"]
    if rig.live:
        unresolved = []
    found = rig.state.effective_policies(arn)
    assert found.principal_arn == arn
    assert [applied.origin.describe() for applied in found.identity] == origins
    assert (found.boundary_arn, found.boundary is not None) == (boundary, boundary is not None)
    assert [missing.describe() for missing in found.unresolved] == unresolved
    assert found == rig.state.snapshot().effective_policies(arn)
